#include "runtime/supernet/macro_space.h"

#include <cmath>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"

namespace edgenas {
namespace supernet {
namespace {

std::vector<int> RandomDecisions(const MacroSpaceConfig& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> d;
  for (int n : MacroDecisionChoices(c)) d.push_back(static_cast<int>(rng() % n));
  return d;
}

std::set<std::string> KeysOf(const Graph& g) {
  std::set<std::string> keys;
  const GraphInfo info = *AnalyzeGraph(g);
  for (int v = 0; v < static_cast<int>(g.nodes.size()); ++v)
    for (const ParamSpec& s : ParamSpecs(g, info, v)) keys.insert(s.key);
  return keys;
}

TEST(EnasMacroSpaceTest, DecisionsAreAnOpThenTheSkipBitsOfEachLayer) {
  MacroSpaceConfig c;
  const std::vector<int> choices = MacroDecisionChoices(c);
  EXPECT_EQ(choices.size(), 12u + 66u);
  EXPECT_EQ(choices[0], kMacroOps);
  EXPECT_EQ(choices[1], kMacroOps);  // layer 1's op
  EXPECT_EQ(choices[2], 2);          // layer 1's skip from layer 0
  EXPECT_EQ(c.Reductions(), (std::vector<int>{3, 7}));
}

TEST(EnasMacroSpaceTest, EveryChildRunsOnTheSharedWeightsAndTrainsOnlyItsOwn) {
  MacroSpaceConfig c;
  c.layers = 6;
  c.filters = 8;
  absl::StatusOr<ParamStore> shared = MacroSharedParams(c, 1);
  ASSERT_TRUE(shared.ok()) << shared.status();
  std::set<std::string> all;
  for (const auto& [k, t] : shared->tensors()) all.insert(k);
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    absl::StatusOr<Graph> child = MacroChild(c, RandomDecisions(c, seed));
    ASSERT_TRUE(child.ok()) << child.status();
    const std::set<std::string> keys = KeysOf(*child);
    for (const std::string& k : keys) ASSERT_EQ(all.count(k), 1u) << k << " is not a shared weight";
    EXPECT_LT(keys.size(), all.size());
    absl::StatusOr<std::unique_ptr<CompiledNet>> net =
        CompiledNet::Create(*child, &*shared, NetOptions{NetMode::kTrain, 4, 1, false});
    ASSERT_TRUE(net.ok()) << net.status();
    std::vector<float> x(4 * 28 * 28, 0.5f), dlogits(4 * 10, 0.1f);
    (*net)->Forward(x.data());
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(std::isfinite((*net)->Logits()[i]));
    (*net)->Backward(dlogits.data());
    // Gradients for exactly the child's weights.
    std::set<std::string> grads;
    for (const auto& [k, g] : (*net)->Grads()) grads.insert(k);
    for (const std::string& k : grads) EXPECT_EQ(keys.count(k), 1u) << k;
  }
}

TEST(EnasMacroSpaceTest, TheSameChoiceReadsTheSameWeights) {
  MacroSpaceConfig c;
  c.layers = 4;
  std::vector<int> a = RandomDecisions(c, 3), b = RandomDecisions(c, 4);
  a[0] = b[0] = static_cast<int>(MacroOp::kSepConv5);  // layer 0's op
  const std::set<std::string> ka = KeysOf(*MacroChild(c, a)), kb = KeysOf(*MacroChild(c, b));
  EXPECT_EQ(ka.count("l0/sep5/dw/weight"), 1u);
  EXPECT_EQ(kb.count("l0/sep5/dw/weight"), 1u);
}

TEST(EnasMacroSpaceTest, BadDecisionsAndConfigsAreRefused) {
  MacroSpaceConfig c;
  c.layers = 3;
  std::vector<int> d = RandomDecisions(c, 1);
  d[0] = kMacroOps;
  EXPECT_EQ(MacroChild(c, d).status().code(), absl::StatusCode::kInvalidArgument);
  d.pop_back();
  EXPECT_EQ(MacroChild(c, d).status().code(), absl::StatusCode::kInvalidArgument);
  c.reduce_after = {2};
  EXPECT_FALSE(c.Validate().ok());
}

}  // namespace
}  // namespace supernet
}  // namespace edgenas
