// Optimizers over a ParamStore. State (momentum, Adam moments) is keyed by
// parameter name, so nets that share a store share one optimizer.
#ifndef EDGENAS_RUNTIME_TRAIN_OPTIMIZER_H_
#define EDGENAS_RUNTIME_TRAIN_OPTIMIZER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/exec/params.h"

namespace edgenas {

struct OptimizerOptions {
  enum class Kind { kSgd, kAdam };
  Kind kind = Kind::kSgd;
  float momentum = 0.9f;  // SGD
  bool nesterov = false;  // SGD
  float weight_decay = 0.0f;  // L2, added to the gradient as in PyTorch
  // Weight decay on conv/dense weights only (not biases, not batch norm),
  // the usual practice for small nets.
  bool decay_weights_only = true;
  float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;  // Adam
};

absl::StatusOr<OptimizerOptions::Kind> OptimizerKindFromName(const std::string& name);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Applies one update with learning rate `lr` to every trainable tensor of
  // `store` that has a gradient in `grads` (others are left alone: a child
  // of a supergraph updates only the weights it used), then touches the store.
  virtual void Step(ParamStore* store, const std::map<std::string, ParamTensor>& grads,
                    float lr) = 0;
  // Forgets the state of one parameter (after a morph replaced it).
  virtual void Forget(const std::string& key) = 0;
};

std::unique_ptr<Optimizer> MakeOptimizer(const OptimizerOptions& options);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TRAIN_OPTIMIZER_H_
