#include "search/space/mobile_space.h"

#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"

namespace edgenas {
namespace {

MobileBlock Dw(int out, int kernel, int stride) {
  MobileBlock b;
  b.type = MobileBlockType::kDwSeparable;
  b.out_channels = out;
  b.kernel = kernel;
  b.stride = stride;
  return b;
}

MobileBlock Mb(int out, int kernel, int expand, double se, int stride) {
  MobileBlock b = Dw(out, kernel, stride);
  b.type = MobileBlockType::kMBConv;
  b.expand = expand;
  b.se_ratio = se;
  return b;
}

MobileBlock Fire(int out, double squeeze, int stride) {
  MobileBlock b = Dw(out, 3, stride);
  b.type = MobileBlockType::kFire;
  b.squeeze_ratio = squeeze;
  return b;
}

// The spatial size of the value the global pool reads.
ValueShape LastFeatureMap(const Graph& graph, const GraphInfo& info) {
  const int pool = graph.Find("pool");
  return info.nodes[info.nodes[pool].inputs[0]].shape;
}

TEST(MobileSpaceTest, MaxDownsamplesKeepsTheLastMapAtLeastFourByFour) {
  MobileSpace space;
  for (auto [side, expected] :
       {std::pair{28, 2}, {32, 3}, {7, 0}, {8, 1}, {15, 1}, {16, 2}, {224, 5}, {3, 0}}) {
    space.input_height = space.input_width = side;
    EXPECT_EQ(space.MaxDownsamples(), expected) << side;
  }
  space.input_height = 64;
  space.input_width = 16;
  EXPECT_EQ(space.MaxDownsamples(), 2);
}

TEST(MobileSpaceTest, BuildGraphCountsTheHandComputedMultiplyAdds) {
  MobileSpace space;
  MobileArch arch;
  arch.stem_channels = 8;
  arch.blocks = {Dw(16, 3, 2), Mb(16, 5, 6, 0.25, 1), Fire(24, 0.25, 2)};
  ASSERT_TRUE(space.Check(arch).ok()) << space.Check(arch);
  const Graph graph = BuildGraph(arch, space);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  ASSERT_TRUE(info.ok()) << info.status();

  const int64_t stem = 28 * 28 * 8 * 9;
  const int64_t dw_sep = 14 * 14 * 8 * 9 + 14 * 14 * 16 * 8;
  // MBConv: expand 16->96, depthwise 5x5, SE 96->4->96 on 1x1, project 96->16.
  const int64_t mbconv =
      14 * 14 * 96 * 16 + 14 * 14 * 96 * 25 + 96 * 4 + 4 * 96 + 14 * 14 * 16 * 96;
  // Fire after a 3x3/2 max pool (14 -> 7): squeeze 16->6, expand 6->12 (1x1) and 6->12 (3x3).
  const int64_t fire = 49 * 6 * 16 + 49 * 12 * 6 + 49 * 12 * 6 * 9;
  const int64_t head = 24 * 10;
  EXPECT_EQ(info->flops, stem + dw_sep + mbconv + fire + head);

  EXPECT_EQ(LastFeatureMap(graph, *info), (ValueShape{24, 7, 7, false}));
  EXPECT_GE(graph.Find("b1/add"), 0) << "stride 1, 16 -> 16: identity residual";
  EXPECT_GE(graph.Find("b1/se/scale"), 0);
  EXPECT_GE(graph.Find("b2/pool"), 0);
  EXPECT_EQ(graph.OutputName(), "classifier");
  EXPECT_EQ(info->nodes[info->output].shape, (ValueShape{10, 1, 1, true}));
}

TEST(MobileSpaceTest, FiveHundredSamplesAreValidBoundedAndVaried) {
  const MobileSpace space;
  std::mt19937_64 rng(7);
  std::set<std::string> hashes;
  std::set<int> block_counts, downsample_counts, stems;
  std::set<MobileBlockType> types;
  int minimal = 0;
  for (int i = 0; i < 500; ++i) {
    const MobileArch arch = space.Sample(rng);
    ASSERT_TRUE(space.Check(arch).ok()) << i << ": " << space.Check(arch);
    const Graph graph = BuildGraph(arch, space);
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
    ASSERT_TRUE(info.ok()) << i << ": " << info.status();
    EXPECT_LE(info->flops, 30'000'000) << i;
    EXPECT_LE(arch.Downsamples(), 2) << i;
    EXPECT_GE(LastFeatureMap(graph, *info).height, 4) << i;
    EXPECT_GE(arch.blocks.size(), 2u);
    EXPECT_LE(arch.blocks.size(), 6u);
    hashes.insert(CanonicalHash(graph, *info));
    block_counts.insert(static_cast<int>(arch.blocks.size()));
    downsample_counts.insert(arch.Downsamples());
    stems.insert(arch.stem_channels);
    for (const MobileBlock& b : arch.blocks) types.insert(b.type);
    if (arch == space.Minimal()) ++minimal;
  }
  // A sampler stuck on a corner of the space fails here.
  EXPECT_GT(hashes.size(), 490u);
  EXPECT_EQ(block_counts, (std::set<int>{2, 3, 4, 5, 6}));
  EXPECT_EQ(downsample_counts, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(stems, (std::set<int>{8, 16, 24}));
  EXPECT_EQ(types.size(), 3u);
  EXPECT_LT(minimal, 3) << "the fallback should be rare in the default space";
}

TEST(MobileSpaceTest, ALargerInputAllowsMoreDownsamplingAndStaysValid) {
  MobileSpace space;
  space.input_channels = 3;
  space.input_height = space.input_width = 32;
  ASSERT_TRUE(space.Validate().ok());
  std::mt19937_64 rng(3);
  int max_seen = 0;
  for (int i = 0; i < 200; ++i) {
    const MobileArch arch = space.Sample(rng);
    ASSERT_TRUE(space.Check(arch).ok()) << space.Check(arch);
    const Graph graph = BuildGraph(arch, space);
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
    ASSERT_TRUE(info.ok());
    EXPECT_GE(LastFeatureMap(graph, *info).height, 4);
    max_seen = std::max(max_seen, arch.Downsamples());
  }
  EXPECT_EQ(max_seen, 3);
}

TEST(MobileSpaceTest, SameSeedSameSamplesDifferentSeedDifferent) {
  const MobileSpace space;
  std::mt19937_64 a(11), b(11), c(12);
  int same_as_c = 0;
  for (int i = 0; i < 50; ++i) {
    const MobileArch x = space.Sample(a);
    EXPECT_EQ(x, space.Sample(b)) << i;
    if (x == space.Sample(c)) ++same_as_c;
  }
  EXPECT_LT(same_as_c, 2);
}

TEST(MobileSpaceTest, TightFlopBoundIsHonoured) {
  MobileSpace space;
  space.max_mflops = 1.0;
  ASSERT_TRUE(space.Validate().ok()) << space.Validate();
  std::mt19937_64 rng(5);
  std::set<std::string> hashes;
  for (int i = 0; i < 100; ++i) {
    const MobileArch arch = space.Sample(rng);
    absl::StatusOr<GraphInfo> info = AnalyzeGraph(BuildGraph(arch, space));
    ASSERT_TRUE(info.ok());
    EXPECT_LE(info->flops, 1'000'000);
    hashes.insert(CanonicalHash(BuildGraph(arch, space), *info));
  }
  EXPECT_GT(hashes.size(), 50u);
}

TEST(MobileArchTest, JsonRoundTripsExactly) {
  const MobileSpace space;
  std::mt19937_64 rng(9);
  for (int i = 0; i < 200; ++i) {
    const MobileArch arch = space.Sample(rng);
    const std::string text = arch.ToJson().dump();
    absl::StatusOr<MobileArch> back = MobileArch::FromJson(nlohmann::json::parse(text));
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
    EXPECT_EQ(*back, arch) << text;
    EXPECT_EQ(back->ToJson().dump(), text);
  }
}

TEST(MobileArchTest, JsonWritesOnlyTheFieldsOfEachType) {
  MobileArch arch;
  arch.stem_channels = 8;
  arch.blocks = {Dw(16, 5, 2), Mb(24, 3, 6, 0.25, 1), Fire(32, 0.125, 2)};
  EXPECT_EQ(arch.ToJson(), nlohmann::json::parse(R"({"stem": 8, "blocks": [
      {"type": "dw_separable", "out": 16, "kernel": 5, "stride": 2},
      {"type": "mbconv", "out": 24, "kernel": 3, "expand": 6, "se": 0.25, "stride": 1},
      {"type": "fire", "out": 32, "squeeze": 0.125, "stride": 2}]})"));
}

TEST(MobileArchTest, FromJsonNamesTheBadField) {
  const std::string dw = R"({"type": "dw_separable", "out": 16, "kernel": 3, "stride": 1})";
  struct Case {
    std::string text;
    std::string field;
  };
  const Case cases[] = {
      {"[]", "must be a JSON object"},
      {R"({"blocks": []})", "stem: missing"},
      {R"({"stem": "8", "blocks": []})", "stem: must be an integer"},
      {R"({"stem": 8})", "blocks: missing"},
      {R"({"stem": 8, "blocks": {}})", "blocks: must be a list"},
      {R"({"stem": 8, "blocks": [], "depth": 3})", "depth: unknown field"},
      {R"({"stem": 8, "blocks": [)" + dw + R"(, 3]})", "blocks[1]: must be a JSON object"},
      {R"({"stem": 8, "blocks": [{"type": "conv", "out": 16, "kernel": 3, "stride": 1}]})",
       "blocks[0].type: must be one of"},
      {R"({"stem": 8, "blocks": [{"out": 16, "kernel": 3, "stride": 1}]})",
       "blocks[0].type: missing"},
      {R"({"stem": 8, "blocks": [)" + dw +
           R"(, {"type": "dw_separable", "out": 0, "kernel": 3, "stride": 1}]})",
       "blocks[1].out: must be an integer in [1, 8192], got 0"},
      {R"({"stem": 8, "blocks": [{"type": "dw_separable", "out": 16, "kernel": 4, "stride": 1}]})",
       "blocks[0].kernel: must be one of {3, 5}, got 4"},
      {R"({"stem": 8, "blocks": [{"type": "dw_separable", "out": 16, "kernel": 3, "stride": 3}]})",
       "blocks[0].stride: must be one of {1, 2}, got 3"},
      {R"({"stem": 8, "blocks": [{"type": "dw_separable", "out": 16, "kernel": 3}]})",
       "blocks[0].stride: missing"},
      {R"({"stem": 8, "blocks": [{"type": "dw_separable", "out": 16, "kernel": 3, "stride": 1,
           "expand": 6}]})",
       "blocks[0].expand: unknown field"},
      {R"({"stem": 8, "blocks": [{"type": "mbconv", "out": 16, "kernel": 3, "stride": 1,
           "expand": 4, "se": 0}]})",
       "blocks[0].expand: must be one of {1, 3, 6}, got 4"},
      {R"({"stem": 8, "blocks": [{"type": "mbconv", "out": 16, "kernel": 3, "stride": 1,
           "expand": 6}]})",
       "blocks[0].se: missing"},
      {R"({"stem": 8, "blocks": [{"type": "mbconv", "out": 16, "kernel": 3, "stride": 1,
           "expand": 6, "se": 0.5}]})",
       "blocks[0].se: must be one of {0, 0.25}, got 0.5"},
      {R"({"stem": 8, "blocks": [{"type": "fire", "out": 16, "squeeze": 0.3, "stride": 1}]})",
       "blocks[0].squeeze: must be one of {0.125, 0.25, 0.5}, got 0.3"},
      {R"({"stem": 8, "blocks": [{"type": "fire", "out": 16, "kernel": 3, "squeeze": 0.25,
           "stride": 1}]})",
       "blocks[0].kernel: unknown field"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<MobileArch> arch = MobileArch::FromJson(nlohmann::json::parse(c.text));
    ASSERT_FALSE(arch.ok()) << c.text;
    EXPECT_EQ(arch.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(arch.status().message().find(c.field), std::string::npos)
        << "want '" << c.field << "' in: " << arch.status().message();
  }
}

