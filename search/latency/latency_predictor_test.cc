#include "search/latency/latency_predictor.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/bench/kernel_key.h"
#include "runtime/bench/kernel_profile.h"
#include "runtime/graph/analyze.h"
#include "search/space/mobile_space.h"

namespace edgenas {
namespace {

using ::testing::HasSubstr;

// A made-up device on which kernels are exactly additive: each key has a
// latency of its own, and a net takes a * sum + b.
constexpr double kScale = 1.25, kOffset = 0.04;

double TrueKernelMs(const std::string& key) {
  return 1e-3 + 1e-3 * static_cast<double>(std::hash<std::string>()(key) % 1000);
}

NetSample ExactSample(const std::vector<std::string>& keys) {
  NetSample n;
  double sum = 0;
  for (const std::string& k : keys) {
    n.kernels.push_back({k, TrueKernelMs(k)});
    sum += TrueKernelMs(k);
  }
  n.measured_ms = kScale * sum + kOffset;
  return n;
}

std::vector<Graph> SpaceGraphs(int n, uint64_t seed) {
  MobileSpace space;
  std::mt19937_64 rng(seed);
  std::vector<Graph> graphs;
  for (int i = 0; i < n; ++i) graphs.push_back(BuildGraph(space.Sample(rng), space));
  return graphs;
}

std::vector<std::string> KeysOf(const Graph& g) {
  absl::StatusOr<std::vector<std::string>> keys = InferenceKernelKeys(g);
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *keys : std::vector<std::string>();
}

TEST(LatencyPredictorTest, RecoversAnExactCalibrationAndPredictsExactly) {
  std::vector<NetSample> nets;
  const std::vector<Graph> graphs = SpaceGraphs(12, 7);
  for (const Graph& g : graphs) nets.push_back(ExactSample(KeysOf(g)));
  absl::StatusOr<LatencyPredictor> p = LatencyPredictor::Fit("host-cpu", nets);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_NEAR(p->scale(), kScale, 1e-9);
  EXPECT_NEAR(p->offset_ms(), kOffset, 1e-9);
  EXPECT_EQ(p->calibration_nets(), 12);
  for (size_t i = 0; i < graphs.size(); ++i) {
    absl::StatusOr<double> ms = p->Predict(graphs[i]);
    ASSERT_TRUE(ms.ok()) << ms.status();
    EXPECT_NEAR(*ms, nets[i].measured_ms, 1e-9 * nets[i].measured_ms);
  }
  // A net never measured, made of measured kernels, is predicted exactly too.
  std::vector<std::string> mix = KeysOf(graphs[0]);
  for (const std::string& k : KeysOf(graphs[1])) mix.push_back(k);
  absl::StatusOr<LatencyPrediction> both = p->PredictKernels(mix);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->unseen, 0);
  EXPECT_EQ(both->kernels, static_cast<int>(mix.size()));
  EXPECT_NEAR(both->ms, ExactSample(mix).measured_ms, 1e-9 * both->ms);
}

TEST(LatencyPredictorTest, TheTableKeepsTheMedianOfAKeysSamples) {
  const std::string key = "conv k1x1 s1 g1 c8>16 in8x8x8";
  std::vector<NetSample> nets;
  for (double ms : {1.0, 1.1, 100.0, 0.9, 1.05}) nets.push_back(NetSample{{{key, ms}}, 2 * ms});
  absl::StatusOr<LatencyPredictor> p = LatencyPredictor::Fit("rpi4", nets, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->TableMs(key), 1.05);
  EXPECT_EQ(p->TableMs("conv k1x1 s1 g1 c8>32 in8x8x8"), std::nullopt);
  EXPECT_EQ(p->scale(), 1);  // no calibration nets: the sum as it is
  EXPECT_EQ(p->offset_ms(), 0);
}

TEST(LatencyPredictorTest, UnseenKeysFallBackToTheirFamilysLine) {
  // Pointwise convs at 0.002 ms + 1e-6 ms per multiply-add, exactly.
  auto pointwise = [](int cin, int cout, int hw) {
    return absl::StrCat("conv k1x1 s1 g1 c", cin, ">", cout, " in", cin, "x", hw, "x", hw);
  };
  auto line = [](const std::string& key) { return 0.002 + 1e-6 * ParseKernelKey(key)->macs; };
  std::vector<NetSample> nets;
  for (auto [cin, cout, hw] : {std::tuple{8, 16, 8}, {16, 16, 14}, {32, 64, 7}, {24, 48, 4}})
    nets.push_back(NetSample{{{pointwise(cin, cout, hw), line(pointwise(cin, cout, hw))}}, 0});
  nets.push_back(NetSample{{{"add n2 in16x8x8", 0.003}, {"add n2 in32x8x8", 0.005}}, 0});
  absl::StatusOr<LatencyPredictor> p = LatencyPredictor::Fit("host-cpu", nets, {});
  ASSERT_TRUE(p.ok()) << p.status();

  const std::string unseen = pointwise(48, 96, 14);
  bool was_unseen = false;
  absl::StatusOr<double> ms = p->KernelMs(unseen, &was_unseen);
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_TRUE(was_unseen);
  EXPECT_NEAR(*ms, line(unseen), 1e-9);
  // Seen keys come from the table itself.
  EXPECT_TRUE(p->KernelMs(pointwise(8, 16, 8), &was_unseen).ok());
  EXPECT_FALSE(was_unseen);
  // add: the line through its two entries (2048 elements read: 0.003 ms; 4096: 0.005 ms).
  EXPECT_NEAR(*p->KernelMs("add n2 in64x8x8"), 0.009, 1e-9);
  // A depthwise conv has no family entries: the conv op's line stands in.
  EXPECT_TRUE(p->KernelMs("conv k3x3 s1 g32 c32>32 in32x8x8").ok());
  // An op never measured: the line over every entry.
  EXPECT_TRUE(p->KernelMs("pool max k2 s2 in8x8x8").ok());
  absl::StatusOr<LatencyPrediction> pred = p->PredictKernels({unseen, pointwise(8, 16, 8)});
  ASSERT_TRUE(pred.ok());
  EXPECT_EQ(pred->unseen, 1);
  EXPECT_EQ(p->KernelMs("conv k3x3 in").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LatencyPredictorTest, JsonRoundTripPredictsTheSame) {
  std::vector<NetSample> nets;
  const std::vector<Graph> graphs = SpaceGraphs(10, 11);
  for (const Graph& g : graphs) nets.push_back(ExactSample(KeysOf(g)));
  // Fit the table on half the graphs, so the other half needs fallbacks.
  std::vector<NetSample> half(nets.begin(), nets.begin() + 5);
  absl::StatusOr<LatencyPredictor> p = LatencyPredictor::Fit("pixel7", half, half);
  ASSERT_TRUE(p.ok()) << p.status();
  const nlohmann::json j = p->ToJson();
  absl::StatusOr<LatencyPredictor> back =
      LatencyPredictor::FromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), j);
  EXPECT_EQ(back->device_class(), "pixel7");
  int unseen = 0;
  for (const Graph& g : graphs) {
    absl::StatusOr<LatencyPrediction> a = p->PredictKernels(KeysOf(g));
    absl::StatusOr<LatencyPrediction> b = back->PredictKernels(KeysOf(g));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->ms, b->ms);
    unseen += a->unseen;
  }
  EXPECT_GT(unseen, 0);
}

