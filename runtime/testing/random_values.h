// Random parameters and inputs for tests that run a net: the executor's
// (net_test.cc, net_plan_test.cc) and the model file's. Test-only (uses
// GoogleTest).
#ifndef EDGENAS_RUNTIME_TESTING_RANDOM_VALUES_H_
#define EDGENAS_RUNTIME_TESTING_RANDOM_VALUES_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/exec/params.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {
namespace testing {

// Random values everywhere, batch-norm statistics included, so nothing is
// checked at a trivial point (gamma 1, beta 0, mean 0, var 1).
inline ParamStore RandomParams(const Graph& g, const GraphInfo& info, uint64_t seed) {
  ParamStore store;
  std::mt19937_64 rng(seed);
  EXPECT_TRUE(InitParams(g, info, &store, rng).ok());
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (auto& [key, t] : store.mutable_tensors()) {
    if (key.find("/gamma") != std::string::npos || key.find("running_var") != std::string::npos) {
      for (float& x : t.values) x = 1.0f + u(rng);
    } else if (key.find("/weight") == std::string::npos) {
      for (float& x : t.values) x = u(rng);
    }
  }
  store.Touch();
  return store;
}

inline std::vector<float> RandomInput(const Graph& g, int batch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(size_t(batch) * g.input.channels * g.input.height * g.input.width);
  for (float& v : x) v = n(rng);
  return x;
}

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TESTING_RANDOM_VALUES_H_