TEST(MobileSpaceTest, CheckNamesWhatLeavesTheSpace) {
  const MobileSpace space;
  MobileArch arch;
  arch.stem_channels = 16;
  arch.blocks = {Dw(16, 3, 1), Dw(40, 3, 1)};
  EXPECT_NE(space.Check(arch).message().find("blocks[1].out: 40"), std::string::npos)
      << space.Check(arch);
  arch.blocks = {Dw(16, 3, 2), Dw(16, 3, 2), Dw(16, 3, 2)};
  EXPECT_NE(space.Check(arch).message().find("3 have stride 2"), std::string::npos)
      << space.Check(arch);
  arch.blocks = {Dw(16, 3, 1)};
  EXPECT_NE(space.Check(arch).message().find("1 blocks"), std::string::npos) << space.Check(arch);
  arch.stem_channels = 12;
  EXPECT_NE(space.Check(arch).message().find("stem: 12"), std::string::npos) << space.Check(arch);
  // Six full-width MBConv x6 blocks at 28x28 are far past 30 MFLOPs.
  arch.stem_channels = 24;
  arch.blocks.assign(6, Mb(96, 5, 6, 0.25, 1));
  EXPECT_NE(space.Check(arch).message().find("past max_mflops 30"), std::string::npos)
      << space.Check(arch);
}

