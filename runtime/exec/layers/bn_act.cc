#include "runtime/exec/layers/bn_act.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/exec/layers/vector_clones.h"

// Loops over the 16 channels of a block, for the compiler to vectorize.

namespace edgenas {
namespace {

constexpr int64_t kBlock = 16;

template <BnAct A>
inline float Act(float z) {
  if constexpr (A == BnAct::kRelu6) {
    return std::min(std::max(z, 0.0f), 6.0f);
  } else if constexpr (A == BnAct::kHardSwish) {
    return z * std::min(std::max(z + 3.0f, 0.0f), 6.0f) * (1.0f / 6);
  } else {
    return std::min(std::max(z + 3.0f, 0.0f), 6.0f) * (1.0f / 6);
  }
}

// d act / dz (0 at the kinks, as the reference interpreter takes it).
template <BnAct A>
inline float ActGrad(float z) {
  if constexpr (A == BnAct::kRelu6) {
    return (z > 0.0f && z < 6.0f) ? 1.0f : 0.0f;
  } else if constexpr (A == BnAct::kHardSwish) {
    return z >= 3.0f ? 1.0f : (z > -3.0f ? (2.0f * z + 3.0f) * (1.0f / 6) : 0.0f);
  } else {
    return (z > -3.0f && z < 3.0f) ? (1.0f / 6) : 0.0f;
  }
}

// Sums of (x - k) and (x - k)^2 over one block of one image, per lane: the
// shift k (a sample of the channel) keeps the variance from cancelling when
// the mean is large against the spread.
EDGENAS_VECTOR_CLONES
void ShiftedSums(const float* x, int64_t spatial, const float* k, float* s, float* q) {
  float a[kBlock] = {}, b[kBlock] = {};
  for (int64_t i = 0; i < spatial; ++i) {
#pragma omp simd
    for (int c = 0; c < kBlock; ++c) {
      const float d = x[i * kBlock + c] - k[c];
      a[c] += d;
      b[c] += d * d;
    }
  }
  for (int c = 0; c < kBlock; ++c) s[c] = a[c], q[c] = b[c];
}

// y = act((x - mean) * scale + beta) * live; subtracting the mean first
// keeps a large mean from costing precision.
template <BnAct A>
inline __attribute__((always_inline)) void ApplyT(const float* x, int64_t spatial,
                                                  const float* mean, const float* scale,
                                                  const float* beta, const float* live, float* y) {
  for (int64_t i = 0; i < spatial; ++i) {
#pragma omp simd
    for (int c = 0; c < kBlock; ++c)
      y[i * kBlock + c] = Act<A>((x[i * kBlock + c] - mean[c]) * scale[c] + beta[c]) * live[c];
  }
}

EDGENAS_VECTOR_CLONES
void Apply(BnAct act, const float* x, int64_t spatial, const float* mean, const float* scale,
           const float* beta, const float* live, float* y) {
  switch (act) {
    case BnAct::kRelu6:
      return ApplyT<BnAct::kRelu6>(x, spatial, mean, scale, beta, live, y);
    case BnAct::kHardSwish:
      return ApplyT<BnAct::kHardSwish>(x, spatial, mean, scale, beta, live, y);
    case BnAct::kHardSigmoid:
      return ApplyT<BnAct::kHardSigmoid>(x, spatial, mean, scale, beta, live, y);
  }
}

// Per lane: sd += sum dz, sdx += sum dz * xhat, with dz = dy * act'(z),
// xhat = (x - mean) * inv_std, z = xhat * gamma + beta.
template <BnAct A>
inline __attribute__((always_inline)) void GradSumsT(const float* x, const float* dy,
                                                     int64_t spatial, const float* mean,
                                                     const float* inv_std, const float* gamma,
                                                     const float* beta, float* sd, float* sdx) {
  float a[kBlock] = {}, b[kBlock] = {};
  for (int64_t i = 0; i < spatial; ++i) {
#pragma omp simd
    for (int c = 0; c < kBlock; ++c) {
      const float xh = (x[i * kBlock + c] - mean[c]) * inv_std[c];
      const float dz = dy[i * kBlock + c] * ActGrad<A>(xh * gamma[c] + beta[c]);
      a[c] += dz;
      b[c] += dz * xh;
    }
  }
  for (int c = 0; c < kBlock; ++c) sd[c] = a[c], sdx[c] = b[c];
}

EDGENAS_VECTOR_CLONES
void GradSums(BnAct act, const float* x, const float* dy, int64_t spatial, const float* mean,
              const float* inv_std, const float* gamma, const float* beta, float* sd, float* sdx) {
  switch (act) {
    case BnAct::kRelu6:
      return GradSumsT<BnAct::kRelu6>(x, dy, spatial, mean, inv_std, gamma, beta, sd, sdx);
    case BnAct::kHardSwish:
      return GradSumsT<BnAct::kHardSwish>(x, dy, spatial, mean, inv_std, gamma, beta, sd, sdx);
    case BnAct::kHardSigmoid:
      return GradSumsT<BnAct::kHardSigmoid>(x, dy, spatial, mean, inv_std, gamma, beta, sd, sdx);
  }
}

// dx = gamma * inv_std * (dz - mean(dz) - xhat * mean(dz * xhat)); `k1` is
// gamma * inv_std, `k2` mean(dz), `k3` mean(dz * xhat), all 0 on padding lanes.
template <BnAct A>
inline __attribute__((always_inline)) void GradApplyT(const float* x, const float* dy,
                                                      int64_t spatial, const float* mean,
                                                      const float* inv_std, const float* gamma,
                                                      const float* beta, const float* k1,
                                                      const float* k2, const float* k3, float* dx) {
  for (int64_t i = 0; i < spatial; ++i) {
#pragma omp simd
    for (int c = 0; c < kBlock; ++c) {
      const float xh = (x[i * kBlock + c] - mean[c]) * inv_std[c];
      const float dz = dy[i * kBlock + c] * ActGrad<A>(xh * gamma[c] + beta[c]);
      dx[i * kBlock + c] = k1[c] * (dz - k2[c] - xh * k3[c]);
    }
  }
}

EDGENAS_VECTOR_CLONES
void GradApply(BnAct act, const float* x, const float* dy, int64_t spatial, const float* mean,
               const float* inv_std, const float* gamma, const float* beta, const float* k1,
               const float* k2, const float* k3, float* dx) {
  switch (act) {
    case BnAct::kRelu6:
      return GradApplyT<BnAct::kRelu6>(x, dy, spatial, mean, inv_std, gamma, beta, k1, k2, k3, dx);
    case BnAct::kHardSwish:
      return GradApplyT<BnAct::kHardSwish>(x, dy, spatial, mean, inv_std, gamma, beta, k1, k2, k3,
                                           dx);
    case BnAct::kHardSigmoid:
      return GradApplyT<BnAct::kHardSigmoid>(x, dy, spatial, mean, inv_std, gamma, beta, k1, k2, k3,
                                             dx);
  }
}

// Per-channel values padded to whole blocks (0 past `channels`).
std::vector<float> Blocked(const float* v, int64_t channels, int64_t blocks) {
  std::vector<float> out(blocks * kBlock, 0.0f);
  if (v != nullptr) std::copy(v, v + channels, out.begin());
  return out;
}

// Per-block lane sums over every (image, block) item, summed in double
// across items: fn(n, cb, s, q) fills two [16] arrays for one item.
template <typename F>
void SumOverItems(const BnActShape& s, int64_t blocks, std::vector<double>* s1,
                  std::vector<double>* s2, F fn) {
  const int threads = std::max(1, omp_get_max_threads());
  std::vector<std::vector<double>> p1(threads), p2(threads);
  const int64_t items = s.batch * blocks;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    p1[t].assign(blocks * kBlock, 0.0), p2[t].assign(blocks * kBlock, 0.0);
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items; ++item) {
      const int64_t n = item / blocks, cb = item % blocks;
      float a[kBlock], b[kBlock];
      fn(n, cb, a, b);
      for (int c = 0; c < kBlock; ++c)
        p1[t][cb * kBlock + c] += a[c], p2[t][cb * kBlock + c] += b[c];
    }
  }
  s1->assign(blocks * kBlock, 0.0), s2->assign(blocks * kBlock, 0.0);
  for (int t = 0; t < threads; ++t)
    for (int64_t i = 0; i < blocks * kBlock; ++i) (*s1)[i] += p1[t][i], (*s2)[i] += p2[t][i];
}

}  // namespace

