#include "search/space/mobile_arch.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "search/api/json_params.h"

namespace edgenas {
namespace {

constexpr int kMaxWidth = 8192;  // GraphLimits::max_channels

template <typename T, size_t N>
bool OneOf(T v, const T (&choices)[N]) {
  return std::find(std::begin(choices), std::end(choices), v) != std::end(choices);
}

template <typename T, size_t N>
std::string ChoiceList(const T (&choices)[N]) {
  std::string text;
  for (T c : choices) absl::StrAppend(&text, text.empty() ? "" : ", ", c);
  return absl::StrCat("{", text, "}");
}

// Reads a field that must be one of `choices`; absent is an error.
template <typename T, size_t N>
absl::Status ReadChoice(JsonParams& p, const std::string& key, const T (&choices)[N], T* out) {
  if (auto s = p.Require(key); !s.ok()) return s;
  T v{};
  absl::Status s;
  if constexpr (std::is_integral_v<T>) {
    s = p.Int(key, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), &v);
  } else {
    s = p.Double(key, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), &v);
  }
  if (!s.ok()) return s;
  if (!OneOf(v, choices)) {
    return absl::InvalidArgumentError(
        absl::StrCat(p.Field(key), ": must be one of ", ChoiceList(choices), ", got ", v));
  }
  *out = v;
  return absl::OkStatus();
}

absl::StatusOr<MobileBlock> BlockFromJson(const nlohmann::json& value, const std::string& path) {
  JsonParams p(value, path);
  if (auto s = p.CheckObject(); !s.ok()) return s;
  MobileBlock b;
  std::string type;
  if (auto s = p.Require("type"); !s.ok()) return s;
  if (auto s = p.String("type", &type); !s.ok()) return s;
  if (type == "dw_separable") {
    b.type = MobileBlockType::kDwSeparable;
  } else if (type == "mbconv") {
    b.type = MobileBlockType::kMBConv;
  } else if (type == "fire") {
    b.type = MobileBlockType::kFire;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        p.Field("type"), ": must be one of {dw_separable, mbconv, fire}, got \"", type, "\""));
  }
  if (auto s = p.Require("out"); !s.ok()) return s;
  if (auto s = p.Int("out", 1, kMaxWidth, &b.out_channels); !s.ok()) return s;
  static constexpr int kStrides[] = {1, 2};
  if (auto s = ReadChoice(p, "stride", kStrides, &b.stride); !s.ok()) return s;
  if (b.type == MobileBlockType::kFire) {
    if (auto s = ReadChoice(p, "squeeze", kMobileSqueezeRatios, &b.squeeze_ratio); !s.ok()) {
      return s;
    }
  } else {
    if (auto s = ReadChoice(p, "kernel", kMobileKernels, &b.kernel); !s.ok()) return s;
  }
  if (b.type == MobileBlockType::kMBConv) {
    if (auto s = ReadChoice(p, "expand", kMobileExpands, &b.expand); !s.ok()) return s;
    if (auto s = ReadChoice(p, "se", kMobileSeRatios, &b.se_ratio); !s.ok()) return s;
  }
  if (auto s = p.Finish(); !s.ok()) return s;
  return b;
}

}  // namespace

const char* MobileBlockTypeName(MobileBlockType type) {
  switch (type) {
    case MobileBlockType::kDwSeparable:
      return "dw_separable";
    case MobileBlockType::kMBConv:
      return "mbconv";
    case MobileBlockType::kFire:
      return "fire";
  }
  return "?";
}

bool MobileBlock::operator==(const MobileBlock& o) const {
  return type == o.type && out_channels == o.out_channels && stride == o.stride &&
         kernel == o.kernel && expand == o.expand && se_ratio == o.se_ratio &&
         squeeze_ratio == o.squeeze_ratio;
}

bool MobileArch::operator==(const MobileArch& o) const {
  return stem_channels == o.stem_channels && blocks == o.blocks;
}

int MobileArch::Downsamples() const {
  return static_cast<int>(std::count_if(blocks.begin(), blocks.end(),
                                        [](const MobileBlock& b) { return b.stride == 2; }));
}

nlohmann::json MobileArch::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const MobileBlock& b : blocks) {
    nlohmann::json j = {
        {"type", MobileBlockTypeName(b.type)}, {"out", b.out_channels}, {"stride", b.stride}};
    if (b.type == MobileBlockType::kFire) {
      j["squeeze"] = b.squeeze_ratio;
    } else {
      j["kernel"] = b.kernel;
    }
    if (b.type == MobileBlockType::kMBConv) {
      j["expand"] = b.expand;
      j["se"] = b.se_ratio;
    }
    list.push_back(std::move(j));
  }
  return nlohmann::json{{"stem", stem_channels}, {"blocks", std::move(list)}};
}

absl::StatusOr<MobileArch> MobileArch::FromJson(const nlohmann::json& value) {
  JsonParams p(value, "");
  if (auto s = p.CheckObject(); !s.ok()) return s;
  MobileArch arch;
  if (auto s = p.Require("stem"); !s.ok()) return s;
  if (auto s = p.Int("stem", 1, kMaxWidth, &arch.stem_channels); !s.ok()) return s;
  const nlohmann::json* blocks = nullptr;
  if (auto s = p.Require("blocks"); !s.ok()) return s;
  if (auto s = p.Object("blocks", &blocks); !s.ok()) return s;
  if (auto s = p.Finish(); !s.ok()) return s;
  if (!blocks->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("blocks: must be a list of blocks, got ", blocks->type_name()));
  }
  for (size_t i = 0; i < blocks->size(); ++i) {
    absl::StatusOr<MobileBlock> b = BlockFromJson((*blocks)[i], absl::StrCat("blocks[", i, "]"));
    if (!b.ok()) return b.status();
    arch.blocks.push_back(*b);
  }
  return arch;
}

}  // namespace edgenas
