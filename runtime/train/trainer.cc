#include "runtime/train/trainer.h"

#include <omp.h>

#include <chrono>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/train/loss.h"

namespace edgenas {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

absl::StatusOr<TrainReport> Train(const Graph& graph, ParamStore* params, const DatasetSplits& data,
                                  const TrainOptions& o, const EpochCallback& on_epoch,
                                  const StopCheck& should_stop) {
  if (o.epochs < 1) return absl::InvalidArgumentError("epochs: must be at least 1");
  if (o.batch_size < 1) return absl::InvalidArgumentError("batch_size: must be at least 1");
  if (data.train.size() < o.batch_size)
    return absl::InvalidArgumentError(absl::StrCat("batch_size: ", o.batch_size,
                                                   " is larger than the training split (",
                                                   data.train.size(), " images)"));
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  if (auto s = CheckDataFitsGraph(graph, data.train); !s.ok()) return s;
  if (o.threads > 0) omp_set_num_threads(o.threads);

  std::mt19937_64 rng(o.seed);
  if (auto s = InitParams(graph, *info, params, rng); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<CompiledNet>> made = CompiledNet::Create(
      graph, params, NetOptions{NetMode::kTrain, o.batch_size, o.seed ^ 0x9e3779b97f4a7c15ULL, false});
  if (!made.ok()) return made.status();
  CompiledNet& net = **made;
  std::unique_ptr<Optimizer> optimizer = MakeOptimizer(o.optimizer);

  const int classes = graph.num_classes;
  const int64_t steps_per_epoch = data.train.size() / o.batch_size;
  const int64_t total_steps = steps_per_epoch * o.epochs;
  std::vector<float> dlogits(size_t(o.batch_size) * classes);
  TrainReport report;
  ParamStore best = *params;
  int since_best = 0;
  int64_t step = 0;
  double train_seconds = 0;
  int64_t train_images = 0;
  const auto t_start = Clock::now();

  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    EpochReport er;
    er.epoch = epoch;
    er.epochs = o.epochs;
    BatchStream stream(data.train, data.norm, o.batch_size, /*shuffle=*/true, /*drop_last=*/true,
                       o.augment, o.seed + epoch);
    if (!stream.status().ok()) return stream.status();
    Batch batch;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    double epoch_train_seconds = 0;
    while (stream.Next(&batch)) {
      if (should_stop && should_stop()) {
        report.cancelled = true;
        break;
      }
      const auto t0 = Clock::now();
      const float lr = LearningRate(o.schedule, step, total_steps);
      net.Forward(batch.images.data());
      const float loss = SoftmaxCrossEntropy(net.Logits(), batch.labels.data(), batch.count,
                                             classes, dlogits.data());
      if (step == 0) report.initial_loss = loss;
      loss_sum += loss;
      correct += CountCorrect(net.Logits(), batch.labels.data(), batch.count, classes);
      net.Backward(dlogits.data());
      optimizer->Step(params, net.Grads(), lr);
      if (o.after_step) {
        o.after_step(params);
        params->Touch();
      }
      epoch_train_seconds += Seconds(t0);
      seen += batch.count;
      er.lr = lr;
      ++step;
    }
    if (seen == 0) break;
    er.train_loss = loss_sum / (seen / o.batch_size);
    er.train_accuracy = double(correct) / seen;
    er.images_per_s = seen / std::max(epoch_train_seconds, 1e-9);
    train_seconds += epoch_train_seconds;
    train_images += seen;
    if (!std::isfinite(er.train_loss))
      return absl::FailedPreconditionError(absl::StrCat(
          "training diverged in epoch ", epoch, " (loss is not finite); lower the learning rate"));
    if (data.validation.size() > 0) {
      absl::StatusOr<double> acc =
          EvaluateAccuracy(graph, params, data.validation, data.norm, o.eval_batch_size);
      if (!acc.ok()) return acc.status();
      er.val_accuracy = *acc;
    }
    er.seconds = Seconds(t_start);
    report.epochs.push_back(er);
    if (on_epoch) on_epoch(er);
    // Without a validation split nothing tells epochs apart: the last one stands.
    const bool validated = data.validation.size() > 0;
    if (report.best_epoch == 0 || !validated || er.val_accuracy > report.best_val_accuracy) {
      report.best_val_accuracy = er.val_accuracy;
      report.best_epoch = epoch;
      CopyParamValues(*params, &best);
      since_best = 0;
    } else if (o.early_stop_patience > 0 && ++since_best >= o.early_stop_patience) {
      report.stopped_early = true;
      break;
    }
    if (report.cancelled) break;
  }
  if (report.best_epoch > 0) CopyParamValues(best, params);
  report.train_images_per_s = train_images / std::max(train_seconds, 1e-9);
  if (o.evaluate_test && !report.cancelled && data.test.size() > 0) {
    absl::StatusOr<double> acc = EvaluateAccuracy(graph, params, data.test, data.norm, o.eval_batch_size);
    if (!acc.ok()) return acc.status();
    report.test_accuracy = *acc;
  }
  report.seconds = Seconds(t_start);
  return report;
}

}  // namespace edgenas
