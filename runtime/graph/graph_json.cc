#include "runtime/graph/graph_json.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"

namespace edgenas {
namespace {

using nlohmann::json;

constexpr int64_t kIntBound = int64_t{1} << 30;

// An integer within +-2^30. Unsigned JSON numbers are checked as unsigned:
// one above INT64_MAX, read as int64, wraps to a small negative value.
bool BoundedInt(const json& v, int* out) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(kIntBound)) return false;
    *out = static_cast<int>(v.get<uint64_t>());
    return true;
  }
  if (!v.is_number_integer()) return false;
  const int64_t x = v.get<int64_t>();
  if (x < -kIntBound || x > kIntBound) return false;
  *out = static_cast<int>(x);
  return true;
}

// Reads the fields of one JSON object, remembering which were used so that
// a misspelt key is reported instead of silently ignored.
class Fields {
 public:
  Fields(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  absl::Status Int(const char* key, int* out, bool required = false) {
    used_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return required ? Missing(key) : absl::OkStatus();
    if (!it->is_number_integer()) return Bad(key, "must be an integer");
    if (!BoundedInt(*it, out)) return Bad(key, "is out of range");
    return absl::OkStatus();
  }

  // An int, or a pair [h, w].
  absl::Status Pair(const char* key, int* h, int* w, bool required = false) {
    used_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return required ? Missing(key) : absl::OkStatus();
    if (it->is_number_integer()) {
      if (!BoundedInt(*it, h)) return Bad(key, "is out of range");
      *w = *h;
      return absl::OkStatus();
    }
    if (it->is_array() && it->size() == 2 && (*it)[0].is_number_integer() &&
        (*it)[1].is_number_integer()) {
      if (!BoundedInt((*it)[0], h) || !BoundedInt((*it)[1], w)) return Bad(key, "is out of range");
      return absl::OkStatus();
    }
    return Bad(key, "must be an integer or [h, w]");
  }

  absl::Status Float(const char* key, float* out) {
    used_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return absl::OkStatus();
    if (!it->is_number()) return Bad(key, "must be a number");
    // A double past the float range does not convert (undefined behaviour).
    const double v = it->get<double>();
    if (!(std::fabs(v) <= std::numeric_limits<float>::max())) return Bad(key, "is out of range");
    *out = static_cast<float>(v);
    return absl::OkStatus();
  }

  absl::Status Bool(const char* key, bool* out) {
    used_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return absl::OkStatus();
    if (!it->is_boolean()) return Bad(key, "must be true or false");
    *out = it->get<bool>();
    return absl::OkStatus();
  }

  absl::Status String(const char* key, std::string* out, bool required = false) {
    used_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return required ? Missing(key) : absl::OkStatus();
    if (!it->is_string()) return Bad(key, "must be a string");
    *out = it->get<std::string>();
    return absl::OkStatus();
  }

  absl::Status Strings(const char* key, std::vector<std::string>* out) {
    used_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) return absl::OkStatus();
    if (!it->is_array()) return Bad(key, "must be a list of node names");
    out->clear();
    for (const json& v : *it) {
      if (!v.is_string()) return Bad(key, "must be a list of node names");
      out->push_back(v.get<std::string>());
    }
    return absl::OkStatus();
  }

  bool Has(const char* key) const { return obj_.contains(key); }

  // Fails on the first key nobody asked for.
  absl::Status NoOthers() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!used_.count(it.key()))
        return absl::InvalidArgumentError(absl::StrCat(where_, ": unknown field '", it.key(), "'"));
    }
    return absl::OkStatus();
  }

  absl::Status Bad(const char* key, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": ", key, ": ", what));
  }

 private:
  absl::Status Missing(const char* key) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": ", key, ": required"));
  }
  const json& obj_;
  std::string where_;
  std::set<std::string> used_;
};

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status _s = (expr);          \
    if (!_s.ok()) return _s;           \
  } while (0)

