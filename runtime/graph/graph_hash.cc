#include "runtime/graph/graph_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest Sha256(std::string_view bytes) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

// A float by its bits: StrCat keeps six significant digits, which gave a
// rate of 0.5 and one of 0.50000006 the same hash.
std::string FloatKey(float f) {
  if (f == 0) f = 0;  // -0 and +0 act the same
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return absl::StrCat(bits);
}

// The attributes an op reads, in a fixed order. Names are left out on purpose.
std::string Signature(const Node& n) {
  std::string s(OpName(n.op));
  switch (n.op) {
    case OpKind::kConv: {
      const ConvAttrs& a = n.conv;
      absl::StrAppend(&s, ":", a.out_channels, ",", a.kernel_h, "x", a.kernel_w, ",s", a.stride_h,
                      "x", a.stride_w, ",p", a.pad_h, "x", a.pad_w, ",d", a.dilation_h, "x",
                      a.dilation_w, ",g", a.groups, ",b", a.bias);
      break;
    }
    case OpKind::kDense:
      absl::StrAppend(&s, ":", n.dense.units, ",b", n.dense.bias);
      break;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: {
      const PoolAttrs& a = n.pool;
      absl::StrAppend(&s, ":", a.kernel_h, "x", a.kernel_w, ",s", a.stride_h, "x", a.stride_w,
                      ",p", a.pad_h, "x", a.pad_w);
      break;
    }
    case OpKind::kBatchNorm:
      absl::StrAppend(&s, ":", FloatKey(n.bn_epsilon), ",", FloatKey(n.bn_momentum));
      break;
    case OpKind::kElu:
      absl::StrAppend(&s, ":", FloatKey(n.alpha));
      break;
    case OpKind::kDropout:
      absl::StrAppend(&s, ":", FloatKey(n.rate));
      break;
    case OpKind::kChannelShuffle:
      absl::StrAppend(&s, ":", n.shuffle_groups);
      break;
    default:
      break;
  }
  return s;
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

}  // namespace

std::string CanonicalHash(const Graph& graph, const GraphInfo& info) {
  // A node's digest covers its signature and its inputs' digests, so equal
  // structures hash equal whatever the names and list order. Add is
  // commutative: its input digests are sorted.
  std::vector<Digest> digest(graph.nodes.size());
  const Digest input_digest = Sha256(absl::StrCat("input:", graph.input.channels, "x",
                                                  graph.input.height, "x", graph.input.width));
  for (int v : info.order) {
    std::vector<Digest> ins;
    for (int src : info.nodes[v].inputs) ins.push_back(src == kGraphInput ? input_digest : digest[src]);
    if (graph.nodes[v].op == OpKind::kAdd) std::sort(ins.begin(), ins.end());
    std::string buf = Signature(graph.nodes[v]);
    for (const Digest& d : ins) {
      buf.push_back('|');
      buf.append(reinterpret_cast<const char*>(d.data()), d.size());
    }
    digest[v] = Sha256(buf);
  }
  std::string top = absl::StrCat("edgenas-graph-v1:", graph.num_classes, ":");
  top.append(reinterpret_cast<const char*>(digest[info.output].data()), 32);
  Digest d = Sha256(top);
  return Hex(d.data(), 16);
}

absl::StatusOr<std::string> CanonicalHash(const Graph& graph) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  return CanonicalHash(graph, *info);
}

}  // namespace edgenas
