#include "runtime/exec/kernels/bn_act.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/exec/kernels/vector_clones.h"

// Loops over the 16 channels of a block, for the compiler to vectorize.

namespace edgenas {
namespace {

constexpr int64_t kBlock = 16;

// Sums of (x - k) and (x - k)^2 over one block of one image, per lane: the
// shift k (a sample of the channel) keeps the variance from cancelling when
// the mean is large against the spread.
// Four positions a step, each into its own accumulators: one chain of adds
// would wait on the add latency (4 cycles) for every 64 bytes read.
EDGENAS_VECTOR_CLONES
void ShiftedSums(const float* x, int64_t spatial, const float* k, float* s, float* q) {
  float a[4][kBlock] = {}, b[4][kBlock] = {};
  int64_t i = 0;
  for (; i + 4 <= spatial; i += 4) {
    const float* p = x + i * kBlock;
#pragma omp simd
    for (int c = 0; c < kBlock; ++c) {
      const float d0 = p[c] - k[c], d1 = p[kBlock + c] - k[c];
      const float d2 = p[2 * kBlock + c] - k[c], d3 = p[3 * kBlock + c] - k[c];
      a[0][c] += d0, b[0][c] += d0 * d0;
      a[1][c] += d1, b[1][c] += d1 * d1;
      a[2][c] += d2, b[2][c] += d2 * d2;
      a[3][c] += d3, b[3][c] += d3 * d3;
    }
  }
  for (; i < spatial; ++i) {
#pragma omp simd
    for (int c = 0; c < kBlock; ++c) {
      const float d = x[i * kBlock + c] - k[c];
      a[0][c] += d, b[0][c] += d * d;
    }
  }
  for (int c = 0; c < kBlock; ++c)
    s[c] = (a[0][c] + a[1][c]) + (a[2][c] + a[3][c]),
    q[c] = (b[0][c] + b[1][c]) + (b[2][c] + b[3][c]);
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
  switch (act) { EDGENAS_BN_ACT_CASES(ApplyT, x, spatial, mean, scale, beta, live, y) }
}

// Per lane: sd += sum dz, sdx += sum dz * xhat, with dz = dy * act'(z),
// xhat = (x - mean) * inv_std, z = xhat * gamma + beta.
template <BnAct A>
inline __attribute__((always_inline)) void GradSumsT(const float* x, const float* dy,
                                                     int64_t spatial, const float* mean,
                                                     const float* inv_std, const float* gamma,
                                                     const float* beta, float* sd, float* sdx) {
  float a[4][kBlock] = {}, b[4][kBlock] = {};
  int64_t i = 0;
  for (; i + 4 <= spatial; i += 4) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      const int64_t at = (i + u) * kBlock;
#pragma omp simd
      for (int c = 0; c < kBlock; ++c) {
        const float xh = (x[at + c] - mean[c]) * inv_std[c];
        const float dz = dy[at + c] * ActGrad<A>(xh * gamma[c] + beta[c]);
        a[u][c] += dz;
        b[u][c] += dz * xh;
      }
    }
  }
  for (; i < spatial; ++i) {
#pragma omp simd
    for (int c = 0; c < kBlock; ++c) {
      const float xh = (x[i * kBlock + c] - mean[c]) * inv_std[c];
      const float dz = dy[i * kBlock + c] * ActGrad<A>(xh * gamma[c] + beta[c]);
      a[0][c] += dz;
      b[0][c] += dz * xh;
    }
  }
  for (int c = 0; c < kBlock; ++c)
    sd[c] = (a[0][c] + a[1][c]) + (a[2][c] + a[3][c]),
    sdx[c] = (b[0][c] + b[1][c]) + (b[2][c] + b[3][c]);
}

EDGENAS_VECTOR_CLONES
void GradSums(BnAct act, const float* x, const float* dy, int64_t spatial, const float* mean,
              const float* inv_std, const float* gamma, const float* beta, float* sd, float* sdx) {
  switch (act) {
    EDGENAS_BN_ACT_CASES(GradSumsT, x, dy, spatial, mean, inv_std, gamma, beta, sd, sdx)
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
    EDGENAS_BN_ACT_CASES(GradApplyT, x, dy, spatial, mean, inv_std, gamma, beta, k1, k2, k3, dx)
  }
}

