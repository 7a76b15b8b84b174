// train, bench and info: the commands that run the engine on this machine,
// with no coordinator.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/bench/kernel_profile.h"
#include "runtime/bench/latency.h"
#include "runtime/bench/train_bench.h"
#include "runtime/data/dataset.h"
#include "runtime/data/preprocessing.h"
#include "runtime/exec/dnnl_util.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_json.h"
#include "runtime/graph/presets.h"
#include "runtime/model_file/model_file.h"
#include "runtime/train/trainer.h"
#include "runtime/util/flags.h"
#include "server/cli/commands.h"
#include "server/cli/local_command_util.h"

namespace edgenas {
namespace {

using nlohmann::json;

using cli_internal::FailLocal;
using cli_internal::PreprocessingJson;
using cli_internal::UsageLocal;

struct GraphSource {
  std::string arch, preset, model;
};

// The graph (and, from a model file, its weights and metadata).
absl::StatusOr<Model> LoadSource(const GraphSource& src) {
  const int given = !src.arch.empty() + !src.preset.empty() + !src.model.empty();
  if (given != 1)
    return absl::InvalidArgumentError(
        "give exactly one of --arch FILE.json, --preset NAME, --model FILE");
  Model m;
  if (!src.model.empty()) return ReadModelFile(src.model);
  absl::StatusOr<Graph> g = src.arch.empty() ? Preset(src.preset) : ReadGraphJsonFile(src.arch);
  if (!g.ok()) return g.status();
  m.graph = *std::move(g);
  if (absl::StatusOr<GraphInfo> info = AnalyzeGraph(m.graph); !info.ok()) return info.status();
  return m;
}

std::string Describe(const GraphSource& src) {
  if (!src.preset.empty()) return "preset " + src.preset;
  if (!src.arch.empty()) return src.arch;
  return src.model;
}

std::string Thousands(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > (v < 0 ? 1 : 0); i -= 3) s.insert(i, ",");
  return s;
}

}  // namespace

