#include "runtime/compress/weight_sharing.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

// The index of the centroid nearest to v, centroids ascending: the first
// whose midpoint with its successor is above v.
uint32_t Nearest(const std::vector<float>& centroids, const std::vector<double>& midpoints, float v) {
  return static_cast<uint32_t>(std::upper_bound(midpoints.begin(), midpoints.end(), double{v}) -
                               midpoints.begin());
}

}  // namespace

SharedWeights ShareWeights(const std::vector<float>& values, int k, int max_iterations) {
  SharedWeights out;
  if (values.empty() || k < 1) return out;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  out.centroids.resize(k);
  for (int c = 0; c < k; ++c)
    out.centroids[c] = k == 1 ? (*lo + *hi) / 2
                              : static_cast<float>(*lo + (double{*hi} - *lo) * c / (k - 1));
  out.cluster.assign(values.size(), 0);
  std::vector<double> midpoints(k - 1);
  for (int iteration = 0; iteration <= max_iterations; ++iteration) {
    for (int c = 0; c + 1 < k; ++c)
      midpoints[c] = (double{out.centroids[c]} + out.centroids[c + 1]) / 2;
    bool changed = iteration == 0;
    for (size_t i = 0; i < values.size(); ++i) {
      const uint32_t c = Nearest(out.centroids, midpoints, values[i]);
      changed = changed || c != out.cluster[i];
      out.cluster[i] = c;
    }
    if (!changed || iteration == max_iterations) break;
    std::vector<double> sum(k, 0);
    std::vector<int64_t> count(k, 0);
    for (size_t i = 0; i < values.size(); ++i) {
      sum[out.cluster[i]] += values[i];
      ++count[out.cluster[i]];
    }
    for (int c = 0; c < k; ++c)
      if (count[c] > 0) out.centroids[c] = static_cast<float>(sum[c] / count[c]);
    // Means of ordered clusters stay ordered; an empty cluster's old value
    // may not, so restore the order (and the assignment follows next pass).
    std::sort(out.centroids.begin(), out.centroids.end());
  }
  return out;
}

RelativeIndex EncodePositions(const std::vector<int64_t>& positions, int bits) {
  RelativeIndex out;
  const int64_t largest = (int64_t{1} << bits) - 1;
  int64_t previous = -1;
  for (int64_t p : positions) {
    int64_t skipped = p - previous - 1;
    while (skipped > largest) {
      out.gaps.push_back(static_cast<uint32_t>(largest));
      out.filler.push_back(1);
      skipped -= largest + 1;  // the filler itself takes a position
    }
    out.gaps.push_back(static_cast<uint32_t>(skipped));
    out.filler.push_back(0);
    previous = p;
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> DecodePositions(const std::vector<uint32_t>& gaps, int64_t size) {
  std::vector<int64_t> out;
  out.reserve(gaps.size());
  int64_t position = -1;
  for (uint32_t g : gaps) {
    position += int64_t{g} + 1;
    if (position >= size)
      return absl::InvalidArgumentError(
          absl::StrCat("relative index: position ", position, " is past the layer's ", size, " weights"));
    out.push_back(position);
  }
  return out;
}

}  // namespace edgenas
