#include "runtime/compress/huffman.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <queue>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

// Code lengths of a Huffman tree over the symbols with count > 0.
std::vector<uint8_t> TreeLengths(const std::vector<uint64_t>& counts, int* deepest) {
  std::vector<uint8_t> lengths(counts.size(), 0);
  std::vector<int> parent;
  std::vector<uint32_t> leaf_symbol;
  using Item = std::pair<uint64_t, int>;  // weight, node; ties broken by node for determinism
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  for (size_t s = 0; s < counts.size(); ++s) {
    if (counts[s] == 0) continue;
    queue.push({counts[s], static_cast<int>(parent.size())});
    parent.push_back(-1);
    leaf_symbol.push_back(static_cast<uint32_t>(s));
  }
  *deepest = 0;
  const size_t leaves = leaf_symbol.size();
  if (leaves == 0) return lengths;
  if (leaves == 1) {
    lengths[leaf_symbol[0]] = 1;
    *deepest = 1;
    return lengths;
  }
  while (queue.size() > 1) {
    const Item a = queue.top();
    queue.pop();
    const Item b = queue.top();
    queue.pop();
    const int node = static_cast<int>(parent.size());
    parent.push_back(-1);
    parent[a.second] = node;
    parent[b.second] = node;
    queue.push({a.first + b.first, node});
  }
  for (size_t leaf = 0; leaf < leaves; ++leaf) {
    int depth = 0;
    for (int n = static_cast<int>(leaf); parent[n] != -1; n = parent[n]) ++depth;
    lengths[leaf_symbol[leaf]] = static_cast<uint8_t>(std::min(depth, 255));
    *deepest = std::max(*deepest, depth);
  }
  return lengths;
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
bool GetU32(std::string_view in, size_t* at, uint32_t* v) {
  if (in.size() - *at < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(in[*at + i])) << (8 * i);
  *at += 4;
  return true;
}
bool GetU64(std::string_view in, size_t* at, uint64_t* v) {
  if (in.size() - *at < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(in[*at + i])) << (8 * i);
  *at += 8;
  return true;
}

}  // namespace

HuffmanCode HuffmanCode::FromCounts(const std::vector<uint64_t>& counts) {
  std::vector<uint64_t> c = counts;
  for (;;) {
    int deepest = 0;
    std::vector<uint8_t> lengths = TreeLengths(c, &deepest);
    if (deepest <= kMaxHuffmanBits) {
      HuffmanCode code;
      code.lengths_ = std::move(lengths);
      code.AssignCodes();
      return code;
    }
    for (uint64_t& n : c)
      if (n > 0) n = std::max<uint64_t>(1, n / 2);
  }
}

absl::StatusOr<HuffmanCode> HuffmanCode::FromLengths(std::vector<uint8_t> lengths) {
  // Kraft: sum of 2^-l over coded symbols, in units of 2^-kMaxHuffmanBits.
  uint64_t used = 0;
  for (size_t s = 0; s < lengths.size(); ++s) {
    if (lengths[s] > kMaxHuffmanBits)
      return absl::DataLossError(absl::StrCat("huffman: symbol ", s, " has a ",
                                              int{lengths[s]}, "-bit code"));
    if (lengths[s] > 0) used += uint64_t{1} << (kMaxHuffmanBits - lengths[s]);
  }
  if (used > (uint64_t{1} << kMaxHuffmanBits))
    return absl::DataLossError("huffman: the code lengths over-fill the code space");
  HuffmanCode code;
  code.lengths_ = std::move(lengths);
  code.AssignCodes();
  return code;
}

void HuffmanCode::AssignCodes() {
  count_of_length_.assign(kMaxHuffmanBits + 1, 0);
  for (uint8_t l : lengths_)
    if (l > 0) ++count_of_length_[l];
  std::vector<uint32_t> next(kMaxHuffmanBits + 2, 0);
  uint32_t code = 0;
  for (int l = 1; l <= kMaxHuffmanBits; ++l) {
    code = (code + count_of_length_[l - 1]) << 1;
    next[l] = code;
  }
  // count_of_length_[0] counted nothing above; the loop's first step used it as 0.
  codes_.assign(lengths_.size(), 0);
  sorted_symbols_.clear();
  for (int l = 1; l <= kMaxHuffmanBits; ++l)
    for (size_t s = 0; s < lengths_.size(); ++s)
      if (lengths_[s] == l) {
        codes_[s] = next[l]++;
        sorted_symbols_.push_back(static_cast<uint32_t>(s));
      }
}

