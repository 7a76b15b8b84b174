// Deep Compression's middle stages (Han, Mao and Dally, ICLR 2016) for one
// layer's weights: weight sharing by k-means, and the relative indexing of
// a pruned layer's positions.
#ifndef EDGENAS_RUNTIME_COMPRESS_WEIGHT_SHARING_H_
#define EDGENAS_RUNTIME_COMPRESS_WEIGHT_SHARING_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace edgenas {

// k shared values and, for each weight clustered, the index of its value.
struct SharedWeights {
  std::vector<float> centroids;  // ascending
  std::vector<uint32_t> cluster;
};

// 1-D k-means over `values` with linear initialisation (k centroids evenly
// spaced from the smallest value to the largest, the paper's best choice:
// large weights, few but important, keep centroids of their own), then
// Lloyd's iterations until no assignment changes or `max_iterations`. A
// cluster left empty keeps its centroid. k >= 1; fewer distinct values than
// k give duplicate-free centroids only where the data has them.
SharedWeights ShareWeights(const std::vector<float>& values, int k, int max_iterations = 300);

// The positions of a sparse layer's kept weights, as Deep Compression stores
// them: each entry's distance from the previous entry, minus one (the zeros
// skipped), in symbols of `bits` bits. A run of zeros longer than the largest
// symbol is bridged by filler entries, which stand for a stored zero weight
// at the position they reach.
struct RelativeIndex {
  std::vector<uint32_t> gaps;     // zeros skipped before each entry, < 2^bits
  std::vector<uint8_t> filler;    // 1 where the entry is a filler
};

// `positions` ascending, distinct; bits in [1, 16].
RelativeIndex EncodePositions(const std::vector<int64_t>& positions, int bits);
// The positions of the entries (fillers included, flagged by `filler`);
// InvalidArgument when they pass `size`.
absl::StatusOr<std::vector<int64_t>> DecodePositions(const std::vector<uint32_t>& gaps, int64_t size);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_COMPRESS_WEIGHT_SHARING_H_
