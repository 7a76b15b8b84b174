#include "runtime/train/optimizer.h"

#include <omp.h>

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

ParamStore OneTensor(const std::string& key, std::vector<float> values) {
  ParamStore store;
  ParamTensor t;
  t.dims = {static_cast<int64_t>(values.size())};
  t.values = std::move(values);
  store.Set(key, std::move(t));
  return store;
}

std::map<std::string, ParamTensor> Grad(const std::string& key, std::vector<float> g) {
  ParamTensor t;
  t.dims = {static_cast<int64_t>(g.size())};
  t.values = std::move(g);
  return {{key, std::move(t)}};
}

TEST(SgdTest, MomentumAndWeightDecayFollowPyTorch) {
  OptimizerOptions o;
  o.momentum = 0.9f;
  o.weight_decay = 0.1f;
  auto opt = MakeOptimizer(o);
  ParamStore store = OneTensor("fc/weight", {1.0f});
  // Step 1: g = 0.5 + 0.1 * 1 = 0.6; v = 0.6; w = 1 - 0.1 * 0.6 = 0.94.
  opt->Step(&store, Grad("fc/weight", {0.5f}), 0.1f);
  EXPECT_NEAR(store.Find("fc/weight")->values[0], 0.94f, 1e-6);
  // Step 2: g = 0.5 + 0.094 = 0.594; v = 0.54 + 0.594 = 1.134; w = 0.94 - 0.1134 = 0.8266.
  opt->Step(&store, Grad("fc/weight", {0.5f}), 0.1f);
  EXPECT_NEAR(store.Find("fc/weight")->values[0], 0.8266f, 1e-6);
}

TEST(SgdTest, NesterovLooksAhead) {
  OptimizerOptions o;
  o.momentum = 0.5f;
  o.nesterov = true;
  auto opt = MakeOptimizer(o);
  ParamStore store = OneTensor("w/weight", {0.0f});
  opt->Step(&store, Grad("w/weight", {1.0f}), 1.0f);  // v = 1; step = 1 + 0.5 = 1.5
  EXPECT_NEAR(store.Find("w/weight")->values[0], -1.5f, 1e-6);
  opt->Step(&store, Grad("w/weight", {1.0f}), 1.0f);  // v = 1.5; step = 1 + 0.75
  EXPECT_NEAR(store.Find("w/weight")->values[0], -3.25f, 1e-6);
}

TEST(SgdTest, DecaysOnlyWeightsByDefaultAndSkipsFrozenTensors) {
  OptimizerOptions o;
  o.momentum = 0;
  o.weight_decay = 1.0f;
  auto opt = MakeOptimizer(o);
  ParamStore store = OneTensor("fc/bias", {2.0f});
  ParamTensor frozen;
  frozen.dims = {1};
  frozen.values = {3.0f};
  frozen.trainable = false;
  store.Set("bn/running_mean", frozen);
  auto grads = Grad("fc/bias", {0.0f});
  grads["bn/running_mean"] = grads["fc/bias"];
  grads["bn/running_mean"].values = {1.0f};
  const uint64_t version = store.version();
  opt->Step(&store, grads, 0.5f);
  EXPECT_EQ(store.Find("fc/bias")->values[0], 2.0f);
  EXPECT_EQ(store.Find("bn/running_mean")->values[0], 3.0f);
  EXPECT_GT(store.version(), version);
}

TEST(AdamTest, FirstStepsMatchHandComputedValues) {
  OptimizerOptions o;
  o.kind = OptimizerOptions::Kind::kAdam;
  auto opt = MakeOptimizer(o);
  ParamStore store = OneTensor("w/weight", {1.0f});
  // With bias correction the first step is lr * g / (|g| + eps) = lr * sign(g).
  opt->Step(&store, Grad("w/weight", {0.3f}), 0.01f);
  EXPECT_NEAR(store.Find("w/weight")->values[0], 0.99f, 1e-6);
  // Second step with g = -0.1: m = 0.9*0.03 - 0.01 = 0.017 -> /0.19; v = 0.999*9e-5 + 1e-5 ->
  // /0.001999.
  opt->Step(&store, Grad("w/weight", {-0.1f}), 0.01f);
  const double m = (0.9 * 0.03 + 0.1 * -0.1) / (1 - 0.81);
  const double v = (0.999 * 0.001 * 0.09 + 0.001 * 0.01) / (1 - 0.999 * 0.999);
  EXPECT_NEAR(store.Find("w/weight")->values[0], 0.99 - 0.01 * m / (std::sqrt(v) + 1e-8), 1e-6);
}