TEST(MobileSpaceTest, JsonRoundTripsAndDefaultsFillAbsentKeys) {
  absl::StatusOr<MobileSpace> space = MobileSpace::FromJson(nlohmann::json::parse(
      R"({"input_channels": 3, "input_height": 32, "input_width": 32, "num_classes": 100,
          "min_blocks": 3, "max_blocks": 8, "widths": [32, 16], "stem_widths": [16],
          "max_mflops": 12.5})"));
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->input_channels, 3);
  EXPECT_EQ(space->num_classes, 100);
  EXPECT_EQ(space->min_blocks, 3);
  EXPECT_EQ(space->max_blocks, 8);
  EXPECT_EQ(space->widths, (std::vector<int>{32, 16}));
  EXPECT_EQ(space->stem_widths, (std::vector<int>{16}));
  EXPECT_EQ(space->max_mflops, 12.5);
  absl::StatusOr<MobileSpace> back = MobileSpace::FromJson(space->ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(), space->ToJson());

  absl::StatusOr<MobileSpace> defaults = MobileSpace::FromJson(nlohmann::json::object());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->ToJson(), MobileSpace().ToJson());
  EXPECT_EQ(defaults->widths, (std::vector<int>{16, 24, 32, 48, 64, 96}));
  EXPECT_EQ(defaults->max_mflops, 30);
}

