#include "runtime/exec/params.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgenas {

std::string ParamKey(const std::string& node, const char* part) {
  return absl::StrCat(node, "/", part);
}

ParamTensor* ParamStore::Find(const std::string& key) {
  auto it = tensors_.find(key);
  return it == tensors_.end() ? nullptr : &it->second;
}

const ParamTensor* ParamStore::Find(const std::string& key) const {
  auto it = tensors_.find(key);
  return it == tensors_.end() ? nullptr : &it->second;
}

ParamTensor& ParamStore::Set(const std::string& key, ParamTensor tensor) {
  ++version_;
  ParamTensor& slot = tensors_[key];
  slot = std::move(tensor);
  return slot;
}

void ParamStore::Erase(const std::string& key) {
  ++version_;
  tensors_.erase(key);
}

void CopyParamValues(const ParamStore& from, ParamStore* to) {
  for (const auto& [key, t] : from.tensors()) {
    ParamTensor* dst = to->Find(key);
    if (dst != nullptr && dst->values.size() == t.values.size()) {
      dst->dims = t.dims;
      std::copy(t.values.begin(), t.values.end(), dst->values.begin());
      dst->trainable = t.trainable;
    } else {
      to->Set(key, t);
    }
  }
  to->Touch();
}

std::vector<ParamSpec> ParamSpecs(const Graph& graph, const GraphInfo& info, int node) {
  const Node& n = graph.nodes[node];
  const NodeInfo& ni = info.nodes[node];
  auto in_shape = [&](int k) {
    int src = ni.inputs[k];
    return src == kGraphInput ? info.input_shape : info.nodes[src].shape;
  };
  std::vector<ParamSpec> specs;
  switch (n.op) {
    case OpKind::kConv: {
      const ConvAttrs& a = n.conv;
      specs.push_back({ParamKey(n.name, "weight"),
                       {a.out_channels, in_shape(0).channels / a.groups, a.kernel_h, a.kernel_w},
                       true});
      if (a.bias) specs.push_back({ParamKey(n.name, "bias"), {a.out_channels}, true});
      break;
    }
    case OpKind::kDense:
      specs.push_back({ParamKey(n.name, "weight"), {n.dense.units, in_shape(0).elements()}, true});
      if (n.dense.bias) specs.push_back({ParamKey(n.name, "bias"), {n.dense.units}, true});
      break;
    case OpKind::kBatchNorm: {
      int64_t c = ni.shape.channels;
      specs.push_back({ParamKey(n.name, "gamma"), {c}, true});
      specs.push_back({ParamKey(n.name, "beta"), {c}, true});
      specs.push_back({ParamKey(n.name, "running_mean"), {c}, false});
      specs.push_back({ParamKey(n.name, "running_var"), {c}, false});
      break;
    }
    default:
      break;
  }
  return specs;
}

absl::Status InitParams(const Graph& graph, const GraphInfo& info, ParamStore* store,
                        std::mt19937_64& rng, InitScheme scheme) {
  for (int v : info.order) {
    for (const ParamSpec& spec : ParamSpecs(graph, info, v)) {
      if (const ParamTensor* have = store->Find(spec.key)) {
        if (have->dims != spec.dims)
          return absl::FailedPreconditionError(
              absl::StrCat("parameter '", spec.key, "': has dims [", absl::StrJoin(have->dims, ","),
                           "], the graph needs [", absl::StrJoin(spec.dims, ","), "]"));
        continue;
      }
      ParamTensor t;
      t.dims = spec.dims;
      t.trainable = spec.trainable;
      int64_t count = 1;
      for (int64_t d : spec.dims) count *= d;
      t.values.assign(count, 0.0f);
      const std::string part = spec.key.substr(spec.key.rfind('/') + 1);
      if (part == "gamma" || part == "running_var") {
        t.values.assign(count, 1.0f);
      } else if (part == "weight") {
        const int64_t fan_out = spec.dims[0];
        const int64_t fan_in = count / fan_out;
        if (scheme == InitScheme::kHe) {
          std::normal_distribution<float> dist(0.0f, std::sqrt(2.0f / fan_in));
          for (float& x : t.values) x = dist(rng);
        } else {
          const int64_t receptive = spec.dims.size() == 4 ? spec.dims[2] * spec.dims[3] : 1;
          float bound = std::sqrt(6.0f / (fan_in + fan_out * receptive));
          std::uniform_real_distribution<float> dist(-bound, bound);
          for (float& x : t.values) x = dist(rng);
        }
      }
      store->Set(spec.key, std::move(t));
    }
  }
  return absl::OkStatus();
}

}  // namespace edgenas