int RunTrain(int argc, char** argv) {
  GraphSource src;
  std::string dataset = "fashion-mnist", data_dir, out, optimizer = "sgd", schedule = "cosine";
  TrainOptions o;
  int threads = 2, crop = 0;
  double lr = 0.02, momentum = 0.9, weight_decay = 5e-4, val_fraction = 0.1;
  int64_t max_train = 0;
  bool nesterov = false, flip = false, as_json = false, no_test = false;
  Flags f("edgenas train (--arch FILE.json | --preset NAME) [flags]",
          "Trains an architecture on a dataset's training split, validates each epoch on a\n"
          "split carved from it, and reports the test accuracy of the best epoch once.");
  f.String("arch", &src.arch, "architecture JSON file");
  f.String("preset", &src.preset, "lenet-300-100 | lenet5 | cnn-bn | mobile-tiny");
  f.String("dataset", &dataset, "fashion-mnist | mnist | cifar10");
  f.String("data-dir", &data_dir, "dataset directory (default: the Debian package's)");
  f.Int("epochs", &o.epochs, "training epochs");
  f.Int("batch-size", &o.batch_size, "minibatch size");
  f.Int("threads", &threads, "compute threads");
  f.UInt64("seed", &o.seed, "seed of every random choice");
  f.String("optimizer", &optimizer, "sgd | adam");
  f.Double("lr", &lr, "base learning rate");
  f.Double("momentum", &momentum, "SGD momentum");
  f.Bool("nesterov", &nesterov, "Nesterov momentum");
  f.Double("weight-decay", &weight_decay, "L2 weight decay on conv and dense weights");
  f.String("schedule", &schedule, "constant | step | cosine");
  f.Double("validation-fraction", &val_fraction,
           "share of the training split held out for validation");
  f.Int64("max-train-images", &max_train, "use at most this many training images (0: all)");
  f.Int("patience", &o.early_stop_patience,
        "stop after this many epochs without a better validation accuracy (0: never)");
  f.Int("augment-crop", &crop, "random crop after padding by this many pixels");
  f.Bool("augment-flip", &flip, "random horizontal flips");
  f.Bool("no-test", &no_test, "do not evaluate on the test split");
  f.String("out", &out, "write the trained model here");
  f.Bool("json", &as_json, "print one JSON object as the last line of stdout");
  if (absl::Status s = f.Parse(argc, argv, 2); !s.ok()) return UsageLocal(f, s);
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (!f.positional().empty())
    return UsageLocal(
        f, absl::InvalidArgumentError("unexpected argument '" + f.positional()[0] + "'"));
  if (threads < 1 || threads > 256)
    return UsageLocal(f, absl::InvalidArgumentError("--threads: must be in [1, 256]"));
  if (o.epochs < 1 || o.epochs > 10000)
    return UsageLocal(f, absl::InvalidArgumentError("--epochs: must be in [1, 10000]"));
  if (o.batch_size < 1 || o.batch_size > 65536)
    return UsageLocal(f, absl::InvalidArgumentError("--batch-size: must be in [1, 65536]"));
  if (!(lr > 0 && lr < 100))
    return UsageLocal(f, absl::InvalidArgumentError("--lr: must be in (0, 100)"));

  absl::StatusOr<OptimizerOptions::Kind> kind = OptimizerKindFromName(optimizer);
  if (!kind.ok()) return UsageLocal(f, kind.status());
  absl::StatusOr<Schedule::Kind> sched = ScheduleKindFromName(schedule);
  if (!sched.ok()) return UsageLocal(f, sched.status());
  o.threads = threads;
  o.optimizer.kind = *kind;
  o.optimizer.momentum = static_cast<float>(momentum);
  o.optimizer.nesterov = nesterov;
  o.optimizer.weight_decay = static_cast<float>(weight_decay);
  o.schedule.kind = *sched;
  o.schedule.base_lr = static_cast<float>(lr);
  o.augment.pad_crop = crop;
  o.augment.horizontal_flip = flip;
  o.evaluate_test = !no_test;

  absl::StatusOr<Model> model = LoadSource(src);
  if (!model.ok())
    return src.arch.empty() && src.preset.empty() && src.model.empty()
               ? UsageLocal(f, model.status())
               : FailLocal(model.status());
  absl::StatusOr<DatasetSplits> data =
      LoadNamedDataset(dataset, data_dir, val_fraction, o.seed, max_train);
  if (!data.ok()) return FailLocal(data.status());
  const GraphInfo info = *AnalyzeGraph(model->graph);
  std::fprintf(stderr,
               "training %s on %s: %s params, %s multiply-adds; %lld train / %lld validation "
               "images, %d threads\n",
               Describe(src).c_str(), dataset.c_str(), Thousands(info.params).c_str(),
               Thousands(info.flops).c_str(), static_cast<long long>(data->train.size()),
               static_cast<long long>(data->validation.size()), threads);
  auto on_epoch = [](const EpochReport& e) {
    std::fprintf(stderr,
                 "epoch %d/%d  loss %.4f  train %.2f%%  val %.2f%%  lr %.4f  %.0f img/s  %.1fs\n",
                 e.epoch, e.epochs, e.train_loss, 100 * e.train_accuracy, 100 * e.val_accuracy,
                 e.lr, e.images_per_s, e.seconds);
  };
  absl::StatusOr<TrainReport> report = Train(model->graph, &model->params, *data, o, on_epoch);
  if (!report.ok()) return FailLocal(report.status());

  if (data->validation.size() > 0)
    model->metadata.metrics["val_accuracy"] = report->best_val_accuracy;
  if (report->test_accuracy >= 0) model->metadata.metrics["test_accuracy"] = report->test_accuracy;
  model->metadata.metrics["train_images_per_s"] = report->train_images_per_s;
  model->metadata.provenance["dataset"] = dataset;
  model->metadata.provenance["source"] = Describe(src);
  model->metadata.provenance["seed"] = std::to_string(o.seed);
  model->metadata.provenance["validation_fraction"] = absl::StrCat(val_fraction);
  model->metadata.preprocessing = PreprocessingForDataset(dataset, *data);
  model->metadata.provenance["created_at"] = std::to_string(std::time(nullptr));
  if (!out.empty()) {
    if (absl::Status s = WriteModelFile(out, *model); !s.ok()) return FailLocal(s);
    std::fprintf(stderr, "wrote %s\n", out.c_str());
  }
  if (as_json) {
    json j;
    j["source"] = Describe(src);
    j["dataset"] = dataset;
    j["graph_hash"] = CanonicalHash(model->graph, info);
    j["params"] = info.params;
    j["flops"] = info.flops;
    j["val_accuracy"] = report->best_val_accuracy;
    j["best_epoch"] = report->best_epoch;
    j["test_accuracy"] = report->test_accuracy >= 0 ? json(report->test_accuracy) : json(nullptr);
    j["train_images_per_s"] = report->train_images_per_s;
    j["seconds"] = report->seconds;
    j["epochs"] = json::array();
    for (const EpochReport& e : report->epochs)
      j["epochs"].push_back({{"epoch", e.epoch},
                             {"train_loss", e.train_loss},
                             {"train_accuracy", e.train_accuracy},
                             {"val_accuracy", e.val_accuracy},
                             {"images_per_s", e.images_per_s}});
    if (!out.empty()) j["model"] = out;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("best validation accuracy %.2f%% (epoch %d)", 100 * report->best_val_accuracy,
                report->best_epoch);
    if (report->test_accuracy >= 0)
      std::printf(", test accuracy %.2f%%", 100 * report->test_accuracy);
    std::printf("; %.0f training images/s; %.1fs\n", report->train_images_per_s, report->seconds);
  }
  return 0;
}

