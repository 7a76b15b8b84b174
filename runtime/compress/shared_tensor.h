// Deep Compression's storage of one weight tensor (Han, Mao and Dally, ICLR
// 2016, section 4 and figure 1): the positions of its nonzero weights as a
// relative index, each weight as an index into a codebook of its distinct
// values, both index streams Huffman-coded. Lossless for any tensor: a
// pruned and weight-shared one (few distinct values, many zeros) comes out
// small, and decoding gives back every value bit for bit.
#ifndef EDGENAS_RUNTIME_COMPRESS_SHARED_TENSOR_H_
#define EDGENAS_RUNTIME_COMPRESS_SHARED_TENSOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace edgenas {

// Above this many distinct values a codebook stops paying (16-bit indices,
// half of fp32, before Huffman).
inline constexpr size_t kMaxCodebook = 1 << 16;

struct SharedTensorCode {
  // The distinct nonzero values, ascending by bit pattern; cluster symbol
  // codebook.size() marks a filler entry (a stored zero).
  std::vector<float> codebook;
  int index_bits = 0;     // width of a relative-index symbol, [1, 16]
  std::string gaps;       // HuffmanEncodeBlock of the relative index
  std::string clusters;   // HuffmanEncodeBlock of the codebook indices

  // What it takes on disk, headers aside.
  size_t bytes() const { return codebook.size() * sizeof(float) + gaps.size() + clusters.size(); }
};

// The smallest coding of `values` over the index widths 1-16 (Deep
// Compression fixes 8 bits for conv layers and 5 for dense ones; a per-tensor
// choice is never larger). nullopt when the tensor has more than
// kMaxCodebook distinct nonzero values. Zero is the bit pattern +0.0 only.
std::optional<SharedTensorCode> EncodeSharedTensor(const std::vector<float>& values);

// The `count` values back; DataLoss for a code that is damaged, inconsistent
// or does not fill exactly `count` values' positions.
absl::StatusOr<std::vector<float>> DecodeSharedTensor(const SharedTensorCode& code, int64_t count);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_COMPRESS_SHARED_TENSOR_H_