// Each of a window's kk positions (row-major) as an offset from its first,
// in nChw16c.
inline void WindowOffsets(const BnPoolShape& s, int kk, int64_t* off) {
  for (int k = 0; k < kk; ++k) off[k] = ((k / s.kernel_w) * s.width + k % s.kernel_w) * kBlock;
}

// One (image, block) of BnActPoolForward: for each window, the largest
// act(xhat * gamma + beta), the xhat it came from and where (the first of
// equal values). The channel loop is the outer one so that the running
// maximum stays in registers; K > 0: a K x K window known when compiled
// (unrolled), 0: any window.
template <BnAct A, int K>
inline __attribute__((always_inline)) void ApplyPoolT(const float* x, const BnPoolShape& s,
                                                      const float* mean, const float* inv_std,
                                                      const float* gamma, const float* beta,
                                                      const float* live, float* y, float* xh_max,
                                                      float* argmax) {
  const int64_t oh_n = s.pooled_h(), ow_n = s.pooled_w();
  const int kk = K > 0 ? K * K : s.kernel_h * s.kernel_w;
  int64_t off[256];
  WindowOffsets(s, kk, off);
  for (int64_t oh = 0; oh < oh_n; ++oh)
    for (int64_t ow = 0; ow < ow_n; ++ow) {
      const float* p = x + (oh * s.kernel_h * s.width + ow * s.kernel_w) * kBlock;
      const int64_t o = (oh * ow_n + ow) * kBlock;
#pragma omp simd
      for (int c = 0; c < kBlock; ++c) {
        float best = -INFINITY, bxh = 0.0f, bi = 0.0f;
        for (int k = 0; k < (K > 0 ? K * K : kk); ++k) {
          const float xh = (p[off[k] + c] - mean[c]) * inv_std[c];
          const float a = Act<A>(xh * gamma[c] + beta[c]);
          const bool take = a > best;
          best = take ? a : best;
          bxh = take ? xh : bxh;
          bi = take ? static_cast<float>(k) : bi;
        }
        y[o + c] = best * live[c];
        xh_max[o + c] = bxh;
        argmax[o + c] = bi;
      }
    }
}

template <BnAct A>
inline __attribute__((always_inline)) void ApplyPoolWindowT(const float* x, const BnPoolShape& s,
                                                            const float* mean, const float* inv_std,
                                                            const float* gamma, const float* beta,
                                                            const float* live, float* y,
                                                            float* xh_max, float* argmax) {
  if (s.kernel_h == 2 && s.kernel_w == 2)
    return ApplyPoolT<A, 2>(x, s, mean, inv_std, gamma, beta, live, y, xh_max, argmax);
  if (s.kernel_h == 3 && s.kernel_w == 3)
    return ApplyPoolT<A, 3>(x, s, mean, inv_std, gamma, beta, live, y, xh_max, argmax);
  ApplyPoolT<A, 0>(x, s, mean, inv_std, gamma, beta, live, y, xh_max, argmax);
}

EDGENAS_VECTOR_CLONES
void ApplyPool(BnAct act, const float* x, const BnPoolShape& s, const float* mean,
               const float* inv_std, const float* gamma, const float* beta, const float* live,
               float* y, float* xh_max, float* argmax) {
  switch (act) {
    EDGENAS_BN_ACT_CASES(ApplyPoolWindowT, x, s, mean, inv_std, gamma, beta, live, y, xh_max,
                         argmax)
  }
}

