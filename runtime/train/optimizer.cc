#include "runtime/train/optimizer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/exec/layers/parallel.h"
#include "runtime/exec/layers/vector_clones.h"

namespace edgenas {
namespace {

bool IsWeight(const std::string& key) {
  return key.size() > 7 && key.compare(key.size() - 7, 7, "/weight") == 0;
}

// Below this many values in all, one thread updates them: a team costs
// more than it saves.
constexpr int64_t kParallelValues = 65536;

// One step's tensors as one sequence of values, split into a contiguous
// range per thread in a single parallel region: a team per tensor would
// start a team for each (and leave the small ones to one thread), and the
// update is bound by memory, so every thread should stream its share.
// fn(i, begin, end) updates values [begin, end) of tensors[i] (n values).
template <typename Tensor, typename Fn>
void ForEachShare(const std::vector<Tensor>& tensors, Fn&& fn) {
  int64_t total = 0;
  for (const Tensor& t : tensors) total += t.n;
  ParallelRun(total >= kParallelValues ? omp_get_max_threads() : 1, [&](int t, int threads) {
    // Shares start on 16-value (64-byte) boundaries of the sequence.
    const int64_t lo = total * t / threads / 16 * 16;
    const int64_t hi = t + 1 == threads ? total : total * (t + 1) / threads / 16 * 16;
    int64_t base = 0;
    for (size_t i = 0; i < tensors.size() && base < hi; base += tensors[i].n, ++i) {
      const int64_t b = std::max(lo, base), e = std::min(hi, base + tensors[i].n);
      if (b < e) fn(i, b - base, e - base);
    }
  });
}

struct SgdTensor {
  int64_t n;
  float* w;
  const float* g;
  float* v;  // nullptr without momentum
  float wd;
  bool first;  // v holds nothing yet: v = g
};

// PyTorch's SGD: g += wd * w; v = m * v + g (v = g on the first step);
// w -= lr * (nesterov ? g + m * v : v).
EDGENAS_VECTOR_CLONES
void SgdUpdate(const SgdTensor& t, int64_t begin, int64_t end, float lr, float m, bool nesterov) {
  float* __restrict w = t.w;
  const float* __restrict g = t.g;
  float* __restrict v = t.v;
  const float wd = t.wd;
  if (v == nullptr) {
    for (int64_t i = begin; i < end; ++i) w[i] -= lr * (g[i] + wd * w[i]);
  } else if (t.first) {
    const float step = nesterov ? lr * (1 + m) : lr;
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i] + wd * w[i];
      v[i] = gi;
      w[i] -= step * gi;
    }
  } else if (nesterov) {
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i] + wd * w[i];
      const float vi = m * v[i] + gi;
      v[i] = vi;
      w[i] -= lr * (gi + m * vi);
    }
  } else {
    for (int64_t i = begin; i < end; ++i) {
      const float vi = m * v[i] + (g[i] + wd * w[i]);
      v[i] = vi;
      w[i] -= lr * vi;
    }
  }
}

class SgdOptimizer : public Optimizer {
 public:
  explicit SgdOptimizer(const OptimizerOptions& o) : o_(o) {}

  void Step(ParamStore* store, const std::map<std::string, ParamTensor>& grads, float lr) override {
    tensors_.clear();
    const float m = o_.momentum;
    for (const auto& [key, grad] : grads) {
      ParamTensor* p = store->Find(key);
      if (p == nullptr || !p->trainable || p->values.size() != grad.values.size()) continue;
      const float wd = (!o_.decay_weights_only || IsWeight(key)) ? o_.weight_decay : 0.0f;
      SgdTensor t{p->size(), p->values.data(), grad.values.data(), nullptr, wd, false};
      if (m != 0.0f) {
        std::vector<float>& vel = velocity_[key];
        t.first = vel.size() != p->values.size();
        if (t.first) vel.resize(p->values.size());
        t.v = vel.data();
      }
      tensors_.push_back(t);
    }
    const bool nesterov = o_.nesterov;
    ForEachShare(tensors_, [&](size_t i, int64_t begin, int64_t end) {
      SgdUpdate(tensors_[i], begin, end, lr, m, nesterov);
    });
    store->Touch();
  }

  void Forget(const std::string& key) override { velocity_.erase(key); }

 private:
  OptimizerOptions o_;
  std::map<std::string, std::vector<float>> velocity_;
  std::vector<SgdTensor> tensors_;  // this step's, kept to reuse their memory
};

struct AdamTensor {
  int64_t n;
  float* w;
  const float* g;
  float* m;
  float* v;
  float wd;
  float step;     // lr / (1 - beta1^t)
  float root_c2;  // sqrt(1 - beta2^t)
};

// Adam (Kingma & Ba) with PyTorch's placement of eps and its L2 decay.
EDGENAS_VECTOR_CLONES
void AdamUpdate(const AdamTensor& t, int64_t begin, int64_t end, float b1, float b2, float eps) {
  float* __restrict w = t.w;
  const float* __restrict g = t.g;
  float* __restrict m = t.m;
  float* __restrict v = t.v;
  const float wd = t.wd, step = t.step, inv_root_c2 = 1.0f / t.root_c2;
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i] + wd * w[i];
    const float mi = b1 * m[i] + (1 - b1) * gi;
    const float vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= step * mi / (__builtin_sqrtf(vi) * inv_root_c2 + eps);
  }
}

class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(const OptimizerOptions& o) : o_(o) {}

  void Step(ParamStore* store, const std::map<std::string, ParamTensor>& grads, float lr) override {
    tensors_.clear();
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
      const float c1 = 1.0f - std::pow(o_.beta1, float(s.t));
      const float c2 = 1.0f - std::pow(o_.beta2, float(s.t));
      tensors_.push_back(AdamTensor{n, p->values.data(), grad.values.data(), s.m.data(), s.v.data(),
                                    wd, lr / c1, std::sqrt(c2)});
    }
    const float b1 = o_.beta1, b2 = o_.beta2, eps = o_.epsilon;
    ForEachShare(tensors_, [&](size_t i, int64_t begin, int64_t end) {
      AdamUpdate(tensors_[i], begin, end, b1, b2, eps);
    });
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
  std::vector<AdamTensor> tensors_;
};

}  // namespace

absl::StatusOr<OptimizerOptions::Kind> OptimizerKindFromName(const std::string& name) {
  if (name == "sgd") return OptimizerOptions::Kind::kSgd;
  if (name == "adam") return OptimizerOptions::Kind::kAdam;
  return absl::InvalidArgumentError(
      absl::StrCat("optimizer: unknown '", name, "'; known: sgd, adam"));
}

std::unique_ptr<Optimizer> MakeOptimizer(const OptimizerOptions& options) {
  if (options.kind == OptimizerOptions::Kind::kAdam)
    return std::make_unique<AdamOptimizer>(options);
  return std::make_unique<SgdOptimizer>(options);
}

}  // namespace edgenas
