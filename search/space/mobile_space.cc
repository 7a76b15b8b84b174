#include "search/space/mobile_space.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"
#include "search/api/json_params.h"

namespace edgenas {
namespace {

constexpr int kMaxWidth = 1024;
constexpr int kMaxBlocks = 64;
constexpr double kMaxMflops = 1e6;

bool Listed(const std::vector<int>& list, int v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string ListText(const std::vector<int>& list) {
  std::string text;
  for (int v : list) absl::StrAppend(&text, text.empty() ? "" : ", ", v);
  return absl::StrCat("{", text, "}");
}

int FireSqueeze(const MobileBlock& b) {
  return std::max(1, static_cast<int>(std::lround(b.out_channels * b.squeeze_ratio)));
}

}  // namespace

int MobileSpace::MaxDownsamples() const {
  int quarter = std::min(input_height, input_width) / 4;
  int n = 0;
  while (quarter >= 2) {
    quarter /= 2;
    ++n;
  }
  return n;
}

int64_t MobileSpace::MaxFlops() const { return std::llround(max_mflops * 1e6); }

absl::Status MobileSpace::Validate() const {
  for (auto [field, v, lo, hi] : {std::tuple{"input_channels", input_channels, 1, 8192},
                                  {"input_height", input_height, 1, 4096},
                                  {"input_width", input_width, 1, 4096},
                                  {"num_classes", num_classes, 1, 100000},
                                  {"min_blocks", min_blocks, 1, kMaxBlocks},
                                  {"max_blocks", max_blocks, min_blocks, kMaxBlocks}}) {
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must be in [", lo, ", ", hi, "], got ", v));
    }
  }
  // Fire splits its output between two expand branches: at least 2.
  for (auto [field, list] : {std::pair{"widths", &widths}, {"stem_widths", &stem_widths}}) {
    if (list->empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
    for (size_t i = 0; i < list->size(); ++i) {
      const int v = (*list)[i];
      if (v < 2 || v > kMaxWidth) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, "[", i, "]: must be in [2, ", kMaxWidth, "], got ", v));
      }
      if (std::count(list->begin(), list->end(), v) > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, "[", i, "]: ", v, " is listed twice"));
      }
    }
  }
  if (!(max_mflops > 0 && max_mflops <= kMaxMflops)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_mflops: must be in (0, ", kMaxMflops, "], got ", max_mflops));
  }
  const MobileArch minimal = Minimal();
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(BuildGraph(minimal, *this));
  if (!info.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input: the smallest architecture of the space is not a valid graph: ",
                     info.status().message()));
  }
  if (info->flops > MaxFlops()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_mflops: ", max_mflops, " is below the smallest architecture of the space (",
        info->flops / 1e6, " MFLOPs)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<MobileSpace> MobileSpace::FromJson(const nlohmann::json& params) {
  MobileSpace space;
  JsonParams p(params, "space");
  if (auto s = p.CheckObject(); !s.ok()) return s;
  for (auto [key, field, lo, hi] : {std::tuple{"input_channels", &space.input_channels, 1, 8192},
                                    {"input_height", &space.input_height, 1, 4096},
                                    {"input_width", &space.input_width, 1, 4096},
                                    {"num_classes", &space.num_classes, 1, 100000},
                                    {"min_blocks", &space.min_blocks, 1, kMaxBlocks},
                                    {"max_blocks", &space.max_blocks, 1, kMaxBlocks}}) {
    if (auto s = p.Int(key, lo, hi, field); !s.ok()) return s;
  }
  if (auto s = p.IntSet("widths", 2, kMaxWidth, &space.widths); !s.ok()) return s;
  if (auto s = p.IntSet("stem_widths", 2, kMaxWidth, &space.stem_widths); !s.ok()) return s;
  if (auto s = p.Double("max_mflops", 1e-6, kMaxMflops, &space.max_mflops); !s.ok()) return s;
  if (auto s = p.Finish(); !s.ok()) return s;
  if (auto s = space.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("space.", s.message()));
  }
  return space;
}

