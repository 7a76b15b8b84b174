#include "runtime/compress/deep_compression.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "runtime/compress/weight_sharing.h"

namespace edgenas {

std::vector<std::string> CompressibleWeights(const Graph& graph) {
  std::vector<std::string> keys;
  for (const Node& n : graph.nodes) {
    switch (n.op) {
      case OpKind::kConv:
      case OpKind::kDense:
        keys.push_back(ParamKey(n.name, "weight"));
        break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
      case OpKind::kGlobalAvgPool:
      case OpKind::kBatchNorm:
      case OpKind::kRelu:
      case OpKind::kRelu6:
      case OpKind::kElu:
      case OpKind::kSigmoid:
      case OpKind::kHardSigmoid:
      case OpKind::kTanh:
      case OpKind::kHardSwish:
      case OpKind::kAdd:
      case OpKind::kMultiply:
      case OpKind::kConcat:
      case OpKind::kChannelShuffle:
      case OpKind::kFlatten:
      case OpKind::kDropout:
      case OpKind::kSoftmax:
        break;
    }
  }
  return keys;
}

PruningMasks MagnitudePrune(ParamStore* params, const std::vector<std::string>& keys, double sparsity) {
  PruningMasks masks;
  for (const std::string& key : keys) {
    ParamTensor* t = params->Find(key);
    if (t == nullptr) continue;
    const size_t n = t->values.size();
    const size_t drop = std::min(n, static_cast<size_t>(std::llround(sparsity * static_cast<double>(n))));
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    // Smallest magnitude first; among equals the later weight goes first.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::abs(t->values[a]) < std::abs(t->values[b]);
    });
    std::vector<uint8_t> mask(n, 1);
    for (size_t i = 0; i < drop; ++i) {
      mask[order[i]] = 0;
      t->values[order[i]] = 0.0f;
    }
    masks[key] = std::move(mask);
  }
  params->Touch();
  return masks;
}

void ApplyMasks(const PruningMasks& masks, ParamStore* params) {
  for (const auto& [key, mask] : masks) {
    ParamTensor* t = params->Find(key);
    if (t == nullptr) continue;
    for (size_t i = 0; i < mask.size() && i < t->values.size(); ++i)
      if (!mask[i]) t->values[i] = 0.0f;
  }
}

double Sparsity(const ParamStore& params, const std::vector<std::string>& keys) {
  int64_t zeros = 0, total = 0;
  for (const std::string& key : keys) {
    const ParamTensor* t = params.Find(key);
    if (t == nullptr) continue;
    total += static_cast<int64_t>(t->values.size());
    for (float v : t->values) zeros += v == 0.0f;
  }
  return total > 0 ? static_cast<double>(zeros) / total : 0;
}

SharedLayers ShareLayerWeights(ParamStore* params, const std::vector<std::string>& keys, int bits) {
  SharedLayers out;
  for (const std::string& key : keys) {
    ParamTensor* t = params->Find(key);
    if (t == nullptr) continue;
    SharedLayer layer;
    std::vector<float> values;
    for (size_t i = 0; i < t->values.size(); ++i) {
      if (t->values[i] == 0.0f) continue;
      layer.positions.push_back(static_cast<int64_t>(i));
      values.push_back(t->values[i]);
    }
    SharedWeights shared = ShareWeights(values, 1 << bits);
    layer.centroids = std::move(shared.centroids);
    layer.cluster = std::move(shared.cluster);
    for (size_t i = 0; i < layer.positions.size(); ++i)
      t->values[layer.positions[i]] = layer.centroids[layer.cluster[i]];
    out[key] = std::move(layer);
  }
  params->Touch();
  return out;
}

void ProjectShared(SharedLayers* layers, ParamStore* params) {
  for (auto& [key, layer] : *layers) {
    ParamTensor* t = params->Find(key);
    if (t == nullptr) continue;
    std::vector<double> moved(layer.centroids.size(), 0);
    for (size_t i = 0; i < layer.positions.size(); ++i)
      moved[layer.cluster[i]] += double{t->values[layer.positions[i]]} - layer.centroids[layer.cluster[i]];
    for (size_t c = 0; c < layer.centroids.size(); ++c)
      layer.centroids[c] = static_cast<float>(layer.centroids[c] + moved[c]);
    // In place: compiled nets keep pointers to the tensors' buffers.
    std::fill(t->values.begin(), t->values.end(), 0.0f);
    for (size_t i = 0; i < layer.positions.size(); ++i)
      t->values[layer.positions[i]] = layer.centroids[layer.cluster[i]];
  }
}

}  // namespace edgenas
