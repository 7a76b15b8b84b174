#include "runtime/bench/train_bench.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "runtime/exec/net.h"
#include "runtime/train/loss.h"
#include "runtime/train/optimizer.h"

namespace edgenas {

absl::StatusOr<TrainBenchResult> MeasureTrainingThroughput(const Graph& graph,
                                                           const TrainBenchOptions& o) {
  if (o.batch < 1 || o.steps < 1 || o.warmup_steps < 0)
    return absl::InvalidArgumentError("train bench: batch and steps must be positive");
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  ParamStore params;
  std::mt19937_64 rng(o.seed);
  if (auto s = InitParams(graph, *info, &params, rng); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<CompiledNet>> made =
      CompiledNet::Create(graph, &params, NetOptions{NetMode::kTrain, o.batch, o.seed, true});
  if (!made.ok()) return made.status();
  CompiledNet& net = **made;
  const int classes = graph.num_classes;
  std::vector<float> input(size_t(o.batch) * info->input_shape.elements());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& x : input) x = normal(rng);
  std::vector<int32_t> labels(o.batch);
  for (int i = 0; i < o.batch; ++i) labels[i] = static_cast<int32_t>(rng() % classes);
  std::vector<float> dlogits(size_t(o.batch) * classes);
  OptimizerOptions opt;
  opt.weight_decay = 5e-4f;
  std::unique_ptr<Optimizer> optimizer = MakeOptimizer(opt);

  using Clock = std::chrono::steady_clock;
  auto ms_between = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  // Outside the net, the loss and the optimizer's update are timed apart,
  // to show where the time outside compute kernels goes.
  double loss_ms = 0, update_ms = 0;
  auto step = [&] {
    net.Forward(input.data());
    const auto t0 = Clock::now();
    SoftmaxCrossEntropy(net.Logits(), labels.data(), o.batch, classes, dlogits.data());
    const auto t1 = Clock::now();
    net.Backward(dlogits.data());
    const auto t2 = Clock::now();
    optimizer->Step(&params, net.Grads(), 0.01f);
    const auto t3 = Clock::now();
    loss_ms += ms_between(t0, t1);
    update_ms += ms_between(t2, t3);
  };
  for (int i = 0; i < o.warmup_steps; ++i) step();
  net.ResetProfile();
  loss_ms = update_ms = 0;
  // Each step's time, and the part of it outside compute kernels.
  std::vector<double> times, outside;
  double total = 0;
  const auto kernel_ms = [&net] { return net.profile().primitive_ms + net.profile().kernel_ms; };
  for (int i = 0; i < o.steps; ++i) {
    const double k0 = kernel_ms();
    const auto t0 = Clock::now();
    step();
    const double ms = ms_between(t0, Clock::now());
    times.push_back(ms);
    outside.push_back(ms > 0 ? std::max(0.0, 1.0 - (kernel_ms() - k0) / ms) : 0.0);
    total += ms;
  }
  TrainBenchResult r;
  std::sort(times.begin(), times.end());
  r.step_ms_median = times[times.size() / 2];
  r.step_ms_mean = total / o.steps;
  r.images_per_s = o.batch / (r.step_ms_median / 1000.0);
  r.primitive_ms_mean = net.profile().primitive_ms / o.steps;
  r.kernel_ms_mean = net.profile().kernel_ms / o.steps;
  std::sort(outside.begin(), outside.end());
  r.overhead_fraction = outside[outside.size() / 2];
  r.loss_ms_mean = loss_ms / o.steps;
  r.update_ms_mean = update_ms / o.steps;
  for (const auto& [key, ms] : net.profile().by_step) r.step_breakdown_ms[key] = ms / o.steps;
  r.step_breakdown_ms["loss softmax cross-entropy (outside kernels)"] = r.loss_ms_mean;
  r.step_breakdown_ms["update optimizer (outside kernels)"] = r.update_ms_mean;
  return r;
}

}  // namespace edgenas