nlohmann::json MobileSpace::ToJson() const {
  return nlohmann::json{{"input_channels", input_channels},
                        {"input_height", input_height},
                        {"input_width", input_width},
                        {"num_classes", num_classes},
                        {"min_blocks", min_blocks},
                        {"max_blocks", max_blocks},
                        {"widths", widths},
                        {"stem_widths", stem_widths},
                        {"max_mflops", max_mflops}};
}

absl::Status MobileSpace::Check(const MobileArch& arch) const {
  if (!Listed(stem_widths, arch.stem_channels)) {
    return absl::InvalidArgumentError(
        absl::StrCat("stem: ", arch.stem_channels, " is not one of ", ListText(stem_widths)));
  }
  const int n = static_cast<int>(arch.blocks.size());
  if (n < min_blocks || n > max_blocks) {
    return absl::InvalidArgumentError(
        absl::StrCat("blocks: ", n, " blocks, the space allows ", min_blocks, " to ", max_blocks));
  }
  for (int i = 0; i < n; ++i) {
    if (!Listed(widths, arch.blocks[i].out_channels)) {
      return absl::InvalidArgumentError(absl::StrCat("blocks[", i,
                                                     "].out: ", arch.blocks[i].out_channels,
                                                     " is not one of ", ListText(widths)));
    }
  }
  if (arch.Downsamples() > MaxDownsamples()) {
    return absl::InvalidArgumentError(
        absl::StrCat("blocks: ", arch.Downsamples(), " have stride 2; a ", input_height, "x",
                     input_width, " input allows ", MaxDownsamples()));
  }
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(BuildGraph(arch, *this));
  if (!info.ok()) return info.status();
  if (info->flops > MaxFlops()) {
    return absl::InvalidArgumentError(absl::StrCat("architecture: ", info->flops / 1e6,
                                                   " MFLOPs is past max_mflops ", max_mflops));
  }
  return absl::OkStatus();
}

MobileArch MobileSpace::Minimal() const {
  MobileArch arch;
  arch.stem_channels = *std::min_element(stem_widths.begin(), stem_widths.end());
  const int width = *std::min_element(widths.begin(), widths.end());
  const int downsamples = std::min(MaxDownsamples(), min_blocks);
  for (int i = 0; i < min_blocks; ++i) {
    MobileBlock b;
    b.out_channels = width;
    b.stride = i < downsamples ? 2 : 1;
    arch.blocks.push_back(b);
  }
  return arch;
}

Graph BuildGraph(const MobileArch& arch, const MobileSpace& space) {
  Graph graph;
  graph.input = Shape3{space.input_channels, space.input_height, space.input_width};
  graph.num_classes = space.num_classes;
  GraphBuilder g(&graph);
  std::string x = g.ConvBnAct("stem", kInputName, space.input_channels, arch.stem_channels, 3, 1, 1,
                              OpKind::kRelu6);
  int channels = arch.stem_channels;
  for (size_t i = 0; i < arch.blocks.size(); ++i) {
    const MobileBlock& b = arch.blocks[i];
    const std::string prefix = absl::StrCat("b", i);
    switch (b.type) {
      case MobileBlockType::kDwSeparable:
        x = g.DepthwiseSeparable(prefix, x, channels, b.out_channels, b.kernel, b.stride);
        break;
      case MobileBlockType::kMBConv:
        x = g.MBConv(prefix, x, channels, b.out_channels, b.expand, b.kernel, b.stride, b.se_ratio);
        break;
      case MobileBlockType::kFire: {
        // Fire has no stride of its own; SqueezeNet downsamples with a max
        // pool between Fire modules. 3x3/2 with padding 1 halves like the
        // strided convolutions do (rounding up).
        if (b.stride == 2) x = g.Pool(prefix + "/pool", x, OpKind::kMaxPool, 3, 2, 1);
        const int expand1x1 = b.out_channels / 2;
        x = g.Fire(prefix, x, FireSqueeze(b), expand1x1, b.out_channels - expand1x1);
        break;
      }
    }
    channels = b.out_channels;
  }
  x = g.Op("pool", OpKind::kGlobalAvgPool, {x});
  g.Dense("classifier", x, space.num_classes);
  return graph;
}

}  // namespace edgenas
