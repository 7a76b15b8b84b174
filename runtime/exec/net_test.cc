// The executor against the reference interpreter (forward, both modes) and
// against central finite differences (backward), op by op and per preset.
#include "runtime/exec/net.h"

#include <omp.h>

#include <cmath>
#include <functional>
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/presets.h"
#include "runtime/testing/random_values.h"
#include "runtime/testing/reference_forward.h"

namespace edgenas {
namespace {

using testing::RandomInput;
using testing::RandomParams;

struct OpCase {
  std::string name;
  std::function<void(GraphBuilder&, Graph&)> build;  // appends nodes; the last is the output
  Shape3 input{3, 9, 9};
};

// conv(3 -> c) with a bias, so parameters sit upstream of the op under test.
std::string Stem(GraphBuilder& b, int c, const std::string& name = "stem") {
  return b.Conv(name, "input", c, 3, 1, 1);
}

std::vector<OpCase> OpCases() {
  std::vector<OpCase> cases;
  auto add = [&](std::string name, std::function<void(GraphBuilder&, Graph&)> f,
                 Shape3 in = Shape3{3, 9, 9}) {
    cases.push_back({std::move(name), std::move(f), in});
  };
  add("conv", [](GraphBuilder& b, Graph&) { b.Dense("fc", b.Conv("c", "input", 4, 3, 1, 1), 5); });
  add("conv_strided_dilated_nobias", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Conv("c", "input", 6, 3, 2, 2, 1, false, 2), 5);
  });
  add("conv_rect_kernel", [](GraphBuilder& b, Graph& g) {
    std::string x = b.Conv("c", "input", 4, 3, 1, 0);
    g.nodes.back().conv.kernel_w = 5;
    g.nodes.back().conv.pad_w = 2;
    b.Dense("fc", x, 5);
  });
  add("conv_grouped",
      [](GraphBuilder& b, Graph&) { b.Dense("fc", b.Conv("g", Stem(b, 6), 6, 3, 1, 1, 3), 5); });
  add("conv_depthwise", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Conv("dw", Stem(b, 16), 16, 3, 2, 1, 16), 5);
  });
  // Kernels past 3x3: the weight gradient is ours, not oneDNN's (dw_conv_grad.h).
  add("conv_depthwise_5x5", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Conv("dw", Stem(b, 20), 20, 5, 1, 2, 20), 5);
  });
  add("conv_depthwise_5x5_strided_dilated_nobias", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Conv("dw", Stem(b, 16), 16, 5, 2, 3, 16, false, 2), 5);
  });
  // 3x3 stride-1 convs of 8 or more channels: our Winograd kernel at batch 1
  // (winograd.h), a 2x2 max pool after one fused into it when our kernel
  // applies the activation between (9x9 leaves a row and a column out).
  for (OpKind act : {OpKind::kRelu, OpKind::kRelu6, OpKind::kHardSwish, OpKind::kHardSigmoid}) {
    add(absl::StrCat("conv_winograd_bn_", OpName(act), "_max_pool"),
        [act](GraphBuilder& b, Graph&) {
          std::string x = b.ConvBnAct("w", Stem(b, 12), 12, 20, 3, 1, 1, act);
          b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 2, 2, 0), 5);
        });
  }
  add("conv_winograd_max_pool", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Pool("p", b.Conv("w", Stem(b, 8), 16, 3), OpKind::kMaxPool, 2, 2, 0), 5);
  });
  add("conv_winograd_pad0",
      [](GraphBuilder& b, Graph&) { b.Dense("fc", b.Conv("w", Stem(b, 9), 33, 3, 1, 0), 5); });
  add("conv_winograd_elu_max_pool", [](GraphBuilder& b, Graph&) {  // elu: oneDNN's conv and pool
    std::string x = b.Act("a", b.Conv("w", Stem(b, 8), 16, 3), OpKind::kElu);
    b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 2, 2, 0), 5);
  });
  add("add_image_to_conv", [](GraphBuilder& b, Graph&) {  // layouts differ: nchw + blocked
    std::string c = b.Conv("c", "input", 3, 3, 1, 1);
    b.Dense("fc", b.Op("sum", OpKind::kAdd, {c, "input"}), 5);
  });
  add("dense_flat", [](GraphBuilder& b, Graph&) {
    std::string x = b.Op("flat", OpKind::kFlatten, {"input"});
    b.Dense("fc2", b.Act("r", b.Dense("fc1", x, 7), OpKind::kRelu), 5);
  });
  add("dense_nobias", [](GraphBuilder& b, Graph&) { b.Dense("fc", Stem(b, 4), 5, false); });
  // 16 x 9 x 9 = 1296 features: inference runs these as matmuls (dense_layer.cc),
  // with batch norm folded in and the activation fused, or with the bias alone.
  add("dense_wide_folded_bn", [](GraphBuilder& b, Graph&) {
    std::string x = b.BatchNorm("bn", b.Dense("fc1", Stem(b, 16), 6, false));
    b.Dense("fc2", b.Act("a", x, OpKind::kHardSwish), 5);
  });
  add("dense_wide_bias", [](GraphBuilder& b, Graph&) {
    b.Dense("fc2", b.Act("a", b.Dense("fc1", Stem(b, 16), 6), OpKind::kTanh), 5);
  });
  add("max_pool", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Pool("p", Stem(b, 4), OpKind::kMaxPool, 3, 2, 1), 5);
  });
  add("avg_pool", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Pool("p", Stem(b, 4), OpKind::kAvgPool, 3, 2, 1), 5);
  });
  add("global_avg_pool", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Op("p", OpKind::kGlobalAvgPool, {Stem(b, 20)}), 5);
  });
  add("batch_norm",
      [](GraphBuilder& b, Graph&) { b.Dense("fc", b.BatchNorm("bn", Stem(b, 5)), 5); });
  add("batch_norm_flat", [](GraphBuilder& b, Graph&) {
    std::string x = b.Dense("fc1", b.Op("flat", OpKind::kFlatten, {"input"}), 6);
    b.Dense("fc2", b.BatchNorm("bn", x), 5);
  });
  // Batch norm then an activation: training runs ReLU6, hard-swish and
  // hard-sigmoid in our kernel (bn_act.h; 20 channels: a padded second
  // block), ReLU in oneDNN's, tanh apart; after a dense they stay apart.
  for (OpKind act :
       {OpKind::kRelu, OpKind::kRelu6, OpKind::kHardSigmoid, OpKind::kHardSwish, OpKind::kTanh}) {
    add(absl::StrCat("batch_norm_", OpName(act)), [act](GraphBuilder& b, Graph&) {
      b.Dense("fc", b.Act("a", b.BatchNorm("bn", Stem(b, 20)), act), 5);
    });
  }
  // Batch norm, an activation and a max pool whose windows tile the image:
  // one kernel in training (BnActPoolForward; 9x9 leaves a row and a column
  // out of the 2x2 windows). An overlapping pool stays apart.
  for (OpKind act : {OpKind::kRelu, OpKind::kRelu6, OpKind::kHardSigmoid, OpKind::kHardSwish}) {
    add(absl::StrCat("batch_norm_", OpName(act), "_max_pool"), [act](GraphBuilder& b, Graph&) {
      std::string x = b.Act("a", b.BatchNorm("bn", Stem(b, 20)), act);
      b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 2, 2, 0), 5);
    });
  }
  add("batch_norm_max_pool_3x3", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Pool("p", b.BatchNorm("bn", Stem(b, 16)), OpKind::kMaxPool, 3, 3, 0), 5);
  });
  add("batch_norm_relu_max_pool_overlapping", [](GraphBuilder& b, Graph&) {
    std::string x = b.Act("a", b.BatchNorm("bn", Stem(b, 8)), OpKind::kRelu);
    b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 3, 2, 0), 5);
  });
  add("batch_norm_flat_relu6", [](GraphBuilder& b, Graph&) {
    std::string x = b.Dense("fc1", b.Op("flat", OpKind::kFlatten, {"input"}), 6);
    b.Dense("fc2", b.Act("a", b.BatchNorm("bn", x), OpKind::kRelu6), 5);
  });
  for (OpKind act : {OpKind::kRelu, OpKind::kRelu6, OpKind::kElu, OpKind::kSigmoid,
                     OpKind::kHardSigmoid, OpKind::kTanh, OpKind::kHardSwish}) {
    add(OpName(act), [act](GraphBuilder& b, Graph& g) {
      std::string x = b.Act("a", Stem(b, 4), act);
      if (act == OpKind::kElu) g.nodes.back().alpha = 0.7f;
      b.Dense("fc", x, 5);
    });
  }
  add("add", [](GraphBuilder& b, Graph&) {
    std::string x = b.Op("sum", OpKind::kAdd, {Stem(b, 4, "a"), Stem(b, 4, "b"), Stem(b, 4, "c")});
    b.Dense("fc", x, 5);
  });
  add("add_fanout", [](GraphBuilder& b, Graph&) {
    std::string x = Stem(b, 4);
    std::string r = b.Act("r", x, OpKind::kTanh);
    b.Dense("fc", b.Op("sum", OpKind::kAdd, {x, r}), 5);
  });
  // Inference sums a conv's result into the residual's own buffer (a sum
  // post-op): chained, so the second add goes into a buffer already summed into.
  add("add_residual_chain", [](GraphBuilder& b, Graph&) {
    std::string x = b.MBConv("m1", Stem(b, 16), 16, 16, 2, 3, 1);
    x = b.MBConv("m2", x, 16, 16, 2, 3, 1);
    b.Dense("fc", b.Op("gap", OpKind::kGlobalAvgPool, {x}), 5);
  });
  // x is read by conv z after conv y: y + x must not overwrite x; z + s may
  // sum into s, which nothing reads afterwards.
  add("add_residual_read_later", [](GraphBuilder& b, Graph&) {
    std::string x = Stem(b, 16);
    std::string s = b.Op("s", OpKind::kAdd, {b.Conv("y", x, 16, 1), x});
    std::string z = b.Conv("z", x, 16, 3);
    b.Dense("fc", b.Op("t", OpKind::kAdd, {s, z}), 5);
  });
  add("multiply", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.Op("m", OpKind::kMultiply, {Stem(b, 4, "a"), Stem(b, 4, "b")}), 5);
  });
  add("multiply_broadcast", [](GraphBuilder& b, Graph&) {
    std::string x = Stem(b, 16);
    std::string s = b.Conv("s", b.Op("gap", OpKind::kGlobalAvgPool, {x}), 16, 1);
    b.Dense("fc", b.Op("m", OpKind::kMultiply, {x, s}), 5);
  });
  add("concat", [](GraphBuilder& b, Graph&) {
    std::string x =
        b.Op("cat", OpKind::kConcat, {Stem(b, 5, "a"), Stem(b, 11, "b"), Stem(b, 17, "c")});
    b.Dense("fc", b.Conv("mix", x, 4, 1), 5);
  });
  add("concat_flat", [](GraphBuilder& b, Graph&) {
    std::string x = b.Op("flat", OpKind::kFlatten, {"input"});
    b.Dense("fc", b.Op("cat", OpKind::kConcat, {b.Dense("a", x, 7), b.Dense("b", x, 3)}), 5);
  });
  add("channel_shuffle", [](GraphBuilder& b, Graph& g) {
    std::string x = Stem(b, 6);
    b.Op("shuffle", OpKind::kChannelShuffle, {x});
    g.nodes.back().shuffle_groups = 3;
    b.Dense("fc", b.Conv("mix", "shuffle", 4, 1), 5);
  });
  add("softmax_inner", [](GraphBuilder& b, Graph&) {
    std::string x = b.Dense("fc1", b.Op("flat", OpKind::kFlatten, {"input"}), 6);
    b.Dense("fc2", b.Op("sm", OpKind::kSoftmax, {x}), 5);
  });
  add("softmax_trailing", [](GraphBuilder& b, Graph&) {
    b.Op("sm", OpKind::kSoftmax, {b.Dense("fc", Stem(b, 4), 5)});
  });
  add("block_mbconv_se", [](GraphBuilder& b, Graph&) {
    std::string x = b.MBConv("mb", Stem(b, 8), 8, 8, 3, 3, 1, 0.25, OpKind::kHardSwish);
    b.Dense("fc", b.Op("gap", OpKind::kGlobalAvgPool, {x}), 5);
  });
  add("block_dw_separable", [](GraphBuilder& b, Graph&) {
    b.Dense("fc", b.DepthwiseSeparable("ds", Stem(b, 8), 8, 12, 3, 2), 5);
  });
  add("block_fire",
      [](GraphBuilder& b, Graph&) { b.Dense("fc", b.Fire("fire", Stem(b, 8), 3, 5, 6), 5); });
  add("block_shuffle_unit", [](GraphBuilder& b, Graph&) {
    std::string x = b.ShuffleUnit("s1", Stem(b, 12), 12, 12, 3, 1);
    x = b.ShuffleUnit("s2", x, 12, 24, 3, 2);
    b.Dense("fc", x, 5);
  });
  return cases;
}

