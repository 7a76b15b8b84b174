#include "runtime/testing/quadrants.h"

#include <random>
#include <string>

#include "runtime/graph/blocks.h"

namespace edgenas {
namespace testing {

Dataset QuadrantsDataset(int n, uint64_t seed) {
  Dataset d;
  d.channels = 1, d.height = 8, d.width = 8, d.num_classes = 4;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % 4);
    d.labels.push_back(static_cast<uint8_t>(label));
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) {
        const bool on = (y / 4) * 2 + (x / 4) == label;
        d.images.push_back(static_cast<uint8_t>((on ? 150 : 0) + rng() % 100));
      }
  }
  return d;
}

Graph QuadrantsNet() {
  Graph g;
  g.input = Shape3{1, 8, 8};
  g.num_classes = 4;
  GraphBuilder b(&g);
  std::string x = b.Act("r", b.BatchNorm("bn", b.Conv("c", "input", 4, 3, 1, 1)), OpKind::kRelu);
  b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 2, 2), 4);
  return g;
}

}  // namespace testing
}  // namespace edgenas
