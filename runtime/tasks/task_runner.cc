#include "runtime/tasks/task_runner.h"

#include <omp.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "runtime/bench/kernel_profile.h"
#include "runtime/bench/latency.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/model_file/model_file.h"
#include "runtime/train/trainer.h"

namespace edgenas {
namespace {

// Profiled passes after a measurement: each is one forward pass, so even
// many cost little next to the measurement's repeats.
constexpr int kMeasureProfileRepeats = 15;

}  // namespace

absl::StatusOr<std::shared_ptr<const DatasetSplits>> DatasetCache::Get(
    const std::string& name, double validation_fraction, uint64_t seed, int64_t max_train_images) {
  const std::string key = absl::StrCat(name, "|", validation_fraction, "|", seed, "|", max_train_images);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = loaded_.find(key);
  if (it != loaded_.end()) return it->second;
  auto dir = dirs_.find(name);
  absl::StatusOr<DatasetSplits> splits = LoadNamedDataset(
      name, dir == dirs_.end() ? std::string() : dir->second, validation_fraction, seed, max_train_images);
  if (!splits.ok()) return splits.status();
  auto shared = std::make_shared<const DatasetSplits>(*std::move(splits));
  // Keep a few: a coordinator rarely serves more than a couple of datasets at once.
  if (loaded_.size() >= 4) loaded_.erase(loaded_.begin());
  loaded_[key] = shared;
  return shared;
}

absl::StatusOr<TrainTaskResult> RunTrainTask(const v1::Task& task, DatasetCache& datasets,
                                             const std::function<bool()>& should_stop) {
  if (task.kind() != v1::TASK_TRAIN) return absl::InvalidArgumentError("task: not a TRAIN task");
  absl::StatusOr<Graph> graph = GraphFromProto(task.graph());
  if (!graph.ok()) return graph.status();
  const v1::TrainTask& t = task.train();
  absl::StatusOr<std::shared_ptr<const DatasetSplits>> data =
      datasets.Get(t.dataset(), t.validation_fraction(), t.seed(), t.max_train_images());
  if (!data.ok()) return data.status();
  TrainOptions o;
  o.epochs = t.training().epochs();
  o.batch_size = t.training().batch_size();
  o.threads = t.training().threads();
  o.seed = t.seed();
  o.optimizer.momentum = static_cast<float>(t.training().momentum());
  o.optimizer.weight_decay = static_cast<float>(t.training().weight_decay());
  o.schedule.base_lr = static_cast<float>(t.training().learning_rate());
  o.evaluate_test = false;  // search never looks at the test split
  Model model;
  model.graph = *std::move(graph);
  absl::StatusOr<TrainReport> report = Train(model.graph, &model.params, **data, o, nullptr, should_stop);
  if (!report.ok()) return report.status();
  if (report->cancelled) return absl::CancelledError("training stopped before it finished");
  TrainTaskResult out;
  out.metrics.set_val_accuracy(report->best_val_accuracy);
  out.metrics.set_train_loss(report->epochs.empty() ? 0 : report->epochs.back().train_loss);
  out.metrics.set_train_seconds(report->seconds);
  out.metrics.set_epochs(static_cast<int>(report->epochs.size()));
  out.metrics.set_images_per_second(report->train_images_per_s);
  model.metadata.metrics["val_accuracy"] = report->best_val_accuracy;
  model.metadata.provenance["dataset"] = t.dataset();
  model.metadata.provenance["graph_hash"] = task.graph_hash();
  absl::StatusOr<std::string> bytes = SerializeModel(model);
  if (!bytes.ok()) return bytes.status();
  out.model_file = *std::move(bytes);
  return out;
}

absl::StatusOr<v1::LatencyMeasurement> RunMeasureTask(const v1::Task& task) {
  if (task.kind() != v1::TASK_MEASURE_LATENCY)
    return absl::InvalidArgumentError("task: not a MEASURE_LATENCY task");
  absl::StatusOr<Graph> graph = GraphFromProto(task.graph());
  if (!graph.ok()) return graph.status();
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(*graph);
  if (!info.ok()) return info.status();
  const v1::LatencySpec& spec = task.measure().latency();
  ParamStore params;
  std::mt19937_64 rng(1);
  if (absl::Status s = InitParams(*graph, *info, &params, rng); !s.ok()) return s;
  const int threads = spec.threads() > 0 ? spec.threads() : 1;
  omp_set_num_threads(threads);
  absl::StatusOr<std::unique_ptr<CompiledNet>> net = CompiledNet::Create(
      *graph, &params, NetOptions{NetMode::kInference, spec.batch() > 0 ? spec.batch() : 1, 1, false});
  if (!net.ok()) return net.status();
  LatencyOptions lo;
  lo.warmup = spec.warmup();
  lo.number = spec.number();
  lo.repeat = spec.repeat() > 0 ? spec.repeat() : 20;
  lo.min_repeat_ms = spec.min_repeat_ms();
  lo.cooldown_ms = spec.cooldown_ms();
  absl::StatusOr<LatencyStats> stats = MeasureLatency(**net, lo);
  if (!stats.ok()) return stats.status();
  v1::LatencyMeasurement m;
  m.set_graph_hash(CanonicalHash(*graph, *info));
  m.set_batch((*net)->batch());
  m.set_threads(threads);
  for (double ms : stats->repeat_ms) m.add_repeat_ms(ms);
  m.set_median_ms(stats->median_ms);
  m.set_p90_ms(stats->p90_ms);
  m.set_cv(stats->cv);
  // Then, on the warm net, where the time goes: one entry per kernel, for
  // the coordinator's latency lookup table.
  absl::StatusOr<std::vector<KernelTiming>> kernels =
      ProfileKernels(**net, KernelProfileOptions{/*warmup=*/2, /*repeat=*/kMeasureProfileRepeats});
  if (!kernels.ok()) return kernels.status();
  for (const KernelTiming& k : *kernels) {
    v1::KernelLatency* out = m.add_kernels();
    out->set_key(k.key);
    out->set_ms(k.ms);
  }
  return m;
}

}  // namespace edgenas
