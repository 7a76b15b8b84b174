// An image of uniformly random pixels, for the image reader's and the
// classifier's tests.
#ifndef EDGENAS_RUNTIME_API_TESTING_RANDOM_IMAGE_H_
#define EDGENAS_RUNTIME_API_TESTING_RANDOM_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "edgenas/classifier.h"

namespace edgenas {
namespace testing {

inline Image RandomImage(int width, int height, int channels, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Image image{width, height, channels, std::vector<uint8_t>(size_t(width) * height * channels)};
  for (uint8_t& v : image.pixels) v = static_cast<uint8_t>(rng() & 0xff);
  return image;
}

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_API_TESTING_RANDOM_IMAGE_H_
