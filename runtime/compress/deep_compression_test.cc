#include "runtime/compress/deep_compression.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "runtime/morph/testing/morph_check.h"

namespace edgenas {
namespace {

TEST(DeepCompressionTest, MagnitudePruningDropsTheSmallestWeightsOfEachLayer) {
  Model m = testing::PresetModel("lenet-300-100");
  const std::vector<std::string> keys = CompressibleWeights(m.graph);
  ASSERT_EQ(keys.size(), 3u);
  const ParamStore before = m.params;
  const PruningMasks masks = MagnitudePrune(&m.params, keys, 0.9);
  for (const std::string& key : keys) {
    const ParamTensor& a = *before.Find(key);
    const ParamTensor& b = *m.params.Find(key);
    const std::vector<uint8_t>& mask = masks.at(key);
    size_t kept = 0;
    float largest_dropped = 0, smallest_kept = INFINITY;
    for (size_t i = 0; i < a.values.size(); ++i) {
      if (mask[i]) {
        ++kept;
        EXPECT_EQ(b.values[i], a.values[i]);
        smallest_kept = std::min(smallest_kept, std::abs(a.values[i]));
      } else {
        EXPECT_EQ(b.values[i], 0.0f);
        largest_dropped = std::max(largest_dropped, std::abs(a.values[i]));
      }
    }
    EXPECT_EQ(kept, a.values.size() - static_cast<size_t>(std::llround(0.9 * a.values.size()))) << key;
    EXPECT_LE(largest_dropped, smallest_kept) << key;
  }
  EXPECT_NEAR(Sparsity(m.params, keys), 0.9, 1e-4);
  // The constraint: whatever an update did, masked weights are zero again.
  for (const std::string& key : keys)
    for (float& v : m.params.Find(key)->values) v += 0.01f;
  ApplyMasks(masks, &m.params);
  EXPECT_NEAR(Sparsity(m.params, keys), 0.9, 1e-4);
}

TEST(DeepCompressionTest, SharingLeavesAtMostTwoToTheBitsValuesPerLayerAndZerosAlone) {
  Model m = testing::PresetModel("lenet5");
  const std::vector<std::string> keys = CompressibleWeights(m.graph);
  MagnitudePrune(&m.params, keys, 0.5);
  const SharedLayers shared = ShareLayerWeights(&m.params, keys, 3);
  for (const std::string& key : keys) {
    std::set<float> distinct;
    for (float v : m.params.Find(key)->values)
      if (v != 0.0f) distinct.insert(v);
    EXPECT_LE(distinct.size(), 8u) << key;
    EXPECT_EQ(shared.at(key).positions.size(),
              static_cast<size_t>(std::count_if(m.params.Find(key)->values.begin(),
                                                m.params.Find(key)->values.end(),
                                                [](float v) { return v != 0.0f; })))
        << key;
  }
  EXPECT_NEAR(Sparsity(m.params, keys), 0.5, 1e-3);
}

TEST(DeepCompressionTest, CentroidsMoveByTheSumOfTheirMembersGradients) {
  Model m = testing::PresetModel("lenet-300-100");
  const std::vector<std::string> keys = {CompressibleWeights(m.graph)[2]};  // the 100 -> 10 layer
  MagnitudePrune(&m.params, keys, 0.5);
  SharedLayers shared = ShareLayerWeights(&m.params, keys, 2);
  const SharedLayer before = shared.at(keys[0]);
  // One plain SGD step with random gradients on every weight, zeros included.
  ParamTensor& w = *m.params.Find(keys[0]);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0, 1);
  const float lr = 0.01f;
  std::vector<float> grad(w.values.size());
  for (size_t i = 0; i < w.values.size(); ++i) {
    grad[i] = g(rng);
    w.values[i] -= lr * grad[i];
  }
  ProjectShared(&shared, &m.params);
  std::vector<double> sum(before.centroids.size(), 0);
  for (size_t i = 0; i < before.positions.size(); ++i) sum[before.cluster[i]] += grad[before.positions[i]];
  const SharedLayer& after = shared.at(keys[0]);
  for (size_t c = 0; c < sum.size(); ++c)
    EXPECT_NEAR(after.centroids[c], before.centroids[c] - lr * sum[c], 1e-5) << c;
  // Members hold their centroid, everything else is zero again.
  std::vector<uint8_t> member(w.values.size(), 0);
  for (size_t i = 0; i < after.positions.size(); ++i) {
    member[after.positions[i]] = 1;
    EXPECT_EQ(w.values[after.positions[i]], after.centroids[after.cluster[i]]);
  }
  for (size_t i = 0; i < w.values.size(); ++i)
    if (!member[i]) EXPECT_EQ(w.values[i], 0.0f);
}

}  // namespace
}  // namespace edgenas