TEST(MobileSpaceTest, FromJsonNamesTheBadField) {
  const std::pair<const char*, const char*> cases[] = {
      {"3", "space: must be a JSON object"},
      {R"({"colour": 1})", "space.colour: unknown field"},
      {R"({"min_blocks": 0})", "space.min_blocks: must be an integer in [1, 64], got 0"},
      {R"({"min_blocks": 4, "max_blocks": 3})", "space.max_blocks: must be in [4, 64], got 3"},
      {R"({"widths": []})", "space.widths: must be a non-empty list"},
      {R"({"widths": [16, "a"]})", "space.widths[1]: must be an integer"},
      {R"({"widths": [16, 24, 16]})", "space.widths[2]: 16 is listed twice"},
      {R"({"stem_widths": [1]})", "space.stem_widths[0]: must be an integer in [2, 1024]"},
      {R"({"max_mflops": "lots"})", "space.max_mflops: must be a number"},
      {R"({"max_mflops": 0.01})", "space.max_mflops: 0.01 is below the smallest architecture"},
      {R"({"input_height": 0})", "space.input_height: must be an integer in [1, 4096]"},
      {R"({"num_classes": 2.5})", "space.num_classes: must be an integer"},
  };
  for (const auto& [text, field] : cases) {
    absl::StatusOr<MobileSpace> space = MobileSpace::FromJson(nlohmann::json::parse(text));
    ASSERT_FALSE(space.ok()) << text;
    EXPECT_EQ(space.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(space.status().message().find(field), std::string::npos)
        << "want '" << field << "' in: " << space.status().message();
  }
}

// The number of fields (stem or a block's) in which two equally long
// architectures differ.
int DifferingParts(const MobileArch& a, const MobileArch& b) {
  int n = a.stem_channels != b.stem_channels;
  for (size_t i = 0; i < a.blocks.size(); ++i) n += a.blocks[i] != b.blocks[i];
  return n;
}

// True when removing one block of `longer` gives `shorter`.
bool OneBlockApart(const MobileArch& longer, const MobileArch& shorter) {
  if (longer.stem_channels != shorter.stem_channels) return false;
  for (size_t skip = 0; skip < longer.blocks.size(); ++skip) {
    MobileArch cut = longer;
    cut.blocks.erase(cut.blocks.begin() + skip);
    if (cut == shorter) return true;
  }
  return false;
}

TEST(MobileMutationTest, ChildrenAreValidDifferentAndOneLocalChangeAway) {
  const MobileSpace space;
  std::mt19937_64 rng(21);
  int inserts = 0, removes = 0, stem_changes = 0, type_changes = 0, stride_changes = 0;
  for (int i = 0; i < 500; ++i) {
    const MobileArch parent = space.Sample(rng);
    const MobileArch child = space.Mutate(parent, rng);
    ASSERT_TRUE(space.Check(child).ok()) << i << ": " << space.Check(child);
    ASSERT_NE(child, parent) << i;
    EXPECT_NE(*CanonicalHash(BuildGraph(child, space)), *CanonicalHash(BuildGraph(parent, space)))
        << i;
    if (child.blocks.size() == parent.blocks.size()) {
      EXPECT_EQ(DifferingParts(parent, child), 1) << i;
      stem_changes += parent.stem_channels != child.stem_channels;
      for (size_t k = 0; k < child.blocks.size(); ++k) {
        type_changes += parent.blocks[k].type != child.blocks[k].type;
        stride_changes += parent.blocks[k].stride != child.blocks[k].stride;
      }
    } else if (child.blocks.size() == parent.blocks.size() + 1) {
      EXPECT_TRUE(OneBlockApart(child, parent)) << i;
      ++inserts;
    } else {
      ASSERT_EQ(child.blocks.size() + 1, parent.blocks.size()) << i;
      EXPECT_TRUE(OneBlockApart(parent, child)) << i;
      ++removes;
    }
  }
  // Each kind of change happens (uniform over eight kinds: ~60 each).
  EXPECT_GT(inserts, 10);
  EXPECT_GT(removes, 10);
  EXPECT_GT(stem_changes, 3);
  EXPECT_GT(type_changes, 10);
  EXPECT_GT(stride_changes, 10);
}

TEST(MobileMutationTest, WidthMovesToANeighbouringChoice) {
  MobileSpace space;
  space.stem_widths = {8};  // only block widths can change
  MobileArch parent;
  parent.stem_channels = 8;
  parent.blocks = {Dw(32, 3, 1), Dw(32, 3, 1)};
  std::mt19937_64 rng(4);
  std::set<int> widths_seen;
  for (int i = 0; i < 300; ++i) {
    const MobileArch child = space.Mutate(parent, rng);
    if (child.blocks.size() != 2) continue;
    for (int k = 0; k < 2; ++k) {
      if (child.blocks[k].out_channels != 32) widths_seen.insert(child.blocks[k].out_channels);
    }
  }
  EXPECT_EQ(widths_seen, (std::set<int>{24, 48}));
}

TEST(MobileMutationTest, SameSeedSameChildren) {
  const MobileSpace space;
  std::mt19937_64 a(8), b(8);
  MobileArch x = space.Sample(a), y = space.Sample(b);
  for (int i = 0; i < 100; ++i) {
    x = space.Mutate(x, a);
    y = space.Mutate(y, b);
    ASSERT_EQ(x, y) << i;
  }
}

}  // namespace
}  // namespace edgenas
