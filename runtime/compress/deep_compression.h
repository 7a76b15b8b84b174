// The weight stages of Deep Compression (Han, Mao and Dally, ICLR 2016) on a
// model's weights: magnitude pruning (Han, Pool, Tran and Dally, NIPS 2015)
// with the mask kept through retraining, and weight sharing by per-layer
// k-means whose centroids are then fine-tuned. The trainer runs the
// retraining; these give it the constraint to keep after every update
// (TrainOptions::after_step). Huffman coding is the model file's
// (shared_tensor.h).
#ifndef EDGENAS_RUNTIME_COMPRESS_DEEP_COMPRESSION_H_
#define EDGENAS_RUNTIME_COMPRESS_DEEP_COMPRESSION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"

namespace edgenas {

// The tensors Deep Compression compresses: the weights of convs and denses
// (biases and batch-norm parameters are a few hundred values and stay fp32).
std::vector<std::string> CompressibleWeights(const Graph& graph);

// Per tensor, 1 for a weight that is kept.
using PruningMasks = std::map<std::string, std::vector<uint8_t>>;

// Zeroes the smallest-magnitude weights of each tensor in `keys` until
// `sparsity` of it is zero (weights already zero count), and returns the
// masks. Ties at the threshold keep the earlier weight.
PruningMasks MagnitudePrune(ParamStore* params, const std::vector<std::string>& keys, double sparsity);
// Sets every masked-out weight back to zero: the retraining constraint.
void ApplyMasks(const PruningMasks& masks, ParamStore* params);
// Zero weights over all weights of the tensors in `keys`.
double Sparsity(const ParamStore& params, const std::vector<std::string>& keys);

struct SharedLayer {
  std::vector<int64_t> positions;  // the weights that share (the nonzero ones)
  std::vector<uint32_t> cluster;   // each one's centroid
  std::vector<float> centroids;
};
using SharedLayers = std::map<std::string, SharedLayer>;

// Per tensor, k = 2^bits centroids by k-means (linear initialisation) over
// its nonzero weights, and every one of them set to its centroid; zeros stay
// zero. bits in [1, 16].
SharedLayers ShareLayerWeights(ParamStore* params, const std::vector<std::string>& keys, int bits);
// Centroid fine-tuning as the paper defines it (the gradient of a shared
// weight is the sum of its members' gradients): each centroid moves by the
// sum of its members' moves since they last held it, and they all take it
// again; every other weight of the tensor goes back to zero (the pruning
// mask). After a plain SGD step that is c - lr * sum(grad).
void ProjectShared(SharedLayers* layers, ParamStore* params);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_COMPRESS_DEEP_COMPRESSION_H_
