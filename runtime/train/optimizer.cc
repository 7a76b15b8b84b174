#include "runtime/train/optimizer.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

bool IsWeight(const std::string& key) {
  return key.size() > 7 && key.compare(key.size() - 7, 7, "/weight") == 0;
}

class SgdOptimizer : public Optimizer {
 public:
  explicit SgdOptimizer(const OptimizerOptions& o) : o_(o) {}

  // PyTorch's SGD: g += wd * w; v = m * v + g; w -= lr * (nesterov ? g + m * v : v).
  void Step(ParamStore* store, const std::map<std::string, ParamTensor>& grads,
            float lr) override {
    for (const auto& [key, grad] : grads) {
      ParamTensor* p = store->Find(key);
      if (p == nullptr || !p->trainable || p->values.size() != grad.values.size()) continue;
      const float wd = (!o_.decay_weights_only || IsWeight(key)) ? o_.weight_decay : 0.0f;
      const float m = o_.momentum;
      const int64_t n = p->size();
      float* w = p->values.data();
      const float* g = grad.values.data();
      if (m == 0.0f) {
#pragma omp parallel for if (n > 65536) schedule(static)
        for (int64_t i = 0; i < n; ++i) w[i] -= lr * (g[i] + wd * w[i]);
        continue;
      }
      std::vector<float>& vel = velocity_[key];
      const bool first = vel.size() != size_t(n);
      if (first) vel.assign(n, 0.0f);
      float* v = vel.data();
      const bool nesterov = o_.nesterov;
#pragma omp parallel for if (n > 65536) schedule(static)
      for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        v[i] = first ? gi : m * v[i] + gi;
        w[i] -= lr * (nesterov ? gi + m * v[i] : v[i]);
      }
    }
    store->Touch();
  }

  void Forget(const std::string& key) override { velocity_.erase(key); }

 private:
  OptimizerOptions o_;
  std::map<std::string, std::vector<float>> velocity_;
};

class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(const OptimizerOptions& o) : o_(o) {}

  void Step(ParamStore* store, const std::map<std::string, ParamTensor>& grads,
            float lr) override {
    for (const auto& [key, grad] : grads) {
      ParamTensor* p = store->Find(key);
      if (p == nullptr || !p->trainable || p->values.size() != grad.values.size()) continue;
      State& s = state_[key];
      const int64_t n = p->size();
      if (s.m.size() != size_t(n)) {
        s.m.assign(n, 0.0f);
        s.v.assign(n, 0.0f);
        s.t = 0;
      }
      ++s.t;
      const float wd = (!o_.decay_weights_only || IsWeight(key)) ? o_.weight_decay : 0.0f;
      const float b1 = o_.beta1, b2 = o_.beta2, eps = o_.epsilon;
      const float c1 = 1.0f - std::pow(b1, float(s.t)), c2 = 1.0f - std::pow(b2, float(s.t));
      const float step = lr / c1, root_c2 = std::sqrt(c2);
      float* w = p->values.data();
      const float* g = grad.values.data();
      float* m = s.m.data();
      float* v = s.v.data();
#pragma omp parallel for if (n > 65536) schedule(static)
      for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= step * m[i] / (std::sqrt(v[i]) / root_c2 + eps);
      }
    }
    store->Touch();
  }

  void Forget(const std::string& key) override { state_.erase(key); }

 private:
  struct State {
    std::vector<float> m, v;
    int64_t t = 0;
  };
  OptimizerOptions o_;
  std::map<std::string, State> state_;
};

}  // namespace

absl::StatusOr<OptimizerOptions::Kind> OptimizerKindFromName(const std::string& name) {
  if (name == "sgd") return OptimizerOptions::Kind::kSgd;
  if (name == "adam") return OptimizerOptions::Kind::kAdam;
  return absl::InvalidArgumentError(
      absl::StrCat("optimizer: unknown '", name, "'; known: sgd, adam"));
}

std::unique_ptr<Optimizer> MakeOptimizer(const OptimizerOptions& options) {
  if (options.kind == OptimizerOptions::Kind::kAdam) return std::make_unique<AdamOptimizer>(options);
  return std::make_unique<SgdOptimizer>(options);
}

}  // namespace edgenas
