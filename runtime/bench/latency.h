// Measuring inference latency the way TVM's runner does: warm-up runs, then
// `repeat` repeats of `number` runs each (number raised until a repeat lasts
// at least min_repeat_ms), an optional cool-down between repeats. Every
// repeat is reported (its mean per run), with median, p90 and the
// coefficient of variation over repeats.
#ifndef EDGENAS_RUNTIME_BENCH_LATENCY_H_
#define EDGENAS_RUNTIME_BENCH_LATENCY_H_

#include <vector>

#include "absl/status/statusor.h"
#include "runtime/exec/net.h"

namespace edgenas {

struct LatencyOptions {
  int warmup = 10;
  int number = 0;  // runs per repeat; 0: chosen from min_repeat_ms
  int repeat = 30;
  double min_repeat_ms = 50;
  double cooldown_ms = 0;
};

struct LatencyStats {
  std::vector<double> repeat_ms;  // mean ms per run, one entry per repeat
  int number = 0;
  double median_ms = 0, p90_ms = 0, mean_ms = 0, min_ms = 0, cv = 0;
};

// Summary statistics of per-repeat means (p90 by linear interpolation; cv =
// sample standard deviation / mean).
LatencyStats SummarizeLatency(std::vector<double> repeat_ms, int number);

// Runs `net` (any mode; inference is what a device sees) on a fixed random
// input on the calling thread.
absl::StatusOr<LatencyStats> MeasureLatency(CompiledNet& net, const LatencyOptions& options);

absl::Status ValidateLatencyOptions(const LatencyOptions& options);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_BENCH_LATENCY_H_
