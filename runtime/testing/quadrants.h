// A tiny classification task for the trainer's and the evaluator's tests:
// four classes, a bright 4x4 square in one quadrant of an 8x8 grey image on
// noise, and a small net that learns it in a few epochs.
#ifndef EDGENAS_RUNTIME_TESTING_QUADRANTS_H_
#define EDGENAS_RUNTIME_TESTING_QUADRANTS_H_

#include <cstdint>

#include "runtime/data/dataset.h"
#include "runtime/graph/graph.h"

namespace edgenas {
namespace testing {

// n images, labels drawn uniformly from the four quadrants.
Dataset QuadrantsDataset(int n, uint64_t seed);

// conv 3x3 (4 channels), batch norm, relu, 2x2 max pool, dense to 4 classes.
Graph QuadrantsNet();

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TESTING_QUADRANTS_H_