absl::StatusOr<uint32_t> HuffmanCode::Decode(BitReader* in) const {
  // Canonical decoding: the codes of one length are consecutive, starting
  // at `first`; `index` is where that length's symbols start in sorted order.
  uint32_t code = 0, first = 0, index = 0;
  for (int l = 1; l <= kMaxHuffmanBits; ++l) {
    int bit = 0;
    if (!in->ReadBit(&bit)) return absl::DataLossError("huffman: the bits end inside a code");
    code |= static_cast<uint32_t>(bit);
    const uint32_t count = count_of_length_[l];
    if (code - first < count) return sorted_symbols_[index + (code - first)];
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return absl::DataLossError("huffman: bits that spell no code");
}

uint64_t HuffmanCode::EncodedBits(const std::vector<uint64_t>& counts) const {
  uint64_t bits = 0;
  for (size_t s = 0; s < counts.size() && s < lengths_.size(); ++s) bits += counts[s] * lengths_[s];
  return bits;
}

std::string HuffmanEncodeBlock(const std::vector<uint32_t>& symbols, uint32_t alphabet) {
  std::vector<uint64_t> counts(alphabet, 0);
  for (uint32_t s : symbols) ++counts[s];
  const HuffmanCode code = HuffmanCode::FromCounts(counts);
  BitWriter bits;
  for (uint32_t s : symbols) code.Encode(s, &bits);
  std::string out;
  PutU32(&out, alphabet);
  out.append(reinterpret_cast<const char*>(code.lengths().data()), code.lengths().size());
  PutU64(&out, symbols.size());
  PutU64(&out, bits.bit_count());
  out += bits.Finish();
  return out;
}

absl::StatusOr<std::vector<uint32_t>> HuffmanDecodeBlock(std::string_view bytes, uint32_t max_alphabet,
                                                         uint64_t max_symbols, size_t* consumed) {
  size_t at = 0;
  uint32_t alphabet = 0;
  if (!GetU32(bytes, &at, &alphabet)) return absl::DataLossError("huffman block: truncated header");
  if (alphabet > max_alphabet || alphabet > kMaxHuffmanAlphabet)
    return absl::DataLossError(absl::StrCat("huffman block: an alphabet of ", alphabet,
                                            " symbols, above the ", max_alphabet, " allowed"));
  if (bytes.size() - at < alphabet) return absl::DataLossError("huffman block: truncated code lengths");
  std::vector<uint8_t> lengths(bytes.begin() + at, bytes.begin() + at + alphabet);
  at += alphabet;
  absl::StatusOr<HuffmanCode> code = HuffmanCode::FromLengths(std::move(lengths));
  if (!code.ok()) return code.status();
  uint64_t count = 0, bit_count = 0;
  if (!GetU64(bytes, &at, &count) || !GetU64(bytes, &at, &bit_count))
    return absl::DataLossError("huffman block: truncated header");
  if (count > max_symbols)
    return absl::DataLossError(absl::StrCat("huffman block: ", count, " symbols, above the ",
                                            max_symbols, " expected"));
  const uint64_t payload = (bit_count + 7) / 8;
  if (bit_count > uint64_t{1} << 60 || bytes.size() - at < payload)
    return absl::DataLossError("huffman block: truncated bits");
  if (consumed == nullptr && bytes.size() - at != payload)
    return absl::DataLossError("huffman block: bytes after its end");
  if (count > 0 && bit_count < count)  // every code is at least one bit
    return absl::DataLossError("huffman block: fewer bits than symbols");
  BitReader in(bytes.substr(at, payload), bit_count);
  std::vector<uint32_t> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    absl::StatusOr<uint32_t> s = code->Decode(&in);
    if (!s.ok()) return s.status();
    out.push_back(*s);
  }
  if (in.remaining() != 0) return absl::DataLossError("huffman block: bits left after the last symbol");
  if (consumed != nullptr) *consumed = at + payload;
  return out;
}

}  // namespace edgenas
