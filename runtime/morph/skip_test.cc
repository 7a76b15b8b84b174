// Skip connections against the unmorphed net's outputs, and their refusals.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/morph/morph.h"
#include "runtime/morph/testing/morph_check.h"

namespace edgenas {
namespace {

using ::testing::HasSubstr;
using testing::kMorphTolerance;
using testing::MaxDifference;
using testing::PresetModel;

absl::StatusOr<Model> Skip(const Model& m, const std::string& from, const std::string& to,
                           SkipKind kind) {
  SkipOptions o;
  o.from = from;
  o.to = to;
  o.kind = kind;
  return AddSkip(m, o);
}

TEST(Skip, AddStartsAtZero) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> child = Skip(parent, "pool1", "relu2", SkipKind::kAdd);
  ASSERT_TRUE(child.ok()) << child.status();
  const int add = child->graph.Find("relu2_skip1/add");
  ASSERT_GE(add, 0);
  EXPECT_EQ(child->graph.nodes[add].inputs,
            (std::vector<std::string>{"relu2", "relu2_skip1/conv"}));
  EXPECT_EQ(child->graph.nodes[child->graph.Find("pool2")].inputs[0], "relu2_skip1/add");
  for (float w : child->params.Find("relu2_skip1/conv/weight")->values) EXPECT_EQ(w, 0.0f);
  EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
}

TEST(Skip, EveryShapeCaseIsExact) {
  struct Case {
    const char* preset;
    const char* from;
    const char* to;
    SkipKind kind;
  };
  for (const Case& c : {
           Case{"cnn-bn", "relu1", "relu2", SkipKind::kAdd},        // 28x28 -> 14x14: stride 2
           Case{"cnn-bn", "input", "bn2", SkipKind::kAdd},          // from the graph input
           Case{"cnn-bn", "relu1", "pool2", SkipKind::kAdd},        // stride 4
           Case{"cnn-bn", "relu1", "pool1", SkipKind::kConcat},     // strided identity branch
           Case{"cnn-bn", "pool1", "conv2", SkipKind::kConcat},     // through bn2 and relu2
           Case{"cnn-bn", "pool1", "pool2", SkipKind::kConcat},     // fc1 reads (C, 7, 7)
           Case{"lenet-300-100", "relu1", "relu2", SkipKind::kAdd},     // flat: a dense branch
           Case{"lenet-300-100", "flatten", "fc2", SkipKind::kConcat},  // flat concat
           Case{"mobile-tiny", "stem/act", "ds2/dw/act", SkipKind::kConcat},  // into a pw conv
           Case{"mobile-tiny", "ds2/pw/act", "ds3/pw/bn", SkipKind::kConcat},  // into mb1's add
           Case{"mobile-tiny", "ds1/dw/act", "mb1/add", SkipKind::kAdd}}) {
    SCOPED_TRACE(::testing::Message() << c.preset << " " << c.from << " -> " << c.to);
    Model parent = PresetModel(c.preset);
    absl::StatusOr<Model> child = Skip(parent, c.from, c.to, c.kind);
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_LE(MaxDifference(parent, *child), kMorphTolerance);
  }
}

TEST(Skip, ConcatZeroesTheReadersWeightsForTheNewChannels) {
  Model parent = PresetModel("cnn-bn");
  absl::StatusOr<Model> child = Skip(parent, "pool1", "pool2", SkipKind::kConcat);
  ASSERT_TRUE(child.ok()) << child.status();
  // fc1 reads (64 + 32, 7, 7): its columns past 64 x 49 are zero.
  const ParamTensor& w = *child->params.Find("fc1/weight");
  ASSERT_EQ(w.dims, (std::vector<int64_t>{128, 96 * 49}));
  const ParamTensor& old = *parent.params.Find("fc1/weight");
  for (int64_t o = 0; o < 128; ++o) {
    for (int64_t i = 0; i < 96 * 49; ++i) {
      const float want = i < 64 * 49 ? old.values[o * 64 * 49 + i] : 0.0f;
      ASSERT_EQ(w.values[o * 96 * 49 + i], want) << o << ", " << i;
    }
  }
}

TEST(Skip, RefusalsNameTheNodeAndTheReason) {
  Model parent = PresetModel("cnn-bn");
  auto message = [&](const std::string& from, const std::string& to, SkipKind kind) {
    absl::StatusOr<Model> child = Skip(parent, from, to, kind);
    EXPECT_FALSE(child.ok()) << from << " -> " << to;
    return std::string(child.status().message());
  };
  EXPECT_THAT(message("relu2", "relu1", SkipKind::kAdd),
              HasSubstr("node 'relu2' is a relu: it is downstream of 'relu1': a skip from it "
                        "would close a cycle"));
  EXPECT_THAT(message("relu1", "fc2", SkipKind::kAdd),
              HasSubstr("node 'fc2' is a dense: it is the graph output"));
  EXPECT_THAT(message("pool2", "relu3", SkipKind::kAdd),
              HasSubstr("node 'relu3' is a relu: its value (128) and 'pool2''s (64, 7, 7) are "
                        "not both flat"));
  EXPECT_THAT(message("pool2", "relu1", SkipKind::kConcat), HasSubstr("cycle"));
  EXPECT_THAT(message("relu1", "relu1", SkipKind::kAdd), HasSubstr("from: 'relu1' is 'to' itself"));
  EXPECT_THAT(message("relu1", "input", SkipKind::kAdd), HasSubstr("'input' is the graph input"));

  // A smaller value cannot reach a larger one.
  Model mobile = PresetModel("mobile-tiny");
  absl::StatusOr<Model> up = Skip(mobile, "ds2/pw/act", "ds1/pw/act", SkipKind::kAdd);
  ASSERT_FALSE(up.ok());
  EXPECT_THAT(std::string(up.status().message()), HasSubstr("downstream"));
}

}  // namespace
}  // namespace edgenas
