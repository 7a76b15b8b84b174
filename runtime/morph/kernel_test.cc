// Kernel enlargement against the unmorphed net's outputs, and its refusals.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/blocks.h"
#include "runtime/morph/morph.h"
#include "runtime/morph/testing/morph_check.h"

namespace edgenas {
namespace {

using ::testing::HasSubstr;
using testing::kMorphTolerance;
using testing::MaxDifference;
using testing::PresetModel;

absl::StatusOr<Model> Enlarge(const Model& m, const std::string& node, int kernel = 0) {
  EnlargeOptions o;
  o.node = node;
  o.kernel = kernel;
  return EnlargeKernel(m, o);
}

TEST(Enlarge, ThreeToFivePadsWithZerosAndGrowsThePadding) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> child = Enlarge(parent, "conv1");
  ASSERT_TRUE(child.ok()) << child.status();
  const ConvAttrs& a = child->graph.nodes[child->graph.Find("conv1")].conv;
  EXPECT_EQ(a.kernel_h, 5);
  EXPECT_EQ(a.kernel_w, 5);
  EXPECT_EQ(a.pad_h, 2);
  const ParamTensor& w = *child->params.Find("conv1/weight");
  const ParamTensor& old = *parent.params.Find("conv1/weight");
  ASSERT_EQ(w.dims, (std::vector<int64_t>{32, 1, 5, 5}));
  for (int o = 0; o < 32; ++o)
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < 5; ++x) {
        const bool inside = y >= 1 && y <= 3 && x >= 1 && x <= 3;
        EXPECT_EQ(w.values[(o * 5 + y) * 5 + x],
                  inside ? old.values[(o * 3 + y - 1) * 3 + x - 1] : 0.0f);
      }
  EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
}

TEST(Enlarge, EveryConvKindIsExact) {
  // Strided, dilated, rectangular, grouped and unpadded convs.
  Graph g;
  g.input = Shape3{4, 13, 11};
  g.num_classes = 4;
  GraphBuilder b(&g);
  std::string x = b.Conv("strided", "input", 8, 3, 2, 1);
  x = b.Conv("dilated", x, 8, 3, 1, -1, 1, true, 2);
  x = b.Conv("rect", x, 6, 3, 1, 1);
  g.nodes.back().conv.kernel_w = 1;
  g.nodes.back().conv.pad_w = 0;
  x = b.Conv("grouped", x, 6, 3, 1, 0, 3);
  x = b.Conv("depthwise", x, 6, 1, 1, 0, 6);
  b.Dense("fc", x, 4);
  Model parent = testing::RandomModel(g, 4);
  for (auto [node, kernel] : {std::pair{"strided", 0}, {"dilated", 0}, {"rect", 0}, {"rect", 5},
                              {"grouped", 7}, {"depthwise", 3}}) {
    SCOPED_TRACE(::testing::Message() << node << " to " << kernel);
    absl::StatusOr<Model> child = Enlarge(parent, node, kernel);
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
  }
  for (const char* preset : {"lenet5", "mobile-tiny"}) {
    Model p = PresetModel(preset);
    absl::StatusOr<Model> child = Enlarge(p, preset == std::string("lenet5") ? "conv2" : "ds2/dw/conv");
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_LE(MaxDifference(p, *child), kMorphTolerance);
  }
}

TEST(Enlarge, RefusalsNameTheNodeAndTheReason) {
  Model parent = PresetModel("cnn-bn");
  auto message = [&](const std::string& node, int kernel) {
    absl::StatusOr<Model> child = Enlarge(parent, node, kernel);
    EXPECT_FALSE(child.ok()) << node;
    return std::string(child.status().message());
  };
  EXPECT_THAT(message("pool1", 0), HasSubstr("node 'pool1' is a max_pool: enlarge needs a conv: "
                                             "a larger pooling window would pool more values"));
  EXPECT_THAT(message("fc1", 0), HasSubstr("node 'fc1' is a dense: enlarge needs a conv"));
  EXPECT_THAT(message("conv1", 4), HasSubstr("kernel: 4 - 3x3 is odd"));
  EXPECT_THAT(message("conv1", 3), HasSubstr("kernel: 3 does not enlarge 'conv1''s 3x3 kernel"));
  EXPECT_THAT(message("conv1", 33), HasSubstr("past the limit 31"));
}

}  // namespace
}  // namespace edgenas