int RunBench(int argc, char** argv) {
  GraphSource src;
  int batch = 1, threads = 2, steps = 50;
  bool as_json = false, train = false, profile = false;
  LatencyOptions lo;
  Flags f("edgenas bench (--model FILE | --arch FILE.json | --preset NAME) [flags]",
          "Measures inference latency (fused fp32, the path a device runs) as TVM's runner does,\n"
          "or with --train the throughput of training steps (forward, loss, backward, update).");
  f.String("model", &src.model, "model file");
  f.String("arch", &src.arch, "architecture JSON file");
  f.String("preset", &src.preset, "lenet-300-100 | lenet5 | cnn-bn | mobile-tiny");
  f.Int("batch", &batch, "batch size");
  f.Int("threads", &threads, "compute threads");
  f.Int("warmup", &lo.warmup, "warm-up runs");
  f.Int("number", &lo.number, "runs per repeat (0: enough for --min-repeat-ms)");
  f.Int("repeat", &lo.repeat, "repeats");
  f.Double("min-repeat-ms", &lo.min_repeat_ms, "minimum duration of one repeat");
  f.Double("cooldown-ms", &lo.cooldown_ms, "pause between repeats");
  f.Bool("train", &train, "measure training throughput instead");
  f.Int("steps", &steps, "training steps to time (--train)");
  f.Bool("profile", &profile,
         "where the time goes: per fused kernel, or with --train per node and primitive");
  f.Bool("json", &as_json, "print one JSON object");
  if (absl::Status s = f.Parse(argc, argv, 2); !s.ok()) return UsageLocal(f, s);
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (threads < 1 || threads > 256)
    return UsageLocal(f, absl::InvalidArgumentError("--threads: must be in [1, 256]"));
  if (batch < 1 || batch > 65536)
    return UsageLocal(f, absl::InvalidArgumentError("--batch: must be in [1, 65536]"));
  if (absl::Status s = ValidateLatencyOptions(lo); !s.ok()) return UsageLocal(f, s);
  absl::StatusOr<Model> model = LoadSource(src);
  if (!model.ok()) return FailLocal(model.status());
  omp_set_num_threads(threads);
  json j;
  j["source"] = Describe(src);
  j["batch"] = batch;
  j["threads"] = threads;
  j["isa"] = DnnlIsaName();
  if (train) {
    absl::StatusOr<TrainBenchResult> r =
        MeasureTrainingThroughput(model->graph, TrainBenchOptions{batch, 5, steps, 1});
    if (!r.ok()) return FailLocal(r.status());
    j["images_per_s"] = r->images_per_s;
    j["step_ms"] = r->step_ms_median;
    j["primitive_ms"] = r->primitive_ms_mean;
    j["kernel_ms"] = r->kernel_ms_mean;
    j["loss_ms"] = r->loss_ms_mean;
    j["update_ms"] = r->update_ms_mean;
    j["overhead_fraction"] = r->overhead_fraction;
    if (profile) {
      std::vector<std::pair<double, std::string>> rows;
      for (const auto& [k, ms] : r->step_breakdown_ms) rows.push_back({ms, k});
      std::sort(rows.rbegin(), rows.rend());
      for (const auto& [ms, k] : rows) {
        j["profile_ms"][k] = ms;
        if (!as_json)
          std::printf("%9.4f ms  %5.1f%%  %s\n", ms, 100 * ms / r->step_ms_mean, k.c_str());
      }
    }
    if (!as_json)
      std::printf(
          "%s: %.0f training images/s at batch %d, %d threads; step %.3f ms, %.1f%% outside "
          "compute kernels (oneDNN's and ours)\n",
          Describe(src).c_str(), r->images_per_s, batch, threads, r->step_ms_median,
          100 * r->overhead_fraction);
  } else {
    if (model->params.tensors().empty()) {
      std::mt19937_64 rng(1);
      GraphInfo info = *AnalyzeGraph(model->graph);
      if (absl::Status s = InitParams(model->graph, info, &model->params, rng); !s.ok())
        return FailLocal(s);
    }
    absl::StatusOr<std::unique_ptr<CompiledNet>> net = CompiledNet::Create(
        model->graph, &model->params, NetOptions{NetMode::kInference, batch, 1, false});
    if (!net.ok()) return FailLocal(net.status());
    absl::StatusOr<LatencyStats> r = MeasureLatency(**net, lo);
    if (!r.ok()) return FailLocal(r.status());
    j["median_ms"] = r->median_ms;
    j["p90_ms"] = r->p90_ms;
    j["mean_ms"] = r->mean_ms;
    j["min_ms"] = r->min_ms;
    j["cv"] = r->cv;
    j["number"] = r->number;
    j["repeat_ms"] = r->repeat_ms;
    if (profile) {
      // Each kernel's median over profiled passes; with the timer reads
      // their sum is a little above the whole net's median.
      absl::StatusOr<std::vector<KernelTiming>> kernels =
          ProfileKernels(**net, KernelProfileOptions{10, 50});
      if (!kernels.ok()) return FailLocal(kernels.status());
      double total = 0;
      for (const KernelTiming& k : *kernels) total += k.ms;
      std::vector<const KernelTiming*> rows;
      for (const KernelTiming& k : *kernels) rows.push_back(&k);
      std::stable_sort(rows.begin(), rows.end(),
                       [](const KernelTiming* a, const KernelTiming* b) { return a->ms > b->ms; });
      for (const KernelTiming* k : rows) {
        const std::string& node = model->graph.nodes[k->node].name;
        j["profile_ms"].push_back({{"node", node}, {"kernel", k->key}, {"ms", k->ms}});
        if (!as_json)
          std::printf("%9.4f ms  %5.1f%%  %-24s %s\n", k->ms, total > 0 ? 100 * k->ms / total : 0.0,
                      node.c_str(), k->key.c_str());
      }
    }
    if (!as_json)
      std::printf(
          "%s: median %.4f ms, p90 %.4f ms, cv %.2f%% at batch %d, %d threads (%d repeats of %d "
          "runs)\n",
          Describe(src).c_str(), r->median_ms, r->p90_ms, 100 * r->cv, batch, threads, lo.repeat,
          r->number);
  }
  if (as_json) std::printf("%s\n", j.dump().c_str());
  return 0;
}

