#include "runtime/exec/kernels/winograd.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/kernels/gemm_block.h"
#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/winograd_blocks.h"
#include "runtime/exec/kernels/winograd_f4.h"

namespace edgenas {

int64_t WinogradShape::scratch_per_thread() const {
  const int64_t cin = winograd::Round16(in_channels), cop = padded_out();
  return cin + winograd::kScratchRows * (cin + cop) + cop;
}

namespace {

// Tiles of F(m x m) over the value written (conv output, or pooled).
int64_t TilesH(const WinogradShape& s, int m) {
  return s.pool ? (s.y_height() * 2 + m - 1) / m : (s.out_height() + m - 1) / m;
}
int64_t TilesW(const WinogradShape& s, int m) {
  return s.pool ? (s.y_width() * 2 + m - 1) / m : (s.out_width() + m - 1) / m;
}

}  // namespace

bool WinogradApplies(const WinogradShape& s) {
  return s.in_channels >= 8 && s.out_channels >= 16 && s.pad_h >= 0 && s.pad_h <= 1 &&
         s.pad_w >= 0 && s.pad_w <= 1 && s.out_height() >= 2 && s.out_width() >= 2;
}

int WinogradTile(const WinogradShape& s) {
  // Products: 36 per F(4x4) tile against 16 per F(2x2) tile; F(4x4)'s
  // transforms cost more, and its tiles reach further past the edges.
  const int64_t f2 = 16 * TilesH(s, 2) * TilesW(s, 2), f4 = 36 * TilesH(s, 4) * TilesW(s, 4);
  return f4 * 5 <= f2 * 4 ? 4 : 2;
}

// U = G g G^T of F(4x4, 3x3), computed in double.
void WinogradWeights4(const WinogradShape& s, const float* w, float* u) {
  const int64_t cin = s.in_channels, cout = s.out_channels, cop = s.padded_out();
  const auto& kG = kWinogradG4;
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* g = w + (co * cin + ci) * 9;
      double t[6][3];  // G g
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 3; ++j)
          t[i][j] = kG[i][0] * g[j] + kG[i][1] * g[3 + j] + kG[i][2] * g[6 + j];
      for (int i = 0; i < 6; ++i)  // (G g) G^T
        for (int j = 0; j < 6; ++j)
          u[((6 * i + j) * cin + ci) * cop + co] =
              static_cast<float>(t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2]);
    }
  }
}

void WinogradWeights(const WinogradShape& s, const float* w, float* u) {
  const int64_t cin = s.in_channels, cout = s.out_channels, cop = s.padded_out();
  std::fill(u, u + s.weight_floats(), 0.0f);
  if (s.tile == 4) return WinogradWeights4(s, w, u);
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* g = w + (co * cin + ci) * 9;
      float t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[j];
        t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
      }
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        const float r[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                            0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
        for (int j = 0; j < 4; ++j) u[((4 * i + j) * cin + ci) * cop + co] = r[j];
      }
    }
  }
}

void WinogradForward(const WinogradShape& s, BnAct act, const float* x, const float* u,
                     const float* bias, float* scratch, int parts, float* y) {
  const int64_t tiles_w = TilesW(s, s.tile), tiles = TilesH(s, s.tile) * tiles_w;
  // At least two blocks a thread.
  const int max_tiles = s.tile == 4 ? winograd::kMaxTiles<4> : winograd::kMaxTiles<2>;
  const int threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({omp_get_max_threads(), parts, tiles / (2 * max_tiles)})));
  const bool wide = MaxVectorBlocks() > 1;
  const int64_t per_thread = s.scratch_per_thread();
  ParallelRun(threads, [&](int t, int n) {
    const auto share = s.tile == 4 ? winograd::ShareF4x4 : winograd::ShareF2x2;
    share(s, act, x, u, bias, scratch + t * per_thread, wide, tiles * t / n, tiles * (t + 1) / n,
          tiles_w, y);
  });
}

}  // namespace edgenas