bool BnActSupports(OpKind op, BnAct* act) {
  switch (op) {
    case OpKind::kRelu6:
      *act = BnAct::kRelu6;
      return true;
    case OpKind::kHardSwish:
      *act = BnAct::kHardSwish;
      return true;
    case OpKind::kHardSigmoid:
      *act = BnAct::kHardSigmoid;
      return true;
    default:
      return false;
  }
}

void BnActForward(const BnActShape& s, BnAct act, float epsilon, const float* x, const float* gamma,
                  const float* beta, float* y, float* mean, float* var, float* inv_std) {
  const int64_t blocks = (s.channels + kBlock - 1) / kBlock;
  const int64_t item_size = s.spatial * kBlock;
  // The shift: each channel's first value in the first image.
  std::vector<float> k(blocks * kBlock);
  for (int64_t cb = 0; cb < blocks; ++cb)
    for (int c = 0; c < kBlock; ++c) k[cb * kBlock + c] = x[cb * item_size + c];
  std::vector<double> sum, sq;
  SumOverItems(s, blocks, &sum, &sq, [&](int64_t n, int64_t cb, float* a, float* b) {
    ShiftedSums(x + (n * blocks + cb) * item_size, s.spatial, &k[cb * kBlock], a, b);
  });
  const double count = static_cast<double>(s.batch) * s.spatial;
  std::vector<float> scale(blocks * kBlock, 0.0f), live(blocks * kBlock, 0.0f);
  for (int64_t c = 0; c < s.channels; ++c) {
    const double m = sum[c] / count;
    const double v = std::max(0.0, sq[c] / count - m * m);
    const double r = 1.0 / std::sqrt(v + epsilon);
    mean[c] = static_cast<float>(k[c] + m);
    var[c] = static_cast<float>(v);
    inv_std[c] = static_cast<float>(r);
    scale[c] = static_cast<float>(gamma[c] * r);
    live[c] = 1.0f;
  }
  const std::vector<float> mu = Blocked(mean, s.channels, blocks);
  const std::vector<float> b = Blocked(beta, s.channels, blocks);
  const int64_t items = s.batch * blocks;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t cb = item % blocks;
    const int64_t o = cb * kBlock;
    Apply(act, x + item * item_size, s.spatial, &mu[o], &scale[o], &b[o], &live[o],
          y + item * item_size);
  }
}

