// Weights live apart from compiled nets: a ParamStore maps
// "<node>/<part>" to a float tensor in its canonical layout (conv: O, I/groups,
// KH, KW; dense: O, I with I in (C, H, W) order; batch norm: C). Several nets
// can share one store (supergraph search); morphs and compression read and
// rewrite weights by node name.
#ifndef EDGENAS_RUNTIME_EXEC_PARAMS_H_
#define EDGENAS_RUNTIME_EXEC_PARAMS_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph.h"

namespace edgenas {

struct ParamTensor {
  std::vector<int64_t> dims;
  std::vector<float> values;
  bool trainable = true;  // false for batch-norm running statistics

  int64_t size() const { return static_cast<int64_t>(values.size()); }
};

// Parameter names of one node's parts.
std::string ParamKey(const std::string& node, const char* part);

class ParamStore {
 public:
  // nullptr when absent. Pointers stay valid until the key is erased.
  ParamTensor* Find(const std::string& key);
  const ParamTensor* Find(const std::string& key) const;

  // Inserts or replaces the tensor under `key`.
  ParamTensor& Set(const std::string& key, ParamTensor tensor);
  void Erase(const std::string& key);

  const std::map<std::string, ParamTensor>& tensors() const { return tensors_; }
  std::map<std::string, ParamTensor>& mutable_tensors() { return tensors_; }

  // Bumped by whoever writes values, so compiled nets know to reload.
  uint64_t version() const { return version_; }
  void Touch() { ++version_; }

 private:
  std::map<std::string, ParamTensor> tensors_;
  uint64_t version_ = 1;
};

// Copies every tensor of `from` into `to` in place (existing tensors keep
// their buffers when the sizes agree, so nets built on `to` stay valid),
// then touches `to`.
void CopyParamValues(const ParamStore& from, ParamStore* to);

// The tensors a node owns, with their canonical dims, for a graph analysed by
// AnalyzeGraph.
struct ParamSpec {
  std::string key;
  std::vector<int64_t> dims;
  bool trainable;
};
std::vector<ParamSpec> ParamSpecs(const Graph& graph, const GraphInfo& info, int node);

enum class InitScheme {
  kHe,      // normal(0, sqrt(2 / fan_in)): for layers followed by relu-like activations
  kXavier,  // uniform(+-sqrt(6 / (fan_in + fan_out)))
};

// Creates every missing tensor of the graph (biases and shifts 0, scales 1,
// running variance 1; weights by `scheme`, He by default) from `rng`. An
// existing tensor is kept when its dims match; a mismatch is an error that
// names the key.
absl::Status InitParams(const Graph& graph, const GraphInfo& info, ParamStore* store,
                        std::mt19937_64& rng, InitScheme scheme = InitScheme::kHe);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_PARAMS_H_
