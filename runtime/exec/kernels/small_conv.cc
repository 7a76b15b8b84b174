#include "runtime/exec/kernels/small_conv.h"

#include <omp.h>

#include <algorithm>

#include "runtime/exec/kernels/parallel.h"
#include "runtime/exec/kernels/small_conv_paths.h"

namespace edgenas {
namespace {

using small_conv::PaddedRows;

// The input rows under output rows [oh0, oh1) of a 3x3 stride-1 conv, with
// their padding, at `to`.
// Plain loops, not turned into calls of memset and memcpy: the rows are a
// few dozen floats, and 3 library calls a row cost more than the copy.
__attribute__((optimize("no-tree-loop-distribute-patterns"))) PaddedRows PadRows(
    const SmallConvShape& s, const float* x, int64_t oh0, int64_t oh1, float* to) {
  const int64_t width = s.width + 2 * s.pad_w, rows = oh1 - oh0 + 2;
  for (int64_t ci = 0; ci < s.in_channels; ++ci)
    for (int64_t k = 0; k < rows; ++k) {
      float* row = to + (ci * rows + k) * width;
      const int64_t ih = oh0 - s.pad_h + k;
      if (ih < 0 || ih >= s.height) {
        for (int64_t j = 0; j < width; ++j) row[j] = 0.0f;
        continue;
      }
      const float* src = x + (ci * s.height + ih) * s.width;
      for (int64_t j = 0; j < s.pad_w; ++j) row[j] = 0.0f;
      for (int64_t j = 0; j < s.width; ++j) row[s.pad_w + j] = src[j];
      for (int64_t j = s.pad_w + s.width; j < width; ++j) row[j] = 0.0f;
    }
  return PaddedRows{to, width, rows, oh0};
}

}  // namespace

int64_t SmallConvShape::scratch_floats(int parts) const {
  parts = std::max(parts, 1);
  int64_t per_thread = pool ? 2 * out_width * out_channels : 0;
  // A thread may take every output row: it runs on fewer than `parts`.
  if (small_conv::Is3x3s1(*this))
    per_thread += in_channels * (out_height + 2) * (width + 2 * pad_w);
  return parts * per_thread;
}

bool SmallConvApplies(const SmallConvShape& s) {
  return s.in_channels <= 4 && s.out_channels <= 64 && s.kernel_h * s.kernel_w <= 49 &&
         (!s.pool || (s.out_height >= 2 && s.out_width >= 2));
}

void SmallConvForward(const SmallConvShape& s, BnAct act, const float* x, const float* w,
                      const float* bias, float* scratch, int parts, float* y) {
  parts = std::max(parts, 1);
  const bool fast = small_conv::Is3x3s1(s);
  const int64_t c = s.out_channels, row = s.out_width * c;
  const int64_t per_thread = s.scratch_floats(parts) / parts;
  const int64_t pool_scratch = s.pool ? 2 * row : 0;
  // Output rows [oh0, oh1) at out.
  auto conv = [&](const PaddedRows& in, float* out, int64_t oh0, int64_t oh1) {
    if (fast) {
      small_conv::Rows3x3(s, act, in, w, bias, out, oh0, oh1);
    } else {
      small_conv::DirectRows(s, act, x, w, bias, out, oh0, oh1);
    }
  };
  ParallelRun(std::min(omp_get_max_threads(), parts), [&](int t, int n) {
    float* mine = scratch + t * per_thread;
    if (!s.pool) {
      const int64_t oh0 = s.out_height * t / n, oh1 = s.out_height * (t + 1) / n;
      if (oh0 == oh1) return;
      const PaddedRows in = fast ? PadRows(s, x, oh0, oh1, mine) : PaddedRows{};
      conv(in, y + oh0 * row, oh0, oh1);
      return;
    }
    // Each pooled row from the two conv rows under it, which the thread's
    // scratch holds.
    const int64_t ph = s.out_height / 2, pw = s.out_width / 2;
    const int64_t py0 = ph * t / n, py1 = ph * (t + 1) / n;
    if (py0 == py1) return;
    float* two = mine;
    const PaddedRows in =
        fast ? PadRows(s, x, 2 * py0, 2 * py1, mine + pool_scratch) : PaddedRows{};
    if (fast && small_conv::PooledInRegisters(s)) {
      small_conv::PooledRows3x3(s, act, in, w, bias, y + py0 * pw * c, py0, py1);
      return;
    }
    for (int64_t py = py0; py < py1; ++py) {
      conv(in, two, 2 * py, 2 * py + 2);
      float* out = y + py * pw * c;
      for (int64_t px = 0; px < pw; ++px) {
        const float *a = two + 2 * px * c, *b = a + row;
#pragma omp simd
        for (int64_t k = 0; k < c; ++k) {
          const float m = a[k] > a[c + k] ? a[k] : a[c + k];
          const float l = b[k] > b[c + k] ? b[k] : b[c + k];
          out[px * c + k] = m > l ? m : l;
        }
      }
    }
  });
}

}  // namespace edgenas