void BnActBackward(const BnActShape& s, BnAct act, const float* x, const float* dy,
                   const float* gamma, const float* beta, const float* mean, const float* inv_std,
                   float* dx, float* dgamma, float* dbeta) {
  const int64_t blocks = (s.channels + kBlock - 1) / kBlock;
  const int64_t item_size = s.spatial * kBlock;
  const std::vector<float> m = Blocked(mean, s.channels, blocks);
  const std::vector<float> r = Blocked(inv_std, s.channels, blocks);
  const std::vector<float> g = Blocked(gamma, s.channels, blocks);
  const std::vector<float> b = Blocked(beta, s.channels, blocks);
  std::vector<double> sd, sdx;
  SumOverItems(s, blocks, &sd, &sdx, [&](int64_t n, int64_t cb, float* a, float* c) {
    const int64_t at = (n * blocks + cb) * item_size;
    const int64_t o = cb * kBlock;
    GradSums(act, x + at, dy + at, s.spatial, &m[o], &r[o], &g[o], &b[o], a, c);
  });
  const double count = static_cast<double>(s.batch) * s.spatial;
  std::vector<float> k1(blocks * kBlock, 0.0f), k2(blocks * kBlock, 0.0f),
      k3(blocks * kBlock, 0.0f);
  for (int64_t c = 0; c < s.channels; ++c) {
    dbeta[c] = static_cast<float>(sd[c]);
    dgamma[c] = static_cast<float>(sdx[c]);
    k1[c] = g[c] * r[c];
    k2[c] = static_cast<float>(sd[c] / count);
    k3[c] = static_cast<float>(sdx[c] / count);
  }
  const int64_t items = s.batch * blocks;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t o = (item % blocks) * kBlock;
    GradApply(act, x + item * item_size, dy + item * item_size, s.spatial, &m[o], &r[o], &g[o],
              &b[o], &k1[o], &k2[o], &k3[o], dx + item * item_size);
  }
}

}  // namespace edgenas