// Per lane over one (image, block) of pooled values: dz = dy * act'(z) at
// the window's chosen position (stored in `dz_out`), sd += dz, sdx += dz * xhat.
template <BnAct A>
inline __attribute__((always_inline)) void PoolGradSumsT(const float* dy, const float* xh_max,
                                                         int64_t pooled, const float* gamma,
                                                         const float* beta, float* dz_out,
                                                         float* sd, float* sdx) {
  float a[4][kBlock] = {}, b[4][kBlock] = {};  // four chains, as in ShiftedSums
  int64_t i = 0;
  for (; i < pooled; i += 4) {
    const int n = static_cast<int>(std::min<int64_t>(4, pooled - i));
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      if (u >= n) break;
      const int64_t at = (i + u) * kBlock;
#pragma omp simd
      for (int c = 0; c < kBlock; ++c) {
        const float xh = xh_max[at + c];
        const float dz = dy[at + c] * ActGrad<A>(xh * gamma[c] + beta[c]);
        dz_out[at + c] = dz;
        a[u][c] += dz;
        b[u][c] += dz * xh;
      }
    }
  }
  for (int c = 0; c < kBlock; ++c)
    sd[c] = (a[0][c] + a[1][c]) + (a[2][c] + a[3][c]),
    sdx[c] = (b[0][c] + b[1][c]) + (b[2][c] + b[3][c]);
}

EDGENAS_VECTOR_CLONES
void PoolGradSums(BnAct act, const float* dy, const float* xh_max, int64_t pooled,
                  const float* gamma, const float* beta, float* dz_out, float* sd, float* sdx) {
  switch (act) {
    EDGENAS_BN_ACT_CASES(PoolGradSumsT, dy, xh_max, pooled, gamma, beta, dz_out, sd, sdx)
  }
}

// dx over one (image, block): dz is the pooled dz at each window's chosen
// position and 0 elsewhere (and past the last whole window). Window by
// window with the channel loop outside, as ApplyPoolT.
template <int K>
inline __attribute__((always_inline)) void PoolGradApplyT(const float* x, const float* dz,
                                                          const float* argmax, const BnPoolShape& s,
                                                          const float* mean, const float* inv_std,
                                                          const float* k1, const float* k2,
                                                          const float* k3, float* dx) {
  const int64_t oh_n = s.pooled_h(), ow_n = s.pooled_w();
  const int kk = K > 0 ? K * K : s.kernel_h * s.kernel_w;
  int64_t off[256];
  WindowOffsets(s, kk, off);
  for (int64_t oh = 0; oh < oh_n; ++oh)
    for (int64_t ow = 0; ow < ow_n; ++ow) {
      const int64_t at = (oh * s.kernel_h * s.width + ow * s.kernel_w) * kBlock;
      const int64_t o = (oh * ow_n + ow) * kBlock;
#pragma omp simd
      for (int c = 0; c < kBlock; ++c) {
        // dx = k1 * dz + (x - mean) * slope + base, the chosen position's dz
        // added by a masked add.
        const float g = k1[c] * dz[o + c];
        const float slope = -k1[c] * inv_std[c] * k3[c], base = -k1[c] * k2[c];
        for (int k = 0; k < (K > 0 ? K * K : kk); ++k) {
          const float v = (x[at + off[k] + c] - mean[c]) * slope + base;
          dx[at + off[k] + c] = argmax[o + c] == static_cast<float>(k) ? v + g : v;
        }
      }
    }
  // Rows and columns past the last whole window.
  for (int64_t h = 0; h < s.height; ++h) {
    const int64_t w0 = h < oh_n * s.kernel_h ? ow_n * s.kernel_w : 0;
    for (int64_t w = w0; w < s.width; ++w) {
      const int64_t at = (h * s.width + w) * kBlock;
#pragma omp simd
      for (int c = 0; c < kBlock; ++c) {
        const float xh = (x[at + c] - mean[c]) * inv_std[c];
        dx[at + c] = k1[c] * (-k2[c] - xh * k3[c]);
      }
    }
  }
}

EDGENAS_VECTOR_CLONES
void PoolGradApply(const float* x, const float* dz, const float* argmax, const BnPoolShape& s,
                   const float* mean, const float* inv_std, const float* k1, const float* k2,
                   const float* k3, float* dx) {
  if (s.kernel_h == 2 && s.kernel_w == 2)
    return PoolGradApplyT<2>(x, dz, argmax, s, mean, inv_std, k1, k2, k3, dx);
  if (s.kernel_h == 3 && s.kernel_w == 3)
    return PoolGradApplyT<3>(x, dz, argmax, s, mean, inv_std, k1, k2, k3, dx);
  PoolGradApplyT<0>(x, dz, argmax, s, mean, inv_std, k1, k2, k3, dx);
}

