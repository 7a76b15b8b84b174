#include "runtime/data/seeded_shuffle.h"

#include <cassert>
#include <numeric>
#include <utility>

namespace edgenas {

uint64_t UniformBelow(uint64_t bound, std::mt19937_64* rng) {
  assert(bound > 0);
  // Rejecting the top partial block of the 2^64 range removes modulo bias.
  uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % bound);
  uint64_t draw;
  do {
    draw = (*rng)();
  } while (draw >= limit);
  return draw % bound;
}

std::vector<int64_t> SeededPermutation(int64_t n, std::mt19937_64* rng) {
  std::vector<int64_t> order(static_cast<size_t>(n > 0 ? n : 0));
  std::iota(order.begin(), order.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(UniformBelow(static_cast<uint64_t>(i) + 1, rng));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace edgenas
