// Seeded permutations that come out the same on every platform.
//
// std::shuffle and std::uniform_int_distribution are implementation-defined,
// so the same seed could give a different validation split or batch order
// under another standard library. These helpers use only the raw output of
// std::mt19937_64, whose sequence the standard fixes.
#ifndef EDGENAS_RUNTIME_DATA_SEEDED_SHUFFLE_H_
#define EDGENAS_RUNTIME_DATA_SEEDED_SHUFFLE_H_

#include <cstdint>
#include <random>
#include <vector>

namespace edgenas {

// A uniform draw from [0, bound). Requires bound > 0.
uint64_t UniformBelow(uint64_t bound, std::mt19937_64* rng);

// Returns 0, 1, ..., n-1 in an order drawn from `*rng` (Fisher-Yates).
std::vector<int64_t> SeededPermutation(int64_t n, std::mt19937_64* rng);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_DATA_SEEDED_SHUFFLE_H_