// Per-channel values padded to whole blocks (0 past `channels`).
std::vector<float> Blocked(const float* v, int64_t channels, int64_t blocks) {
  std::vector<float> out(blocks * kBlock, 0.0f);
  if (v != nullptr) std::copy(v, v + channels, out.begin());
  return out;
}

// The per-channel vectors the kernels read per lane, padded to whole blocks.
struct Lanes {
  std::vector<float> mean, inv_std, gamma, beta;
};

Lanes PadToBlocks(int64_t channels, const float* mean, const float* inv_std, const float* gamma,
                  const float* beta) {
  const int64_t blocks = (channels + kBlock - 1) / kBlock;
  return Lanes{Blocked(mean, channels, blocks), Blocked(inv_std, channels, blocks),
               Blocked(gamma, channels, blocks), Blocked(beta, channels, blocks)};
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

// Batch statistics of x (nChw16c, `spatial` positions per image): writes
// mean, var and inv_std, and returns per lane (padded) gamma * inv_std, and
// 1 on live lanes.
struct Stats {
  std::vector<float> scale, live;
};

Stats Statistics(const BnActShape& s, float epsilon, const float* x, const float* gamma,
                 float* mean, float* var, float* inv_std) {
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
  Stats st;
  st.scale.assign(blocks * kBlock, 0.0f);
  st.live.assign(blocks * kBlock, 0.0f);
  for (int64_t c = 0; c < s.channels; ++c) {
    const double m = sum[c] / count;
    const double v = std::max(0.0, sq[c] / count - m * m);
    const double r = 1.0 / std::sqrt(v + epsilon);
    mean[c] = static_cast<float>(k[c] + m);
    var[c] = static_cast<float>(v);
    inv_std[c] = static_cast<float>(r);
    st.scale[c] = static_cast<float>(gamma[c] * r);
    st.live[c] = 1.0f;
  }
  return st;
}

// From the sums of dz and dz * xhat: the gradients of gamma and beta, and
// per lane k1 = gamma * inv_std, k2 = mean(dz), k3 = mean(dz * xhat) (0 on
// padding lanes) for dx = k1 * (dz - k2 - xhat * k3).
struct GradCoefficients {
  std::vector<float> k1, k2, k3;
};

GradCoefficients Coefficients(const BnActShape& s, int64_t blocks, const std::vector<double>& sd,
                              const std::vector<double>& sdx, const float* gamma,
                              const float* inv_std, float* dgamma, float* dbeta) {
  const double count = static_cast<double>(s.batch) * s.spatial;
  GradCoefficients k;
  k.k1.assign(blocks * kBlock, 0.0f);
  k.k2.assign(blocks * kBlock, 0.0f);
  k.k3.assign(blocks * kBlock, 0.0f);
  for (int64_t c = 0; c < s.channels; ++c) {
    dbeta[c] = static_cast<float>(sd[c]);
    dgamma[c] = static_cast<float>(sdx[c]);
    k.k1[c] = gamma[c] * inv_std[c];
    k.k2[c] = static_cast<float>(sd[c] / count);
    k.k3[c] = static_cast<float>(sdx[c] / count);
  }
  return k;
}

}  // namespace

bool BnActSupports(OpKind op, BnAct* act) { return op != OpKind::kRelu && ActKernelFor(op, act); }

void BnActForward(const BnActShape& s, BnAct act, float epsilon, const float* x, const float* gamma,
                  const float* beta, float* y, float* mean, float* var, float* inv_std) {
  const int64_t blocks = (s.channels + kBlock - 1) / kBlock;
  const int64_t item_size = s.spatial * kBlock;
  const Stats st = Statistics(s, epsilon, x, gamma, mean, var, inv_std);
  const Lanes l = PadToBlocks(s.channels, mean, inv_std, gamma, beta);
  const int64_t items = s.batch * blocks;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t o = (item % blocks) * kBlock;
    Apply(act, x + item * item_size, s.spatial, &l.mean[o], &st.scale[o], &l.beta[o], &st.live[o],
          y + item * item_size);
  }
}

