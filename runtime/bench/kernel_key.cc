#include "runtime/bench/kernel_key.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace edgenas {
namespace {

// Larger than any size AnalyzeGraph accepts; bounds what a key may claim.
constexpr int64_t kMaxNumber = 1 << 16;

std::string Pair(int64_t h, int64_t w) {
  return h == w ? absl::StrCat(h) : absl::StrCat(h, "x", w);
}

std::string ShapeText(const ValueShape& s) {
  return s.flat ? absl::StrCat(s.channels) : absl::StrCat(s.channels, "x", s.height, "x", s.width);
}

ValueShape InputShape(const GraphInfo& info, int v, int k) {
  const int src = info.nodes[v].inputs[k];
  return src == kGraphInput ? info.input_shape : info.nodes[src].shape;
}

// A parsed key: every attribute with the default it has when absent.
struct KeyWords {
  std::string variant;  // pools: max | avg | gap
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = -1, pw = -1, dh = 1, dw = 1, groups = 1;
  int64_t cin = -1, cout = -1;
  int64_t n = 1;                             // add: inputs of the one shape given
  std::vector<std::vector<int64_t>> inputs;  // each {C, H, W} or {F}
  std::vector<int64_t> by;
};

bool Number(absl::string_view text, int64_t* out) {
  return absl::SimpleAtoi(text, out) && *out >= 0 && *out <= kMaxNumber;
}

// "3" -> 3, 3; "3x5" -> 3, 5.
bool PairOf(absl::string_view text, int64_t* h, int64_t* w) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, 'x');
  if (parts.size() == 1) return Number(parts[0], h) && Number(parts[0], w);
  return parts.size() == 2 && Number(parts[0], h) && Number(parts[1], w);
}

bool ShapeOf(absl::string_view text, std::vector<int64_t>* dims) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, 'x');
  if (parts.size() != 1 && parts.size() != 3) return false;
  for (absl::string_view p : parts) {
    int64_t d = 0;
    if (!Number(p, &d) || d < 1) return false;
    dims->push_back(d);
  }
  return true;
}

bool ReadWord(absl::string_view w, KeyWords* k) {
  if (absl::ConsumePrefix(&w, "in")) {
    for (absl::string_view s : absl::StrSplit(w, '+')) {
      k->inputs.emplace_back();
      if (!ShapeOf(s, &k->inputs.back())) return false;
    }
    return true;
  }
  if (absl::ConsumePrefix(&w, "by")) return ShapeOf(w, &k->by);
  if (w.empty()) return false;
  const char c = w[0];
  w.remove_prefix(1);
  switch (c) {
    case '+':
      return !w.empty();  // a fused activation: no work of its own to count
    case 'k':
      return PairOf(w, &k->kh, &k->kw);
    case 's':
      return PairOf(w, &k->sh, &k->sw);
    case 'p':
      return PairOf(w, &k->ph, &k->pw);
    case 'd':
      return PairOf(w, &k->dh, &k->dw);
    case 'g':
      return Number(w, &k->groups);
    case 'n':
      return Number(w, &k->n) && k->n >= 1;
    case 'c': {
      std::vector<absl::string_view> parts = absl::StrSplit(w, '>');
      return parts.size() == 2 && Number(parts[0], &k->cin) && Number(parts[1], &k->cout);
    }
    default:
      return false;
  }
}

int64_t Elements(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

}  // namespace

std::string KernelKey(const Graph& graph, const GraphInfo& info, int v,
                      const std::vector<int>& fused) {
  const Node& n = graph.nodes[v];
  const ValueShape in = InputShape(info, v, 0);
  std::string key;
  switch (n.op) {
    case OpKind::kConv: {
      const ConvAttrs& a = n.conv;
      key = absl::StrCat("conv k", a.kernel_h, "x", a.kernel_w, " s", Pair(a.stride_h, a.stride_w));
      if (a.pad_h != a.dilation_h * (a.kernel_h - 1) / 2 ||
          a.pad_w != a.dilation_w * (a.kernel_w - 1) / 2)
        absl::StrAppend(&key, " p", Pair(a.pad_h, a.pad_w));
      if (a.dilation_h != 1 || a.dilation_w != 1)
        absl::StrAppend(&key, " d", Pair(a.dilation_h, a.dilation_w));
      absl::StrAppend(&key, " g", a.groups, " c", in.channels, ">", a.out_channels, " in",
                      ShapeText(in));
      break;
    }
    case OpKind::kDense:
      key = absl::StrCat("dense c", in.elements(), ">", n.dense.units, " in", ShapeText(in));
      break;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: {
      const PoolAttrs& a = n.pool;
      key = absl::StrCat("pool ", n.op == OpKind::kMaxPool ? "max" : "avg", " k",
                         Pair(a.kernel_h, a.kernel_w), " s", Pair(a.stride_h, a.stride_w));
      if (a.pad_h != 0 || a.pad_w != 0) absl::StrAppend(&key, " p", Pair(a.pad_h, a.pad_w));
      absl::StrAppend(&key, " in", ShapeText(in));
      break;
    }
    case OpKind::kGlobalAvgPool:
      key = absl::StrCat("pool gap in", ShapeText(in));
      break;
    case OpKind::kAdd:
      key = absl::StrCat("add n", info.nodes[v].inputs.size(), " in", ShapeText(in));
      break;
    case OpKind::kMultiply:
      key = absl::StrCat("multiply in", ShapeText(in), " by", ShapeText(InputShape(info, v, 1)));
      break;
    case OpKind::kConcat: {
      key = "concat in";
      for (size_t k = 0; k < info.nodes[v].inputs.size(); ++k)
        absl::StrAppend(&key, k ? "+" : "", ShapeText(InputShape(info, v, static_cast<int>(k))));
      break;
    }
    case OpKind::kChannelShuffle:
      key = absl::StrCat("channel_shuffle g", n.shuffle_groups, " in", ShapeText(in));
      break;
    default:  // batch norm, activations, flatten, dropout, softmax
      key = absl::StrCat(OpName(n.op), " in", ShapeText(in));
      break;
  }
  for (int f : fused) absl::StrAppend(&key, " +", OpName(graph.nodes[f].op));
  return key;
}

