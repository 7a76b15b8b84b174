// classify_bench MODEL IMAGE [--threads N] [--calls N]: batch-1 cost of
// Classifier::Classify through the installed library's API (this program
// links libedgenas.so and nothing of the engine). Prints one JSON object:
//   median_ms: timed as `edgenas bench` times the inference net: 10 warm-up
//     calls, then 30 repeats of `number` calls, number raised until a repeat
//     lasts 50 ms; the median of the repeats' per-call means;
//   classify_ms, run_ms: the peer in this process: Classify on IMAGE and
//     Run on the input `edgenas bench` feeds the net (normal(0, 1) floats
//     drawn with seed 1; the same forward pass), in alternating windows of
//     300 calls, 20 rounds of 7 windows each; each figure is the least of the
//     rounds' medians, the rounds least disturbed by other processes.
// With --calls N it makes 10 warm-up calls and then exactly N, untimed, for a
// caller that measures the process's CPU time or instructions
// (classify_vs_bench.sh). Threads default to 2.
#include <edgenas/classifier.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWarmup = 10, kRepeats = 30;
constexpr double kMinRepeatMs = 50;
constexpr int kPeerRounds = 20, kPeerWindows = 7, kPeerCalls = 300;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double MsPerCall(const std::function<void()>& call, int calls) {
  const auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) call();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / calls;
}

// TVM's runner, as runtime/bench/latency.cc runs it for `edgenas bench`.
double TvmMedianMs(const std::function<void()>& call) {
  int number = 1;
  for (;;) {
    const double ms = MsPerCall(call, number) * number;
    if (ms >= kMinRepeatMs || number >= (1 << 20)) break;
    const double scale = ms > 0 ? kMinRepeatMs / ms : 16.0;
    number =
        std::max(number + 1, static_cast<int>(std::ceil(number * std::min(scale * 1.1, 16.0))));
  }
  std::vector<double> repeats;
  for (int r = 0; r < kRepeats; ++r) repeats.push_back(MsPerCall(call, number));
  return Median(repeats);
}

template <typename T>
const T& OrDie(const edgenas::StatusOr<T>& value) {
  if (!value.ok()) {
    std::fprintf(stderr, "classify_bench: %s\n", value.status().ToString().c_str());
    std::exit(1);
  }
  return *value;
}

}  // namespace

int main(int argc, char** argv) {
  edgenas::Classifier::Options options;
  options.threads = 2;
  long calls = 0;
  bool ok = argc >= 3 && argc % 2 == 1;
  for (int i = 3; ok && i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) {
      options.threads = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--calls") == 0) {
      calls = std::atol(argv[i + 1]);
    } else {
      ok = false;
    }
  }
  if (!ok) {
    std::fprintf(stderr, "usage: classify_bench MODEL IMAGE [--threads N] [--calls N]\n");
    return 2;
  }
  edgenas::StatusOr<edgenas::Classifier> model = edgenas::Classifier::Open(argv[1], options);
  OrDie(model);
  const edgenas::StatusOr<edgenas::Image> read = edgenas::ReadImage(argv[2]);
  const edgenas::Image& image = OrDie(read);
  int top = -1;
  const auto classify = [&] { top = OrDie(model->Classify(image, 5)).front().index; };
  for (int i = 0; i < kWarmup; ++i) classify();
  if (calls > 0) {
    for (long i = 0; i < calls; ++i) classify();
    std::printf("{\"calls\": %ld, \"top1\": %d}\n", calls, top);
    return 0;
  }
  const double median_ms = TvmMedianMs(classify);

  const edgenas::ModelInfo& info = model->info();
  std::vector<float> input(size_t(info.channels) * info.height * info.width);
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& x : input) x = normal(rng);
  float sink = 0;
  const auto run = [&] { sink += OrDie(model->Run(input))[0]; };
  double classify_ms = 1e30, run_ms = 1e30;
  for (int r = 0; r < kPeerRounds; ++r) {
    std::vector<double> c, p;
    for (int w = 0; w < kPeerWindows; ++w) {
      c.push_back(MsPerCall(classify, kPeerCalls));
      p.push_back(MsPerCall(run, kPeerCalls));
    }
    classify_ms = std::min(classify_ms, Median(c));
    run_ms = std::min(run_ms, Median(p));
  }
  std::printf(
      "{\"median_ms\": %.6f, \"classify_ms\": %.6f, \"run_ms\": %.6f, \"threads\": %d, "
      "\"top1\": %d, \"sink\": %g}\n",
      median_ms, classify_ms, run_ms, options.threads, top, sink);
  return 0;
}