int RunInfo(int argc, char** argv) {
  GraphSource src;
  bool as_json = false;
  Flags f("edgenas info (MODEL | --arch FILE.json | --preset NAME) [--json]",
          "Summarizes a graph: every node with its output shape, parameters and multiply-adds,\n"
          "the totals, and a model file's metadata.");
  f.String("arch", &src.arch, "architecture JSON file");
  f.String("preset", &src.preset, "a preset name");
  f.Bool("json", &as_json, "print one JSON object");
  if (absl::Status s = f.Parse(argc, argv, 2); !s.ok()) return UsageLocal(f, s);
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (f.positional().size() > 1)
    return UsageLocal(f, absl::InvalidArgumentError("give one model file"));
  if (f.positional().size() == 1) src.model = f.positional()[0];
  absl::StatusOr<Model> model = LoadSource(src);
  if (!model.ok()) return FailLocal(model.status());
  const Graph& g = model->graph;
  const GraphInfo info = *AnalyzeGraph(g);
  if (as_json) {
    json j = GraphToJsonValue(g);
    j["graph_hash"] = CanonicalHash(g, info);
    j["params"] = info.params;
    j["flops"] = info.flops;
    j["activation_bytes"] = info.activation_bytes;
    j["peak_activation_bytes"] = info.peak_activation_bytes;
    j["metrics"] = model->metadata.metrics;
    j["provenance"] = model->metadata.provenance;
    if (!src.model.empty()) {
      const std::optional<Preprocessing>& p = model->metadata.preprocessing;
      j["preprocessing"] = p ? PreprocessingJson(*p) : json(nullptr);
      if (!p) j["preprocessing_note"] = kUnknownPreprocessing;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s: input (%d, %d, %d), %d classes, graph %s\n\n", Describe(src).c_str(),
              g.input.channels, g.input.height, g.input.width, g.num_classes,
              CanonicalHash(g, info).c_str());
  std::printf("%-28s %-16s %-18s %12s %14s\n", "node", "op", "output", "params", "mult-adds");
  for (int v : info.order) {
    const Node& n = g.nodes[v];
    std::printf("%-28s %-16s %-18s %12s %14s\n", n.name.substr(0, 28).c_str(), OpName(n.op),
                info.nodes[v].shape.ToString().c_str(), Thousands(info.nodes[v].params).c_str(),
                Thousands(info.nodes[v].flops).c_str());
  }
  std::printf(
      "\n%d nodes; %s params (%.1f KB fp32); %s multiply-adds per image; activations %.1f KB per "
      "image (peak at inference %.1f KB)\n",
      static_cast<int>(g.nodes.size()), Thousands(info.params).c_str(), info.weight_bytes / 1024.0,
      Thousands(info.flops).c_str(), info.activation_bytes / 1024.0,
      info.peak_activation_bytes / 1024.0);
  for (const auto& [k, v] : model->metadata.metrics) std::printf("metric %s = %g\n", k.c_str(), v);
  for (const auto& [k, v] : model->metadata.provenance)
    std::printf("%s: %s\n", k.c_str(), v.c_str());
  if (!src.model.empty()) {
    if (model->metadata.preprocessing)
      std::printf("preprocessing: %s\n",
                  DescribePreprocessing(*model->metadata.preprocessing).c_str());
    else
      std::printf("preprocessing: unknown: %s\n", kUnknownPreprocessing);
  }
  return 0;
}

}  // namespace edgenas