absl::StatusOr<KernelFeatures> ParseKernelKey(const std::string& key) {
  std::vector<absl::string_view> words = absl::StrSplit(key, ' ');
  auto error = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("kernel key '", key, "': ", why));
  };
  if (words[0].empty()) return error("no op");
  KernelFeatures f;
  f.op = std::string(words[0]);
  KeyWords k;
  size_t first = 1;
  if (f.op == "pool") {
    if (words.size() < 2 || (words[1] != "max" && words[1] != "avg" && words[1] != "gap"))
      return error("a pool is max, avg or gap");
    k.variant = std::string(words[1]);
    first = 2;
  }
  for (size_t i = first; i < words.size(); ++i)
    if (!ReadWord(words[i], &k)) return error(absl::StrCat("cannot read '", words[i], "'"));
  if (k.inputs.empty()) return error("no input shape (in...)");
  for (const std::vector<int64_t>& in : k.inputs) f.elements += k.n * Elements(in);
  if (!k.by.empty()) f.elements += Elements(k.by);

  if (f.op == "conv") {
    const std::vector<int64_t>& in = k.inputs[0];
    if (in.size() != 3 || k.cin != in[0] || k.cout < 1 || k.groups < 1 || k.kh < 1 || k.kw < 1 ||
        k.sh < 1 || k.sw < 1 || k.dh < 1 || k.dw < 1 || k.cin % k.groups != 0)
      return error("a conv needs k, s, g and c that fit its input");
    const int64_t ph = k.ph >= 0 ? k.ph : k.dh * (k.kh - 1) / 2;
    const int64_t pw = k.pw >= 0 ? k.pw : k.dw * (k.kw - 1) / 2;
    const int64_t ho = (in[1] + 2 * ph - k.dh * (k.kh - 1) - 1) / k.sh + 1;
    const int64_t wo = (in[2] + 2 * pw - k.dw * (k.kw - 1) - 1) / k.sw + 1;
    if (ho < 1 || wo < 1) return error("the window does not fit the input");
    const double macs = static_cast<double>(ho * wo) * k.cout * (k.cin / k.groups) * k.kh * k.kw;
    if (macs > 1e15) return error("more work than any graph may have");
    f.macs = static_cast<int64_t>(macs);
    const bool depthwise = k.groups > 1 && k.groups == k.cin && k.groups == k.cout;
    f.family = absl::StrCat("conv ",
                            depthwise      ? "dw"
                            : k.groups > 1 ? "grouped"
                                           : "full",
                            " k", k.kh, "x", k.kw, " s", Pair(k.sh, k.sw));
    if (k.dh != 1 || k.dw != 1) absl::StrAppend(&f.family, " d", Pair(k.dh, k.dw));
  } else if (f.op == "dense") {
    if (k.cout < 1 || k.cin != f.elements) return error("a dense needs c that fits its input");
    f.macs = f.elements * k.cout;
    f.family = "dense";
  } else if (f.op == "pool") {
    f.family = absl::StrCat("pool ", k.variant);
    if (k.variant != "gap") {
      absl::StrAppend(&f.family, " k", Pair(k.kh, k.kw), " s", Pair(k.sh, k.sw));
      if (k.ph > 0 || k.pw > 0) absl::StrAppend(&f.family, " p", Pair(k.ph, k.pw));
    }
  } else {
    f.family = f.op;
  }
  return f;
}

}  // namespace edgenas