Graph BuildCase(const OpCase& c) {
  Graph g;
  g.input = c.input;
  g.num_classes = 5;
  GraphBuilder b(&g);
  c.build(b, g);
  return g;
}

// On `threads` OpenMP threads (0: the process's default).
void ExpectForwardMatchesReference(const Graph& g, NetMode mode, int batch, int threads = 0) {
  const int before = omp_get_max_threads();
  if (threads > 0) omp_set_num_threads(threads);
  struct Restore {
    int n;
    ~Restore() { omp_set_num_threads(n); }
  } restore{before};
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  ParamStore store = RandomParams(g, *info, 7);
  std::vector<float> input = RandomInput(g, batch, 11);
  absl::StatusOr<std::unique_ptr<CompiledNet>> net =
      CompiledNet::Create(g, &store, NetOptions{mode, batch, 1, false});
  ASSERT_TRUE(net.ok()) << net.status();
  std::vector<double> want =
      testing::ReferenceForward(g, *info, store, input, batch, mode == NetMode::kTrain);
  (*net)->Forward(input.data());
  const float* got = (*net)->Logits();
  ASSERT_EQ(want.size(), size_t(batch) * g.num_classes);
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-4 + 1e-4 * std::fabs(want[i])) << "logit " << i;
}

// Loss L = sum(logits * R): dL/dlogits = R. Compares every trainable
// tensor's gradient from the oneDNN net, at up to `samples` entries each,
// with central differences of L computed by the double-precision reference
// interpreter (whose forward the tests above tie to the net's). Double
// precision allows a tiny step, so ReLU kinks are almost never crossed.
void ExpectGradientsMatchFiniteDifferences(const Graph& g, int batch, int samples) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  ASSERT_TRUE(info.ok()) << info.status();
  ParamStore store = RandomParams(g, *info, 3);
  std::vector<float> input = RandomInput(g, batch, 5);
  absl::StatusOr<std::unique_ptr<CompiledNet>> made =
      CompiledNet::Create(g, &store, NetOptions{NetMode::kTrain, batch, 1, false});
  ASSERT_TRUE(made.ok()) << made.status();
  CompiledNet& net = **made;
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> r(size_t(batch) * g.num_classes);
  for (float& x : r) x = u(rng);
  auto reference_loss = [&] {
    std::vector<double> logits = testing::ReferenceForward(g, *info, store, input, batch, true);
    double l = 0;
    for (size_t i = 0; i < r.size(); ++i) l += logits[i] * r[i];
    return l;
  };
  net.Forward(input.data());
  net.Backward(r.data());
  std::map<std::string, ParamTensor> grads = net.Grads();
  int checked = 0;
  for (auto& [key, t] : store.mutable_tensors()) {
    if (!t.trainable) continue;
    auto it = grads.find(key);
    ASSERT_NE(it, grads.end()) << "no gradient for " << key;
    const std::vector<float>& grad = it->second.values;
    ASSERT_EQ(grad.size(), t.values.size()) << key;
    double rms = 0;
    for (float x : grad) rms += double(x) * x;
    rms = std::sqrt(rms / grad.size());
    std::uniform_int_distribution<size_t> pick(0, t.values.size() - 1);
    for (int s = 0; s < samples; ++s) {
      const size_t i = t.values.size() <= size_t(samples) ? s % t.values.size() : pick(rng);
      const float saved = t.values[i];
      const float plus = saved + 1e-6f, minus = saved - 1e-6f;
      t.values[i] = plus;
      const double lp = reference_loss();
      t.values[i] = minus;
      const double lm = reference_loss();
      t.values[i] = saved;
      const double numeric = (lp - lm) / (double(plus) - double(minus));
      const double analytic = grad[i];
      EXPECT_NEAR(analytic, numeric, 1e-4 + 2e-3 * std::max(std::fabs(numeric), rms))
          << key << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

class OpTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(OpTest, InferenceForwardMatchesReference) {
  ExpectForwardMatchesReference(BuildCase(GetParam()), NetMode::kInference, 3);
}

// Batch 1 takes other kernels: dense layers run as our matrix-vector
// product (gemv.h), on two threads where the features allow.
TEST_P(OpTest, InferenceAtBatch1MatchesReference) {
  ExpectForwardMatchesReference(BuildCase(GetParam()), NetMode::kInference, 1, 1);
  ExpectForwardMatchesReference(BuildCase(GetParam()), NetMode::kInference, 1, 2);
}

TEST_P(OpTest, TrainingForwardMatchesReference) {
  ExpectForwardMatchesReference(BuildCase(GetParam()), NetMode::kTrain, 3);
}

// Batch 3: at batch 2 a batch norm's two normalized values are +-1 and its
// input gradient (1 - xhat^2)(dy0 - dy1) / 2 all but vanishes, except for a
// unit of near-zero variance, which amplifies rounding by 1 / sqrt(eps):
// dense_wide_folded_bn's stem bias (true gradient 0) then came out at up to
// 1.3e-3 with one summation order of fc1's forward and 3e-6 with another.
TEST_P(OpTest, GradientsMatchFiniteDifferences) {
  ExpectGradientsMatchFiniteDifferences(BuildCase(GetParam()), 3, 12);
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpTest, ::testing::ValuesIn(OpCases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) {
                           return info.param.name;
                         });

// Training at batch 16 or more runs a 3x3 stride-1 conv of 16+ channels
// with Winograd: our kernels (winograd_train.h) where the padding is 1 and
// the channels come in blocks of 16, else oneDNN's forward and backward data
// on AVX-512 (conv_layer.cc); the op cases above (batch 3) stay direct.
TEST(WinogradTest, TrainingAtBatch16MatchesReferenceAndFiniteDifferences) {
  Graph g;
  g.input = Shape3{3, 9, 9};
  g.num_classes = 5;
  GraphBuilder b(&g);
  b.Dense("fc", b.Conv("c", Stem(b, 16), 24, 3, 1, 1), 5);
  ExpectForwardMatchesReference(g, NetMode::kTrain, 16);
  ExpectGradientsMatchFiniteDifferences(g, 16, 12);
}

// Ours: c (16 -> 32, bias, 9x9: the edge tiles reach past the image) and d
// (32 -> 16, no bias) run winograd_train.h's three kernels, forward,
// backward data (d's into c, c's into the stem) and weights.
TEST(WinogradTest, OurTrainingKernelsMatchReferenceAndFiniteDifferences) {
  Graph g;
  g.input = Shape3{3, 9, 9};
  g.num_classes = 5;
  GraphBuilder b(&g);
  const std::string c = b.Conv("c", Stem(b, 16), 32, 3, 1, 1);
  b.Dense("fc", b.Conv("d", b.Act("r", c, OpKind::kRelu), 16, 3, 1, 1, 1, /*bias=*/false), 5);
  ExpectForwardMatchesReference(g, NetMode::kTrain, 16);
  ExpectGradientsMatchFiniteDifferences(g, 16, 12);

  GraphInfo info = *AnalyzeGraph(g);
  ParamStore store = RandomParams(g, info, 1);
  auto net = CompiledNet::Create(g, &store, NetOptions{NetMode::kTrain, 16, 1, true});
  ASSERT_TRUE(net.ok()) << net.status();
  const std::vector<float> input = RandomInput(g, 16, 2), dlogits(16 * 5, 0.1f);
  (*net)->Forward(input.data());
  (*net)->Backward(dlogits.data());
  const std::map<std::string, double>& steps = (*net)->profile().by_step;
  for (const char* step : {"forward c winograd_train", "backward c winograd_train_data",
                           "backward c winograd_train_weights", "forward d winograd_train",
                           "backward d winograd_train_data", "backward d winograd_train_weights"})
    EXPECT_TRUE(steps.count(step)) << step;
}

class PresetTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PresetTest, InferenceForwardMatchesReference) {
  ExpectForwardMatchesReference(*Preset(GetParam()), NetMode::kInference, 2);
}

TEST_P(PresetTest, InferenceAtBatch1MatchesReference) {
  ExpectForwardMatchesReference(*Preset(GetParam()), NetMode::kInference, 1, 2);
}

TEST_P(PresetTest, TrainingForwardMatchesReference) {
  ExpectForwardMatchesReference(*Preset(GetParam()), NetMode::kTrain, 2);
}

TEST_P(PresetTest, GradientsMatchFiniteDifferences) {
  ExpectGradientsMatchFiniteDifferences(*Preset(GetParam()), 4, 3);
}

INSTANTIATE_TEST_SUITE_P(Presets, PresetTest, ::testing::ValuesIn(PresetNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

}  // namespace
}  // namespace edgenas
