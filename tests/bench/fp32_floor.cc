// The least time an fp32 engine that computes every multiply-add can take for
// one inference of a preset on this CPU, from two measurements of the machine:
//
//   - the FMA peak: T threads each running 12 independent chains of
//     vector fused multiply-adds (GFMA/s, one multiply-add per lane);
//   - the read bandwidth for a buffer of a layer's weight size, split over
//     the T threads and read again and again (so it is served from the
//     cache level it fits in, as in a latency benchmark that repeats runs).
//
// Each conv and dense layer needs at least max(multiply-adds / peak,
// weight bytes / bandwidth); the floor is their sum. It leaves out every
// other cost (activations, pooling, threading, the image), so it is a lower
// bound for an engine that computes every multiply-add of the layers'
// definition (direct convolution, as oneDNN does at batch 1 here); Winograd
// or FFT convolution need fewer, lower precision is faster per multiply-add.
// tests/bench/runtime_vs_pytorch.py prints it beside the batch-1 targets;
// run by hand:
//
//   build/tests/bench/fp32_floor [--threads T] [--presets a,b] [--json]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/analyze.h"
#include "runtime/graph/presets.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FLOOR_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define FLOOR_CLONES
#endif

namespace {

using Clock = std::chrono::steady_clock;
typedef float V16 __attribute__((vector_size(64)));

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// 12 independent accumulators hide the FMA latency; the result is returned
// so the work cannot be dropped.
FLOOR_CLONES float FmaChains(long iters) {
  V16 a[12], b, c;
  for (int i = 0; i < 16; ++i) b[i] = 0.9999f, c[i] = 1e-4f;
  for (int k = 0; k < 12; ++k)
    for (int i = 0; i < 16; ++i) a[k][i] = 1e-3f * k;
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int k = 0; k < 12; ++k) a[k] = a[k] * b + c;
  }
  float s = 0;
  for (int k = 0; k < 12; ++k)
    for (int i = 0; i < 16; ++i) s += a[k][i];
  return s;
}

FLOOR_CLONES float ReadAll(const float* p, long n) {
  V16 s[4] = {};
  long i = 0;
  for (; i + 64 <= n; i += 64) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      V16 v;
      __builtin_memcpy(&v, p + i + 16 * k, sizeof v);
      s[k] += v;
    }
  }
  float t = 0;
  for (; i < n; ++i) t += p[i];
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 16; ++j) t += s[k][j];
  return t;
}

volatile float g_sink;

// Median of 7 timings of fn() (each long enough to read the clock well).
template <typename F>
double MedianSeconds(F fn) {
  std::vector<double> t;
  for (int r = 0; r < 7; ++r) {
    const Clock::time_point t0 = Clock::now();
    fn();
    t.push_back(Seconds(t0));
  }
  std::sort(t.begin(), t.end());
  return t[3];
}

double PeakGfma(int threads) {
  const long iters = 4000000;
  FmaChains(iters / 10);
  const double s = MedianSeconds([&] {
#pragma omp parallel num_threads(threads)
    g_sink = FmaChains(iters);
  });
  return iters * 12.0 * 16 * threads / s / 1e9;
}

// GB/s reading `bytes` split over the threads, each reading its own part.
double ReadGbps(int threads, int64_t bytes) {
  const long per = std::max<long>(64, bytes / 4 / threads);
  std::vector<std::vector<float>> parts(threads);
#pragma omp parallel num_threads(threads)
  parts[omp_get_thread_num()].assign(per, 1.0f);  // first touch by its reader
  const long passes = std::max<long>(20, 400000000L / (per * 4 * threads));
  const double s = MedianSeconds([&] {
#pragma omp parallel num_threads(threads)
    {
      const std::vector<float>& mine = parts[omp_get_thread_num()];
      float t = 0;
      for (long p = 0; p < passes; ++p) t += ReadAll(mine.data(), per);
      g_sink = t;
    }
  });
  return per * 4.0 * threads * passes / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  bool json = false;
  std::string presets = "lenet-300-100,lenet5,cnn-bn,mobile-tiny";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--presets" && i + 1 < argc) {
      presets = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: fp32_floor [--threads T] [--presets a,b] [--json]\n"
                   "The least time an fp32 engine computing every multiply-add (direct\n"
                   "convolution) can take for one batch-1 inference of each preset on this\n"
                   "CPU, from its measured FMA peak and read bandwidth.\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (threads < 1 || threads > 256) {
    std::fprintf(stderr, "fp32_floor: --threads must be in [1, 256]\n");
    return 2;
  }
  const double peak = PeakGfma(threads);
  nlohmann::json out = {{"threads", threads}, {"peak_gfma_per_s", peak}};
  if (!json) std::printf("FMA peak at %d threads: %.1f G multiply-adds/s (fp32)\n", threads, peak);
  for (const std::string& name : std::vector<std::string>(absl::StrSplit(presets, ','))) {
    absl::StatusOr<edgenas::Graph> g = edgenas::Preset(name);
    absl::StatusOr<edgenas::GraphInfo> info =
        g.ok() ? edgenas::AnalyzeGraph(*g) : absl::StatusOr<edgenas::GraphInfo>(g.status());
    if (!info.ok()) {
      std::fprintf(stderr, "fp32_floor: preset %s: %s\n", name.c_str(),
                   std::string(info.status().message()).c_str());
      return 2;
    }
    double floor_us = 0;
    nlohmann::json layers = nlohmann::json::array();
    for (int v : info->order) {
      const edgenas::NodeInfo& n = info->nodes[v];
      const edgenas::OpKind op = g->nodes[v].op;
      if (op != edgenas::OpKind::kConv && op != edgenas::OpKind::kDense) continue;
      const int64_t bytes = n.params * 4;
      const double compute_us = n.flops / (peak * 1e3);
      const double gbps = ReadGbps(threads, bytes);
      const double read_us = bytes / (gbps * 1e3);
      floor_us += std::max(compute_us, read_us);
      layers.push_back({{"node", g->nodes[v].name},
                        {"macs", n.flops},
                        {"weight_bytes", bytes},
                        {"compute_us", compute_us},
                        {"read_gb_per_s", gbps},
                        {"read_us", read_us}});
      if (!json)
        std::printf("  %-12s %-22s %9lld MACs %6.2f us | %8lld B at %6.1f GB/s %6.2f us\n",
                    name.c_str(), g->nodes[v].name.c_str(), static_cast<long long>(n.flops),
                    compute_us, static_cast<long long>(bytes), gbps, read_us);
    }
    out["presets"][name] = {{"floor_ms", floor_us / 1e3}, {"layers", layers}};
    if (!json) std::printf("%-14s fp32 floor at batch 1: %.4f ms\n", name.c_str(), floor_us / 1e3);
  }
  if (json) std::printf("%s\n", out.dump().c_str());
  return 0;
}
