// Canonical Huffman coding, the last stage of Deep Compression (Han, Mao and
// Dally, ICLR 2016), which codes the cluster indices of shared weights and
// the gaps between the positions of a pruned layer's weights.
//
// A code is fully described by each symbol's code length; codes are
// assigned canonically (shorter first, then by symbol), so only the lengths
// are stored.
#ifndef EDGENAS_RUNTIME_COMPRESS_HUFFMAN_H_
#define EDGENAS_RUNTIME_COMPRESS_HUFFMAN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/compress/bit_stream.h"

namespace edgenas {

// Code lengths stay within this many bits; deeper trees are flattened by
// halving the counts until they fit (a length limit zlib's deflate also
// keeps, at 15 bits, for bounded decoding tables).
inline constexpr int kMaxHuffmanBits = 24;
inline constexpr uint32_t kMaxHuffmanAlphabet = 1u << 20;

class HuffmanCode {
 public:
  // Lengths of an optimal prefix code for `counts` (0 for a symbol that
  // never occurs; a lone symbol gets 1 bit).
  static HuffmanCode FromCounts(const std::vector<uint64_t>& counts);
  // Refuses lengths above kMaxHuffmanBits or that over-fill the code space
  // (Kraft sum above 1).
  static absl::StatusOr<HuffmanCode> FromLengths(std::vector<uint8_t> lengths);

  const std::vector<uint8_t>& lengths() const { return lengths_; }
  // The symbol must have a code (length > 0).
  void Encode(uint32_t symbol, BitWriter* out) const {
    out->Write(codes_[symbol], lengths_[symbol]);
  }
  // DataLoss when the bits run out or spell no code.
  absl::StatusOr<uint32_t> Decode(BitReader* in) const;
  // Total bits of a message with these symbol counts.
  uint64_t EncodedBits(const std::vector<uint64_t>& counts) const;

 private:
  void AssignCodes();

  std::vector<uint8_t> lengths_;
  std::vector<uint32_t> codes_;
  std::vector<uint32_t> count_of_length_;  // [0, kMaxHuffmanBits]
  std::vector<uint32_t> sorted_symbols_;   // by (length, symbol), coded ones only
};

// A self-contained block: the alphabet size, each symbol's code length, the
// number of symbols, the number of bits, then the bits.
std::string HuffmanEncodeBlock(const std::vector<uint32_t>& symbols, uint32_t alphabet);
// Refuses (DataLoss) a block that is truncated, has bytes after its end,
// names an alphabet above `max_alphabet` or more than `max_symbols`
// symbols, or whose bits do not decode to exactly its symbol count.
// `*consumed` (if given) gets the block's size, for blocks in a row.
absl::StatusOr<std::vector<uint32_t>> HuffmanDecodeBlock(std::string_view bytes, uint32_t max_alphabet,
                                                         uint64_t max_symbols, size_t* consumed = nullptr);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_COMPRESS_HUFFMAN_H_