// Channels of `name` in the graph built so far (for blocks that need them).
absl::StatusOr<int> ChannelsOf(const Graph& g, const std::string& name) {
  if (name == kInputName) return g.input.channels;
  absl::StatusOr<GraphInfo> info = InferShapes(g);
  if (!info.ok()) return info.status();
  int idx = g.Find(name);
  if (idx < 0) return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a node"));
  return info->nodes[idx].shape.channels;
}

absl::Status ParseBlock(const std::string& op, Fields& f, const std::string& name,
                        const std::string& input, Graph* g) {
  absl::StatusOr<int> cin = ChannelsOf(*g, input);
  if (!cin.ok()) return f.Bad("inputs", cin.status().message());
  GraphBuilder b(g);
  int out = 0, kernel = 3, stride = 1, expand = 6, groups = 1, squeeze = 0, e1 = 0, e3 = 0;
  float se_ratio = 0;
  std::string act_name = "relu6";
  if (op == "fire") {
    RETURN_IF_ERROR(f.Int("squeeze", &squeeze, true));
    RETURN_IF_ERROR(f.Int("expand1x1", &e1, true));
    RETURN_IF_ERROR(f.Int("expand3x3", &e3, true));
    RETURN_IF_ERROR(f.NoOthers());
    b.Fire(name, input, squeeze, e1, e3);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(f.Int("out_channels", &out, true));
  RETURN_IF_ERROR(f.Int("stride", &stride));
  if (op == "shufflenet_unit") {
    RETURN_IF_ERROR(f.Int("groups", &groups, true));
    RETURN_IF_ERROR(f.NoOthers());
    // The builder divides by groups; everything else is checked by analysis.
    if (groups < 1) return f.Bad("groups", "must be at least 1");
    b.ShuffleUnit(name, input, *cin, out, groups, stride);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(f.Int("kernel", &kernel));
  RETURN_IF_ERROR(f.String("activation", &act_name));
  std::optional<OpKind> act = OpFromName(act_name);
  if (!act || !IsActivation(*act)) return f.Bad("activation", "must name an activation op");
  if (op == "dw_separable") {
    RETURN_IF_ERROR(f.NoOthers());
    b.DepthwiseSeparable(name, input, *cin, out, kernel, stride, *act);
    return absl::OkStatus();
  }
  // mbconv
  RETURN_IF_ERROR(f.Int("expand", &expand));
  RETURN_IF_ERROR(f.Float("se_ratio", &se_ratio));
  RETURN_IF_ERROR(f.NoOthers());
  if (expand < 1 || expand > 16) return f.Bad("expand", "must be in [1, 16]");
  if (!(se_ratio >= 0 && se_ratio <= 1)) return f.Bad("se_ratio", "must be in [0, 1]");
  b.MBConv(name, input, *cin, out, expand, kernel, stride, se_ratio, *act);
  return absl::OkStatus();
}

absl::Status ParseNode(const json& j, int index, const std::string& previous, Graph* g) {
  std::string where = absl::StrCat("nodes[", index, "]");
  if (!j.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  auto name_it = j.find("name");
  if (name_it == j.end() || !name_it->is_string())
    return absl::InvalidArgumentError(where + ": name: required, a string");
  Node n;
  n.name = name_it->get<std::string>();
  Fields f(j, absl::StrCat("node '", n.name.substr(0, 128), "'"));
  std::string op_name;
  RETURN_IF_ERROR(f.String("name", &n.name, true));
  RETURN_IF_ERROR(f.String("op", &op_name, true));
  RETURN_IF_ERROR(f.Strings("inputs", &n.inputs));
  if (!f.Has("inputs")) n.inputs = {previous};

  if (op_name == "mbconv" || op_name == "dw_separable" || op_name == "fire" ||
      op_name == "shufflenet_unit") {
    if (n.inputs.size() != 1) return f.Bad("inputs", "a block reads one input");
    return ParseBlock(op_name, f, n.name, n.inputs[0], g);
  }
  std::optional<OpKind> op = OpFromName(op_name);
  if (!op)
    return f.Bad("op", absl::StrCat("unknown '", op_name, "'; known: ",
                                    absl::StrJoin(AllOpNames(), ", "),
                                    ", and the blocks mbconv, dw_separable, fire, shufflenet_unit"));
  n.op = *op;
  switch (n.op) {
    case OpKind::kConv: {
      ConvAttrs& a = n.conv;
      RETURN_IF_ERROR(f.Int("out_channels", &a.out_channels, true));
      RETURN_IF_ERROR(f.Pair("kernel", &a.kernel_h, &a.kernel_w, true));
      RETURN_IF_ERROR(f.Pair("stride", &a.stride_h, &a.stride_w));
      RETURN_IF_ERROR(f.Pair("dilation", &a.dilation_h, &a.dilation_w));
      if (j.contains("padding") && j["padding"].is_string()) {
        std::string pad;
        RETURN_IF_ERROR(f.String("padding", &pad));
        if (pad != "same") return f.Bad("padding", "must be an integer, [h, w] or \"same\"");
        // In 64 bits: both factors may be up to 2^30 here, before analysis.
        a.pad_h = static_cast<int>(std::clamp<int64_t>(
            int64_t{a.dilation_h} * (a.kernel_h - 1) / 2, -kIntBound, kIntBound));
        a.pad_w = static_cast<int>(std::clamp<int64_t>(
            int64_t{a.dilation_w} * (a.kernel_w - 1) / 2, -kIntBound, kIntBound));
      } else {
        RETURN_IF_ERROR(f.Pair("padding", &a.pad_h, &a.pad_w));
      }
      RETURN_IF_ERROR(f.Int("groups", &a.groups));
      RETURN_IF_ERROR(f.Bool("bias", &a.bias));
      break;
    }
    case OpKind::kDense:
      RETURN_IF_ERROR(f.Int("units", &n.dense.units, true));
      RETURN_IF_ERROR(f.Bool("bias", &n.dense.bias));
      break;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: {
      PoolAttrs& a = n.pool;
      RETURN_IF_ERROR(f.Pair("kernel", &a.kernel_h, &a.kernel_w, true));
      a.stride_h = a.kernel_h;
      a.stride_w = a.kernel_w;
      RETURN_IF_ERROR(f.Pair("stride", &a.stride_h, &a.stride_w));
      RETURN_IF_ERROR(f.Pair("padding", &a.pad_h, &a.pad_w));
      break;
    }
    case OpKind::kBatchNorm:
      RETURN_IF_ERROR(f.Float("epsilon", &n.bn_epsilon));
      RETURN_IF_ERROR(f.Float("momentum", &n.bn_momentum));
      break;
    case OpKind::kElu:
      RETURN_IF_ERROR(f.Float("alpha", &n.alpha));
      break;
    case OpKind::kDropout:
      RETURN_IF_ERROR(f.Float("rate", &n.rate));
      break;
    case OpKind::kChannelShuffle:
      RETURN_IF_ERROR(f.Int("groups", &n.shuffle_groups, true));
      break;
    default:
      break;
  }
  RETURN_IF_ERROR(f.NoOthers());
  g->nodes.push_back(std::move(n));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Graph> GraphFromJsonValue(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("architecture: must be a JSON object");
  Graph g;
  Fields f(j, "architecture");
  auto in = j.find("input");
  if (in == j.end()) return f.Bad("input", "required, e.g. [1, 28, 28] (channels, height, width)");
  if (!in->is_array() || in->size() != 3 || !(*in)[0].is_number_integer() ||
      !(*in)[1].is_number_integer() || !(*in)[2].is_number_integer())
    return f.Bad("input", "must be [channels, height, width]");
  for (int k = 0; k < 3; ++k) {
    int64_t v = (*in)[k].get<int64_t>();
    if (v < 1 || v > (1 << 20)) return f.Bad("input", "dimensions must be positive and bounded");
  }
  g.input = Shape3{(*in)[0].get<int>(), (*in)[1].get<int>(), (*in)[2].get<int>()};
  Fields& top = f;
  RETURN_IF_ERROR(top.Int("num_classes", &g.num_classes, true));
  RETURN_IF_ERROR(top.String("output", &g.output));
  auto nodes = j.find("nodes");
  if (nodes == j.end() || !nodes->is_array())
    return top.Bad("nodes", "required: a list of node objects");
  if (nodes->size() > 100000) return top.Bad("nodes", "too many nodes");
  std::string previous(kInputName);
  for (size_t i = 0; i < nodes->size(); ++i) {
    RETURN_IF_ERROR(ParseNode((*nodes)[i], static_cast<int>(i), previous, &g));
    previous = g.nodes.back().name;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k != "input" && k != "num_classes" && k != "output" && k != "nodes" && k != "name" &&
        k != "description")
      return absl::InvalidArgumentError(absl::StrCat("architecture: unknown field '", k, "'"));
  }
  return g;
}

absl::StatusOr<Graph> GraphFromJson(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("architecture: not valid JSON");
  return GraphFromJsonValue(j);
}

json GraphToJsonValue(const Graph& g) {
  json nodes = json::array();
  for (const Node& n : g.nodes) {
    json o;
    o["name"] = n.name;
    o["op"] = std::string(OpName(n.op));
    o["inputs"] = n.inputs;
    switch (n.op) {
      case OpKind::kConv: {
        const ConvAttrs& a = n.conv;
        o["out_channels"] = a.out_channels;
        o["kernel"] = {a.kernel_h, a.kernel_w};
        o["stride"] = {a.stride_h, a.stride_w};
        o["padding"] = {a.pad_h, a.pad_w};
        o["dilation"] = {a.dilation_h, a.dilation_w};
        o["groups"] = a.groups;
        o["bias"] = a.bias;
        break;
      }
      case OpKind::kDense:
        o["units"] = n.dense.units;
        o["bias"] = n.dense.bias;
        break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
        o["kernel"] = {n.pool.kernel_h, n.pool.kernel_w};
        o["stride"] = {n.pool.stride_h, n.pool.stride_w};
        o["padding"] = {n.pool.pad_h, n.pool.pad_w};
        break;
      case OpKind::kBatchNorm:
        o["epsilon"] = n.bn_epsilon;
        o["momentum"] = n.bn_momentum;
        break;
      case OpKind::kElu:
        o["alpha"] = n.alpha;
        break;
      case OpKind::kDropout:
        o["rate"] = n.rate;
        break;
      case OpKind::kChannelShuffle:
        o["groups"] = n.shuffle_groups;
        break;
      default:
        break;
    }
    nodes.push_back(std::move(o));
  }
  json j;
  j["input"] = {g.input.channels, g.input.height, g.input.width};
  j["num_classes"] = g.num_classes;
  if (!g.output.empty()) j["output"] = g.output;
  j["nodes"] = std::move(nodes);
  return j;
}

// Names are not validated here; invalid UTF-8 in one must not throw.
std::string GraphToJson(const Graph& g, int indent) {
  return GraphToJsonValue(g).dump(indent, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<Graph> ReadGraphJsonFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("architecture file '", path, "': cannot open"));
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes)
      return absl::InvalidArgumentError(
          absl::StrCat("architecture file '", path, "': larger than ", max_bytes, " bytes"));
  }
  absl::StatusOr<Graph> g = GraphFromJson(text);
  if (!g.ok())
    return absl::Status(g.status().code(), absl::StrCat(path, ": ", g.status().message()));
  return g;
}

}  // namespace edgenas
