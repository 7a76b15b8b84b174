// A MobileNet-like search space of efficient blocks (depthwise-separable,
// MBConv with optional squeeze-and-excite, Fire), after MnasNet's factorized
// space without its per-stage repetition: every architecture is
//
//   stem conv 3x3 + BN + relu6 -> blocks -> global average pool -> dense
//
// with a bounded number of stride-2 blocks (the last feature map stays at
// least 4x4) and a bound on multiply-adds, so one epoch of a 28x28 dataset
// trains in tens of seconds on two cores.
#ifndef EDGENAS_SEARCH_SPACE_MOBILE_SPACE_H_
#define EDGENAS_SEARCH_SPACE_MOBILE_SPACE_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/graph.h"
#include "search/space/mobile_arch.h"

namespace edgenas {

// The options of the space. Plain data: set fields, then Validate(), or
// read them with FromJson, which validates.
struct MobileSpace {
  int input_channels = 1, input_height = 28, input_width = 28;
  int num_classes = 10;
  int min_blocks = 2, max_blocks = 6;
  std::vector<int> widths = {16, 24, 32, 48, 64, 96};  // block outputs
  std::vector<int> stem_widths = {8, 16, 24};
  double max_mflops = 30;  // millions of multiply-adds per sample (GraphInfo::flops)

  // floor(log2(min(H, W) / 4)), 0 below 8: stride-2 blocks allowed.
  int MaxDownsamples() const;
  int64_t MaxFlops() const;

  // Every field in range, named when not; and the space's Minimal()
  // architecture fits max_mflops, so Sample always has an answer.
  absl::Status Validate() const;
  // Absent keys keep the defaults above; unknown keys are refused by name.
  static absl::StatusOr<MobileSpace> FromJson(const nlohmann::json& params);
  nlohmann::json ToJson() const;

  // OK when `arch` belongs to the space: block count, widths from the
  // lists, stride-2 count, a graph that passes AnalyzeGraph, and at most
  // MaxFlops() multiply-adds. An error names the field ("blocks[2].out").
  absl::Status Check(const MobileArch& arch) const;

  // A uniformly drawn architecture (number of blocks, stride-2 positions,
  // then each block's fields), drawn again until Check passes. Uses only
  // the generator's raw output, so a seed gives the same draw everywhere.
  // Falls back to Minimal() after many refusals (a space whose bound
  // refuses nearly everything).
  MobileArch Sample(std::mt19937_64& rng) const;

  // One random local change of `parent`: a width (stem or block) to a
  // neighbouring choice, a kernel (for Fire: the squeeze ratio), an expand
  // ratio, squeeze-excite on/off, a block's type, a block's stride, or
  // inserting or removing a block. The child passes Check and differs from
  // the parent; only when no such child is found (a space of one
  // architecture) is the parent returned unchanged.
  MobileArch Mutate(const MobileArch& parent, std::mt19937_64& rng) const;

  // A cheap architecture of the space: the narrowest stem, min_blocks
  // depthwise-separable 3x3 blocks at the narrowest width, downsampling as
  // early as allowed. Not necessarily the very cheapest.
  MobileArch Minimal() const;
};

// The graph of `arch` over the space's input shape and class count. Node
// names are "stem/...", "b<i>/...", "pool", "classifier".
Graph BuildGraph(const MobileArch& arch, const MobileSpace& space);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_SPACE_MOBILE_SPACE_H_
