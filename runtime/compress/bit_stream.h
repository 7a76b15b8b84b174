// Bits written most significant first into bytes, and read back with every
// read checked against the end: a truncated stream is an error, never a
// read past the buffer.
#ifndef EDGENAS_RUNTIME_COMPRESS_BIT_STREAM_H_
#define EDGENAS_RUNTIME_COMPRESS_BIT_STREAM_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace edgenas {

class BitWriter {
 public:
  // The low `count` bits of `bits` (count <= 57), most significant first.
  void Write(uint64_t bits, int count) {
    for (int i = count - 1; i >= 0; --i) {
      current_ = static_cast<uint8_t>((current_ << 1) | ((bits >> i) & 1));
      if (++filled_ == 8) {
        bytes_.push_back(static_cast<char>(current_));
        current_ = 0;
        filled_ = 0;
      }
    }
    bit_count_ += static_cast<uint64_t>(count);
  }
  uint64_t bit_count() const { return bit_count_; }
  // The bytes so far, the last one padded with zero bits.
  std::string Finish() const {
    std::string out = bytes_;
    if (filled_ > 0) out.push_back(static_cast<char>(current_ << (8 - filled_)));
    return out;
  }

 private:
  std::string bytes_;
  uint8_t current_ = 0;
  int filled_ = 0;
  uint64_t bit_count_ = 0;
};

class BitReader {
 public:
  // Reads at most `bit_count` bits of `bytes`, and never past its end.
  BitReader(std::string_view bytes, uint64_t bit_count)
      : bytes_(bytes), end_(bit_count < uint64_t{bytes.size()} * 8 ? bit_count : uint64_t{bytes.size()} * 8) {}

  // False (and nothing read) when fewer than `count` bits remain.
  bool Read(int count, uint64_t* out) {
    if (end_ - position_ < static_cast<uint64_t>(count)) return false;
    uint64_t v = 0;
    for (int i = 0; i < count; ++i) v = (v << 1) | NextBit();
    *out = v;
    return true;
  }
  bool ReadBit(int* bit) {
    if (position_ >= end_) return false;
    *bit = NextBit();
    return true;
  }
  uint64_t remaining() const { return end_ - position_; }

 private:
  int NextBit() {
    const uint8_t byte = static_cast<uint8_t>(bytes_[position_ >> 3]);
    const int bit = (byte >> (7 - (position_ & 7))) & 1;
    ++position_;
    return bit;
  }

  std::string_view bytes_;
  uint64_t end_;
  uint64_t position_ = 0;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_COMPRESS_BIT_STREAM_H_
