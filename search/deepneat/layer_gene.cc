#include "search/deepneat/layer_gene.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "search/api/json_params.h"

namespace edgenas {
namespace deepneat {
namespace {

// Widths are bounded so that a concatenation of a few layers stays within
// the graph IR's channel limit.
constexpr int kMaxWidth = 1024;

template <typename T>
const T& PickOf(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

bool Reads(LayerType type, const char* field) {
  const std::string f = field;
  switch (type) {
    case LayerType::kConv:
    case LayerType::kDwSeparable:
      return f == "width" || f == "kernel" || f == "stride";
    case LayerType::kMBConv:
      return f == "width" || f == "kernel" || f == "stride" || f == "expand" || f == "se";
    case LayerType::kFire:
      return f == "width" || f == "squeeze" || f == "stride";
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
      return f == "stride";
    case LayerType::kDense:
      return f == "width";
  }
  return false;
}

// The nearest choice to `value` in a sorted list (for a gene whose old
// value is not among the current choices).
template <typename T>
size_t Nearest(const std::vector<T>& sorted, T value) {
  size_t best = 0;
  for (size_t i = 1; i < sorted.size(); ++i)
    if (std::abs(double(sorted[i]) - value) < std::abs(double(sorted[best]) - value)) best = i;
  return best;
}

absl::Status DoubleList(JsonParams& p, const std::string& key, double lo, double hi,
                        std::vector<double>* out) {
  const nlohmann::json* v = nullptr;
  if (absl::Status s = p.Object(key, &v); !s.ok() || v == nullptr) return s;
  if (!v->is_array() || v->empty())
    return absl::InvalidArgumentError(absl::StrCat(p.Field(key), ": must be a non-empty list"));
  std::vector<double> items;
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& x = (*v)[i];
    if (!x.is_number() || !(x.get<double>() >= lo && x.get<double>() <= hi))
      return absl::InvalidArgumentError(
          absl::StrCat(p.Field(key), "[", i, "]: must be a number in [", lo, ", ", hi, "]"));
    if (std::find(items.begin(), items.end(), x.get<double>()) != items.end())
      return absl::InvalidArgumentError(absl::StrCat(p.Field(key), "[", i, "]: repeated"));
    items.push_back(x.get<double>());
  }
  *out = items;
  return absl::OkStatus();
}

}  // namespace

const char* LayerTypeName(LayerType type) {
  switch (type) {
    case LayerType::kConv: return "conv";
    case LayerType::kDwSeparable: return "dw_separable";
    case LayerType::kMBConv: return "mbconv";
    case LayerType::kFire: return "fire";
    case LayerType::kMaxPool: return "max_pool";
    case LayerType::kAvgPool: return "avg_pool";
    case LayerType::kDense: return "dense";
  }
  return "?";
}

std::optional<LayerType> LayerTypeFromName(const std::string& name) {
  for (LayerType t : kAllLayerTypes)
    if (name == LayerTypeName(t)) return t;
  return std::nullopt;
}

absl::Status LayerChoices::Validate(const std::string& path) const {
  const auto field = [&](const std::string& f) { return path.empty() ? f : absl::StrCat(path, ".", f); };
  if (types.empty()) return absl::InvalidArgumentError(absl::StrCat(field("types"), ": empty"));
  if (std::set<LayerType>(types.begin(), types.end()).size() != types.size())
    return absl::InvalidArgumentError(absl::StrCat(field("types"), ": a type is repeated"));
  if (std::all_of(types.begin(), types.end(), [](LayerType t) {
        return t == LayerType::kMaxPool || t == LayerType::kAvgPool;
      }))
    return absl::InvalidArgumentError(
        absl::StrCat(field("types"), ": needs a layer with weights, not only pooling"));
  for (auto [name, list, lo, hi] : {std::tuple{"widths", &widths, 2, kMaxWidth},
                                    {"kernels", &kernels, 1, 7},
                                    {"expands", &expands, 1, 8}}) {
    if (list->empty()) return absl::InvalidArgumentError(absl::StrCat(field(name), ": empty"));
    for (size_t i = 0; i < list->size(); ++i)
      if ((*list)[i] < lo || (*list)[i] > hi)
        return absl::InvalidArgumentError(
            absl::StrCat(field(name), "[", i, "]: must be in [", lo, ", ", hi, "]"));
  }
  for (size_t i = 0; i < kernels.size(); ++i)
    if (kernels[i] % 2 == 0)
      return absl::InvalidArgumentError(absl::StrCat(field("kernels"), "[", i, "]: must be odd"));
  for (auto [name, list, lo, hi] : {std::tuple{"se_ratios", &se_ratios, 0.0, 0.5},
                                    {"squeeze_ratios", &squeeze_ratios, 0.01, 1.0}}) {
    if (list->empty()) return absl::InvalidArgumentError(absl::StrCat(field(name), ": empty"));
    for (size_t i = 0; i < list->size(); ++i)
      if (!((*list)[i] >= lo && (*list)[i] <= hi))
        return absl::InvalidArgumentError(
            absl::StrCat(field(name), "[", i, "]: must be in [", lo, ", ", hi, "]"));
  }
  if (!(stride2_rate >= 0 && stride2_rate <= 1))
    return absl::InvalidArgumentError(absl::StrCat(field("stride2_rate"), ": must be in [0, 1]"));
  return absl::OkStatus();
}

absl::StatusOr<LayerChoices> LayerChoices::FromJson(const nlohmann::json& j, const std::string& path) {
  LayerChoices c;
  JsonParams p(j, path);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  const nlohmann::json* types = nullptr;
  if (absl::Status s = p.Object("types", &types); !s.ok()) return s;
  if (types != nullptr) {
    if (!types->is_array() || types->empty())
      return absl::InvalidArgumentError(absl::StrCat(p.Field("types"), ": must be a non-empty list of layer types"));
    c.types.clear();
    for (size_t i = 0; i < types->size(); ++i) {
      const nlohmann::json& t = (*types)[i];
      std::optional<LayerType> type = t.is_string() ? LayerTypeFromName(t.get<std::string>()) : std::nullopt;
      if (!type) {
        std::string known;
        for (LayerType k : kAllLayerTypes) absl::StrAppend(&known, known.empty() ? "" : ", ", LayerTypeName(k));
        return absl::InvalidArgumentError(
            absl::StrCat(p.Field("types"), "[", i, "]: not a layer type (", known, ")"));
      }
      c.types.push_back(*type);
    }
  }
  if (absl::Status s = p.IntSet("widths", 2, kMaxWidth, &c.widths); !s.ok()) return s;
  if (absl::Status s = p.IntSet("kernels", 1, 7, &c.kernels); !s.ok()) return s;
  if (absl::Status s = p.IntSet("expands", 1, 8, &c.expands); !s.ok()) return s;
  if (absl::Status s = DoubleList(p, "se_ratios", 0, 0.5, &c.se_ratios); !s.ok()) return s;
  if (absl::Status s = DoubleList(p, "squeeze_ratios", 0.01, 1, &c.squeeze_ratios); !s.ok()) return s;
  if (absl::Status s = p.Double("stride2_rate", 0, 1, &c.stride2_rate); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  std::sort(c.widths.begin(), c.widths.end());
  std::sort(c.kernels.begin(), c.kernels.end());
  std::sort(c.expands.begin(), c.expands.end());
  std::sort(c.se_ratios.begin(), c.se_ratios.end());
  std::sort(c.squeeze_ratios.begin(), c.squeeze_ratios.end());
  if (absl::Status s = c.Validate(path); !s.ok()) return s;
  return c;
}

nlohmann::json LayerChoices::ToJson() const {
  nlohmann::json t = nlohmann::json::array();
  for (LayerType type : types) t.push_back(LayerTypeName(type));
  return {{"types", t},         {"widths", widths},       {"kernels", kernels},
          {"expands", expands}, {"se_ratios", se_ratios}, {"squeeze_ratios", squeeze_ratios},
          {"stride2_rate", stride2_rate}};
}

bool LayerGene::operator==(const LayerGene& o) const {
  return type == o.type && width == o.width && kernel == o.kernel && stride == o.stride &&
         expand == o.expand && se_ratio == o.se_ratio && squeeze_ratio == o.squeeze_ratio;
}

LayerGene LayerGene::Canonical() const {
  LayerGene c;
  c.type = type;
  c.width = Reads(type, "width") ? width : 0;
  c.kernel = Reads(type, "kernel") ? kernel : 3;
  c.stride = Reads(type, "stride") ? stride : 1;
  c.expand = Reads(type, "expand") ? expand : 1;
  c.se_ratio = Reads(type, "se") ? se_ratio : 0.0;
  c.squeeze_ratio = Reads(type, "squeeze") ? squeeze_ratio : 0.0;
  return c;
}

nlohmann::json LayerGene::ToJson() const {
  nlohmann::json j = {{"type", LayerTypeName(type)}};
  if (Reads(type, "width")) j["width"] = width;
  if (Reads(type, "kernel")) j["kernel"] = kernel;
  if (Reads(type, "stride")) j["stride"] = stride;
  if (Reads(type, "expand")) j["expand"] = expand;
  if (Reads(type, "se")) j["se"] = se_ratio;
  if (Reads(type, "squeeze")) j["squeeze"] = squeeze_ratio;
  return j;
}

absl::StatusOr<LayerGene> LayerGene::FromJson(const nlohmann::json& j, const std::string& path) {
  JsonParams p(j, path);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  std::string type_name;
  if (absl::Status s = p.Require("type"); !s.ok()) return s;
  if (absl::Status s = p.String("type", &type_name); !s.ok()) return s;
  std::optional<LayerType> type = LayerTypeFromName(type_name);
  if (!type) return absl::InvalidArgumentError(absl::StrCat(p.Field("type"), ": not a layer type"));
  LayerGene g;
  g.type = *type;
  // Only the fields the type reads are known keys: another is refused.
  if (Reads(g.type, "width")) {
    if (absl::Status s = p.Require("width"); !s.ok()) return s;
    if (absl::Status s = p.Int("width", 2, kMaxWidth, &g.width); !s.ok()) return s;
  }
  if (Reads(g.type, "kernel"))
    if (absl::Status s = p.Int("kernel", 1, 7, &g.kernel); !s.ok()) return s;
  if (Reads(g.type, "stride"))
    if (absl::Status s = p.Int("stride", 1, 2, &g.stride); !s.ok()) return s;
  if (Reads(g.type, "expand"))
    if (absl::Status s = p.Int("expand", 1, 8, &g.expand); !s.ok()) return s;
  if (Reads(g.type, "se"))
    if (absl::Status s = p.Double("se", 0, 0.5, &g.se_ratio); !s.ok()) return s;
  if (Reads(g.type, "squeeze")) {
    g.squeeze_ratio = 0.25;
    if (absl::Status s = p.Double("squeeze", 0.01, 1, &g.squeeze_ratio); !s.ok()) return s;
  }
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  if (Reads(g.type, "kernel") && g.kernel % 2 == 0)
    return absl::InvalidArgumentError(absl::StrCat(p.Field("kernel"), ": must be odd"));
  return g.Canonical();
}

namespace {

// Every field drawn, whether the type reads it or not.
LayerGene RandomFields(const LayerChoices& choices, std::mt19937_64& rng) {
  LayerGene g;
  g.type = PickOf(choices.types, rng);
  g.width = PickOf(choices.widths, rng);
  g.kernel = PickOf(choices.kernels, rng);
  g.stride = std::uniform_real_distribution<double>(0, 1)(rng) < choices.stride2_rate ? 2 : 1;
  g.expand = PickOf(choices.expands, rng);
  g.se_ratio = PickOf(choices.se_ratios, rng);
  g.squeeze_ratio = PickOf(choices.squeeze_ratios, rng);
  return g;
}

}  // namespace

LayerGene RandomLayer(const LayerChoices& choices, std::mt19937_64& rng) {
  return RandomFields(choices, rng).Canonical();
}

LayerGene MutateLayer(const LayerGene& layer, const LayerChoices& choices, std::mt19937_64& rng) {
  // Every change this layer admits, one drawn uniformly.
  std::vector<LayerGene> options;
  const auto add = [&](LayerGene g) {
    g = g.Canonical();
    if (g != layer) options.push_back(g);
  };
  for (LayerType t : choices.types) {
    if (t == layer.type) continue;
    // Another type keeps what it can of this one (width, kernel, stride),
    // and draws what this one lacks.
    LayerGene g = RandomFields(choices, rng);
    g.type = t;
    if (Reads(layer.type, "width")) g.width = layer.width;
    if (Reads(layer.type, "kernel")) g.kernel = layer.kernel;
    if (Reads(layer.type, "stride")) g.stride = layer.stride;
    add(g);
  }
  if (Reads(layer.type, "width")) {
    const size_t at = Nearest(choices.widths, layer.width);
    for (size_t n : {at - 1, at + 1})
      if (n < choices.widths.size()) {
        LayerGene g = layer;
        g.width = choices.widths[n];
        add(g);
      }
    if (choices.widths[at] != layer.width) {
      LayerGene g = layer;
      g.width = choices.widths[at];
      add(g);
    }
  }
  const auto each = [&](const char* field, auto list, auto member) {
    if (!Reads(layer.type, field)) return;
    for (auto v : list) {
      LayerGene g = layer;
      g.*member = v;
      add(g);
    }
  };
  each("kernel", choices.kernels, &LayerGene::kernel);
  each("stride", std::vector<int>{1, 2}, &LayerGene::stride);
  each("expand", choices.expands, &LayerGene::expand);
  each("se", choices.se_ratios, &LayerGene::se_ratio);
  each("squeeze", choices.squeeze_ratios, &LayerGene::squeeze_ratio);
  if (options.empty()) return layer;
  return PickOf(options, rng);
}

double LayerDistance(const LayerGene& a, const LayerGene& b) {
  if (a.type != b.type) return 1.0;
  double d = 0;
  if (Reads(a.type, "width") && a.width > 0 && b.width > 0)
    d += 0.5 * std::abs(std::log2(double(a.width) / b.width));
  if (a.kernel != b.kernel) d += 0.5;
  if (a.stride != b.stride) d += 0.5;
  if (a.expand != b.expand) d += 0.25;
  if (a.se_ratio != b.se_ratio) d += 0.25;
  if (a.squeeze_ratio != b.squeeze_ratio) d += 0.25;
  return d;
}

}  // namespace deepneat
}  // namespace edgenas