void BnActBackward(const BnActShape& s, BnAct act, const float* x, const float* dy,
                   const float* gamma, const float* beta, const float* mean, const float* inv_std,
                   float* dx, float* dgamma, float* dbeta) {
  const int64_t blocks = (s.channels + kBlock - 1) / kBlock;
  const int64_t item_size = s.spatial * kBlock;
  const Lanes l = PadToBlocks(s.channels, mean, inv_std, gamma, beta);
  std::vector<double> sd, sdx;
  SumOverItems(s, blocks, &sd, &sdx, [&](int64_t n, int64_t cb, float* a, float* c) {
    const int64_t at = (n * blocks + cb) * item_size;
    const int64_t o = cb * kBlock;
    GradSums(act, x + at, dy + at, s.spatial, &l.mean[o], &l.inv_std[o], &l.gamma[o], &l.beta[o], a,
             c);
  });
  const GradCoefficients k = Coefficients(s, blocks, sd, sdx, gamma, inv_std, dgamma, dbeta);
  const int64_t items = s.batch * blocks;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t o = (item % blocks) * kBlock;
    GradApply(act, x + item * item_size, dy + item * item_size, s.spatial, &l.mean[o],
              &l.inv_std[o], &l.gamma[o], &l.beta[o], &k.k1[o], &k.k2[o], &k.k3[o],
              dx + item * item_size);
  }
}

bool BnActPoolSupports(OpKind op, BnAct* act) { return ActKernelFor(op, act); }

void BnActPoolForward(const BnPoolShape& s, BnAct act, float epsilon, const float* x,
                      const float* gamma, const float* beta, float* y, float* xhat_max,
                      float* argmax, float* mean, float* var, float* inv_std) {
  const BnActShape flat{s.batch, s.channels, s.height * s.width};
  const int64_t blocks = (s.channels + kBlock - 1) / kBlock;
  const int64_t item_size = flat.spatial * kBlock;
  const int64_t pooled_size = s.pooled_h() * s.pooled_w() * kBlock;
  const Stats st = Statistics(flat, epsilon, x, gamma, mean, var, inv_std);
  const Lanes l = PadToBlocks(s.channels, mean, inv_std, gamma, beta);
  const int64_t items = s.batch * blocks;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t o = (item % blocks) * kBlock;
    ApplyPool(act, x + item * item_size, s, &l.mean[o], &l.inv_std[o], &l.gamma[o], &l.beta[o],
              &st.live[o], y + item * pooled_size, xhat_max + item * pooled_size,
              argmax + item * pooled_size);
  }
}

void BnActPoolBackward(const BnPoolShape& s, BnAct act, const float* x, const float* dy,
                       const float* xhat_max, const float* argmax, const float* gamma,
                       const float* beta, const float* mean, const float* inv_std, float* scratch,
                       float* dx, float* dgamma, float* dbeta) {
  const BnActShape flat{s.batch, s.channels, s.height * s.width};
  const int64_t blocks = (s.channels + kBlock - 1) / kBlock;
  const int64_t item_size = flat.spatial * kBlock;
  const int64_t pooled = s.pooled_h() * s.pooled_w();
  const Lanes l = PadToBlocks(s.channels, mean, inv_std, gamma, beta);
  std::vector<double> sd, sdx;
  SumOverItems(flat, blocks, &sd, &sdx, [&](int64_t n, int64_t cb, float* a, float* c) {
    const int64_t at = (n * blocks + cb) * pooled * kBlock;
    const int64_t o = cb * kBlock;
    PoolGradSums(act, dy + at, xhat_max + at, pooled, &l.gamma[o], &l.beta[o], scratch + at, a, c);
  });
  const GradCoefficients k = Coefficients(flat, blocks, sd, sdx, gamma, inv_std, dgamma, dbeta);
  const int64_t items = s.batch * blocks;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t o = (item % blocks) * kBlock;
    const int64_t at = item * pooled * kBlock;
    PoolGradApply(x + item * item_size, scratch + at, argmax + at, s, &l.mean[o], &l.inv_std[o],
                  &k.k1[o], &k.k2[o], &k.k3[o], dx + item * item_size);
  }
}

}  // namespace edgenas