TEST(LatencyPredictorTest, FromJsonNamesTheBadField) {
  std::vector<NetSample> nets{ExactSample({"add n2 in4x4x4", "relu in4x4x4"})};
  const nlohmann::json good = LatencyPredictor::Fit("host-cpu", nets)->ToJson();
  auto refused = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = good;
    edit(j);
    absl::StatusOr<LatencyPredictor> p = LatencyPredictor::FromJson(j);
    return p.ok() ? std::string("accepted") : std::string(p.status().message());
  };
  EXPECT_THAT(refused([](nlohmann::json& j) { j["table"][0]["ms"] = -1; }),
              HasSubstr("predictor.table[0].ms"));
  EXPECT_THAT(refused([](nlohmann::json& j) { j.erase("calibration"); }),
              HasSubstr("predictor.calibration: missing"));
  EXPECT_THAT(refused([](nlohmann::json& j) { j["calibration"]["scale"] = 0; }),
              HasSubstr("predictor.calibration.scale"));
  EXPECT_THAT(refused([](nlohmann::json& j) { j["table"].push_back(j["table"][0]); }),
              HasSubstr("listed twice"));
  EXPECT_THAT(refused([](nlohmann::json& j) { j["extra"] = 1; }),
              HasSubstr("predictor.extra: unknown field"));
  EXPECT_THAT(refused([](nlohmann::json& j) { j["table"] = nlohmann::json::array(); }),
              HasSubstr("non-empty"));
}

TEST(LatencyPredictorTest, FitRefusesWhatItCannotUse) {
  EXPECT_EQ(LatencyPredictor::Fit("host-cpu", {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      LatencyPredictor::Fit("host-cpu", {NetSample{{{"relu in4x4x4", -1}}, 1}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LatencyPredictor::Fit("host-cpu", {NetSample{{{"nonsense", 1}}, 1}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      LatencyPredictor::Fit("host-cpu", {NetSample{{{"relu in4x4x4", 1}}, 0}}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgenas
