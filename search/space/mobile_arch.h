// The encoding of one architecture of the mobile search space: a stem width
// and a list of efficient blocks. MobileSpace (mobile_space.h) samples,
// mutates and builds these; this file only says what one is and how it
// reads and writes as JSON:
//
//   {"stem": 16, "blocks": [
//      {"type": "dw_separable", "out": 24, "kernel": 3, "stride": 2},
//      {"type": "mbconv", "out": 32, "kernel": 5, "expand": 6, "se": 0.25, "stride": 1},
//      {"type": "fire", "out": 48, "squeeze": 0.25, "stride": 2}]}
//
// A block carries only the fields its type reads, so two encodings that
// build the same graph are equal.
#ifndef EDGENAS_SEARCH_SPACE_MOBILE_ARCH_H_
#define EDGENAS_SEARCH_SPACE_MOBILE_ARCH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace edgenas {

enum class MobileBlockType { kDwSeparable, kMBConv, kFire };

// "dw_separable", "mbconv", "fire".
const char* MobileBlockTypeName(MobileBlockType type);

// The per-field choices; a MobileSpace's widths are options, these are not.
inline constexpr int kMobileKernels[] = {3, 5};
inline constexpr int kMobileExpands[] = {1, 3, 6};
inline constexpr double kMobileSeRatios[] = {0.0, 0.25};
inline constexpr double kMobileSqueezeRatios[] = {0.125, 0.25, 0.5};

struct MobileBlock {
  MobileBlockType type = MobileBlockType::kDwSeparable;
  int out_channels = 16;
  int stride = 1;              // 1 or 2
  int kernel = 3;              // dw_separable and mbconv; 3 for fire
  int expand = 1;              // mbconv; 1 otherwise
  double se_ratio = 0.0;       // mbconv; 0 otherwise
  double squeeze_ratio = 0.0;  // fire (squeeze channels / out); 0 otherwise

  bool operator==(const MobileBlock& o) const;
  bool operator!=(const MobileBlock& o) const { return !(*this == o); }
};

struct MobileArch {
  int stem_channels = 16;
  std::vector<MobileBlock> blocks;

  bool operator==(const MobileArch& o) const;
  bool operator!=(const MobileArch& o) const { return !(*this == o); }

  // Stride-2 blocks.
  int Downsamples() const;

  nlohmann::json ToJson() const;
  // Checks every field against the fixed choices above (widths only for
  // being positive: the space checks its own list) and names the bad one,
  // e.g. "blocks[1].expand".
  static absl::StatusOr<MobileArch> FromJson(const nlohmann::json& value);
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_SPACE_MOBILE_ARCH_H_
