#include "runtime/bench/latency.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

using Clock = std::chrono::steady_clock;

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * (sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

}  // namespace

absl::Status ValidateLatencyOptions(const LatencyOptions& o) {
  if (o.warmup < 0 || o.warmup > 100000) return absl::InvalidArgumentError("warmup: must be in [0, 100000]");
  if (o.number < 0 || o.number > 1000000) return absl::InvalidArgumentError("number: must be in [0, 1000000]");
  if (o.repeat < 1 || o.repeat > 10000) return absl::InvalidArgumentError("repeat: must be in [1, 10000]");
  if (!(o.min_repeat_ms >= 0 && o.min_repeat_ms <= 60000))
    return absl::InvalidArgumentError("min_repeat_ms: must be in [0, 60000]");
  if (!(o.cooldown_ms >= 0 && o.cooldown_ms <= 60000))
    return absl::InvalidArgumentError("cooldown_ms: must be in [0, 60000]");
  return absl::OkStatus();
}

LatencyStats SummarizeLatency(std::vector<double> repeat_ms, int number) {
  LatencyStats s;
  s.number = number;
  s.repeat_ms = repeat_ms;
  if (repeat_ms.empty()) return s;
  std::sort(repeat_ms.begin(), repeat_ms.end());
  s.median_ms = Quantile(repeat_ms, 0.5);
  s.p90_ms = Quantile(repeat_ms, 0.9);
  s.min_ms = repeat_ms.front();
  double sum = 0;
  for (double x : repeat_ms) sum += x;
  s.mean_ms = sum / repeat_ms.size();
  double var = 0;
  for (double x : repeat_ms) var += (x - s.mean_ms) * (x - s.mean_ms);
  if (repeat_ms.size() > 1) var /= (repeat_ms.size() - 1);
  s.cv = s.mean_ms > 0 ? std::sqrt(var) / s.mean_ms : 0;
  return s;
}

absl::StatusOr<LatencyStats> MeasureLatency(CompiledNet& net, const LatencyOptions& o) {
  if (auto s = ValidateLatencyOptions(o); !s.ok()) return s;
  std::vector<float> input(size_t(net.batch()) * net.info().input_shape.elements());
  std::mt19937_64 rng(1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& x : input) x = n(rng);

  for (int i = 0; i < o.warmup; ++i) net.Forward(input.data());
  int number = o.number;
  if (number == 0) {
    // Grow `number` until one repeat lasts min_repeat_ms, as TVM's runner does.
    number = 1;
    for (;;) {
      const auto t0 = Clock::now();
      for (int i = 0; i < number; ++i) net.Forward(input.data());
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (ms >= o.min_repeat_ms || number >= (1 << 20)) break;
      const double scale = ms > 0 ? o.min_repeat_ms / ms : 16.0;
      number = std::max(number + 1, static_cast<int>(std::ceil(number * std::min(scale * 1.1, 16.0))));
    }
  }
  std::vector<double> repeats;
  for (int r = 0; r < o.repeat; ++r) {
    if (o.cooldown_ms > 0 && r > 0)
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(o.cooldown_ms));
    const auto t0 = Clock::now();
    for (int i = 0; i < number; ++i) net.Forward(input.data());
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    repeats.push_back(ms / number);
  }
  return SummarizeLatency(std::move(repeats), number);
}

}  // namespace edgenas