// Tensors of odd sizes, more values in all than one thread updates, so the
// threads' shares start and end inside tensors: every value must get
// exactly its own update, as an element-by-element reference computes it.
TEST(OptimizerTest, ManyTensorsSplitAcrossThreadsMatchTheReference) {
  const std::vector<std::pair<std::string, int>> shapes = {
      {"a/bias", 37}, {"a/weight", 70001}, {"b/weight", 5}, {"c/weight", 50003}};
  for (const bool adam : {false, true}) {
    for (const bool nesterov : {false, true}) {
      if (adam && nesterov) continue;
      SCOPED_TRACE(adam ? "adam" : nesterov ? "sgd nesterov" : "sgd");
      OptimizerOptions o;
      if (adam) o.kind = OptimizerOptions::Kind::kAdam;
      o.momentum = 0.9f;
      o.nesterov = nesterov;
      o.weight_decay = 0.01f;
      std::mt19937 rng(7);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      ParamStore store;
      std::map<std::string, ParamTensor> grads;
      // The reference: w, velocity or moments, in double.
      std::map<std::string, std::vector<double>> w, m, v;
      for (const auto& [key, n] : shapes) {
        ParamTensor t, g;
        t.dims = g.dims = {n};
        for (int i = 0; i < n; ++i) t.values.push_back(normal(rng));
        g.values.resize(n);
        w[key].assign(t.values.begin(), t.values.end());
        m[key].assign(n, 0.0);
        v[key].assign(n, 0.0);
        store.Set(key, std::move(t));
        grads[key] = std::move(g);
      }
      const int threads_before = omp_get_max_threads();
      omp_set_num_threads(2);
      auto opt = MakeOptimizer(o);
      const double lr = 0.05;
      for (int step = 1; step <= 3; ++step) {
        for (auto& [key, g] : grads)
          for (float& x : g.values) x = normal(rng);
        opt->Step(&store, grads, static_cast<float>(lr));
        for (const auto& [key, n] : shapes) {
          const double wd = key.find("/weight") != std::string::npos ? o.weight_decay : 0.0;
          for (int i = 0; i < n; ++i) {
            double& wi = w[key][i];
            double& mi = m[key][i];
            double& vi = v[key][i];
            const double gi = grads[key].values[i] + wd * wi;
            if (adam) {
              mi = 0.9 * mi + 0.1 * gi;
              vi = 0.999 * vi + 0.001 * gi * gi;
              const double mh = mi / (1 - std::pow(0.9, step));
              const double vh = vi / (1 - std::pow(0.999, step));
              wi -= lr * mh / (std::sqrt(vh) + 1e-8);
            } else {
              mi = step == 1 ? gi : 0.9 * mi + gi;
              wi -= lr * (nesterov ? gi + 0.9 * mi : mi);
            }
          }
        }
      }
      omp_set_num_threads(threads_before);
      for (const auto& [key, n] : shapes) {
        const std::vector<float>& got = store.Find(key)->values;
        int bad = 0;
        for (int i = 0; i < n; ++i)
          if (std::abs(got[i] - w[key][i]) > 1e-5 * (1 + std::abs(w[key][i]))) ++bad;
        EXPECT_EQ(bad, 0) << key;
      }
    }
  }
}

TEST(OptimizerTest, NamesParse) {
  EXPECT_EQ(*OptimizerKindFromName("adam"), OptimizerOptions::Kind::kAdam);
  EXPECT_FALSE(OptimizerKindFromName("rmsprop").ok());
}

}  // namespace
}  // namespace edgenas
