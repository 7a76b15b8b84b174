// eval: a model file's accuracy on a dataset's test or validation split,
// fed as the file's preprocessing says, with per-class accuracy and the
// confusion matrix.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/data/dataset.h"
#include "runtime/data/preprocessing.h"
#include "runtime/model_file/model_file.h"
#include "runtime/train/evaluate.h"
#include "runtime/util/flags.h"
#include "server/cli/commands.h"
#include "server/cli/local_command_util.h"

namespace edgenas {
namespace {

using cli_internal::FailLocal;
using cli_internal::PreprocessingJson;
using cli_internal::UsageLocal;
using nlohmann::json;

// The trainer reports its test accuracy at this batch size; evaluating at
// the same one runs the same kernels, so the figures agree to the image.
constexpr int kTrainerEvalBatch = 256;

// A provenance entry of the model as a number, or `fallback`.
template <typename T>
T FromProvenance(const Model& m, const std::string& key, T fallback) {
  auto it = m.metadata.provenance.find(key);
  T value;
  if (it == m.metadata.provenance.end()) return fallback;
  if constexpr (std::is_same_v<T, double>) {
    if (!absl::SimpleAtod(it->second, &value)) return fallback;
  } else {
    if (!absl::SimpleAtoi(it->second, &value)) return fallback;
  }
  return value;
}

std::string ClassLabel(const Preprocessing& p, int c) {
  return c < static_cast<int>(p.class_names.size()) ? p.class_names[c] : std::to_string(c);
}

void PrintText(const std::string& path, const std::string& dataset, const std::string& split,
               const Evaluation& e, const Preprocessing& p, const Model& m) {
  std::printf("%s on %s %s (%zu images): accuracy %.2f%%, loss %.4f\n", path.c_str(),
              dataset.c_str(), split.c_str(), e.predicted.size(), 100 * e.accuracy, e.loss);
  const std::string recorded = split == "test" ? "test_accuracy" : "val_accuracy";
  if (auto it = m.metadata.metrics.find(recorded); it != m.metadata.metrics.end())
    std::printf("the model file records %s %.2f%% (%+.2f points here)\n", recorded.c_str(),
                100 * it->second, 100 * (e.accuracy - it->second));
  std::printf("\n%-4s %-16s %8s %9s\n", "", "class", "images", "accuracy");
  for (int c = 0; c < e.classes; ++c)
    std::printf("%-4d %-16s %8lld %8.2f%%\n", c, ClassLabel(p, c).substr(0, 16).c_str(),
                static_cast<long long>(e.ClassImages(c)), 100 * e.ClassAccuracy(c));
  std::printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%4s", "");
  for (int c = 0; c < e.classes; ++c) std::printf(" %5d", c);
  std::printf("\n");
  for (int t = 0; t < e.classes; ++t) {
    std::printf("%4d", t);
    for (int c = 0; c < e.classes; ++c)
      std::printf(" %5lld", static_cast<long long>(e.confusion[size_t(t) * e.classes + c]));
    std::printf("\n");
  }
}

json ToJson(const std::string& path, const std::string& dataset, const std::string& split,
            const Evaluation& e, const Preprocessing& p, const Model& m) {
  json j;
  j["model"] = path;
  j["dataset"] = dataset;
  j["split"] = split;
  j["images"] = e.predicted.size();
  j["accuracy"] = e.accuracy;
  j["loss"] = e.loss;
  j["recorded_metrics"] = m.metadata.metrics;
  j["preprocessing"] = PreprocessingJson(p);
  j["per_class"] = json::array();
  for (int c = 0; c < e.classes; ++c)
    j["per_class"].push_back({{"class", c},
                              {"name", ClassLabel(p, c)},
                              {"images", e.ClassImages(c)},
                              {"accuracy", e.ClassAccuracy(c)}});
  j["confusion"] = json::array();
  for (int t = 0; t < e.classes; ++t) {
    json row = json::array();
    for (int c = 0; c < e.classes; ++c) row.push_back(e.confusion[size_t(t) * e.classes + c]);
    j["confusion"].push_back(row);
  }
  return j;
}

absl::Status WritePredictions(const std::string& path, const Dataset& data, const Evaluation& e) {
  std::ofstream out(path);
  out << "index,label,predicted,correct\n";
  for (size_t i = 0; i < e.predicted.size(); ++i)
    out << i << ',' << int{data.labels[i]} << ',' << e.predicted[i] << ','
        << (data.labels[i] == e.predicted[i] ? 1 : 0) << '\n';
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("--predictions ", path, ": cannot write it"));
  return absl::OkStatus();
}

}  // namespace

int RunEval(int argc, char** argv) {
  std::string dataset, data_dir, split = "test", predictions;
  int threads = 2, batch = kTrainerEvalBatch;
  double val_fraction = 0.1;
  uint64_t seed = 1;
  bool as_json = false;
  Flags f("edgenas eval MODEL [--dataset NAME] [--split test|validation] [flags]",
          "Evaluates a model file on a dataset split, its images prepared as the file's\n"
          "preprocessing says: accuracy, loss, accuracy per class and the confusion matrix.\n"
          "The validation split is carved as training carved it: give the training's --seed\n"
          "and --validation-fraction if the file does not record them.");
  f.String("dataset", &dataset, "fashion-mnist | mnist | cifar10 (default: the model's)");
  f.String("data-dir", &data_dir, "dataset directory (default: the Debian package's)");
  f.String("split", &split, "test | validation");
  f.Double("validation-fraction", &val_fraction,
           "share of the training split held out (default: the model's, else 0.1)");
  f.UInt64("seed", &seed, "seed of the validation split (default: the model's, else 1)");
  f.Int("batch-size", &batch, "images per forward pass (256: as the trainer evaluates)");
  f.Int("threads", &threads, "compute threads");
  f.String("predictions", &predictions, "write index,label,predicted,correct per image here");
  f.Bool("json", &as_json, "print one JSON document");
  if (absl::Status s = f.Parse(argc, argv, 2); !s.ok()) return UsageLocal(f, s);
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (f.positional().size() != 1)
    return UsageLocal(f, absl::InvalidArgumentError("give one model file"));
  if (split != "test" && split != "validation")
    return UsageLocal(f, absl::InvalidArgumentError(absl::StrCat(
                             "--split: '", split, "' is neither test nor validation")));
  if (threads < 1 || threads > 256)
    return UsageLocal(f, absl::InvalidArgumentError("--threads: must be in [1, 256]"));
  if (batch < 1 || batch > 65536)
    return UsageLocal(f, absl::InvalidArgumentError("--batch-size: must be in [1, 65536]"));

  const std::string path = f.positional()[0];
  absl::StatusOr<Model> model = ReadModelFile(path);
  if (!model.ok()) return FailLocal(model.status());
  if (!model->metadata.preprocessing)
    return FailLocal(absl::FailedPreconditionError(absl::StrCat(
        path, ": ", kUnknownPreprocessing, ", so eval cannot prepare images as training did")));
  const Preprocessing& p = *model->metadata.preprocessing;
  if (p.pixel_max != 255.0f)
    return FailLocal(absl::FailedPreconditionError(
        absl::StrCat(path, ": preprocessing.pixel_max is ", p.pixel_max,
                     "; the datasets eval reads are 8-bit (255)")));
  const auto recorded = model->metadata.provenance.find("dataset");
  if (dataset.empty()) {
    if (recorded == model->metadata.provenance.end())
      return UsageLocal(
          f, absl::InvalidArgumentError("--dataset: the model file names no dataset; give one"));
    dataset = recorded->second;
  } else if (recorded != model->metadata.provenance.end() && recorded->second != dataset) {
    std::fprintf(stderr, "edgenas: note: %s was trained on %s, evaluated here on %s\n",
                 path.c_str(), recorded->second.c_str(), dataset.c_str());
  }
  if (!f.Seen("seed")) seed = FromProvenance<uint64_t>(*model, "seed", seed);
  if (!f.Seen("validation-fraction"))
    val_fraction = FromProvenance<double>(*model, "validation_fraction", val_fraction);

  absl::StatusOr<DatasetSplits> data =
      LoadNamedDataset(dataset, data_dir, split == "test" ? 0.0 : val_fraction, seed);
  if (!data.ok()) return FailLocal(data.status());
  const Dataset& images = split == "test" ? data->test : data->validation;
  if (split == "validation")
    std::fprintf(stderr, "validation split: fraction %g, seed %llu\n", val_fraction,
                 static_cast<unsigned long long>(seed));
  omp_set_num_threads(threads);
  absl::StatusOr<Evaluation> e = EvaluateModel(model->graph, &model->params, images, p.norm, batch);
  if (!e.ok())
    return FailLocal(absl::Status(e.status().code(),
                                  absl::StrCat(path, " on ", dataset, ": ", e.status().message())));
  if (!predictions.empty())
    if (absl::Status s = WritePredictions(predictions, images, *e); !s.ok()) return FailLocal(s);
  if (as_json)
    std::printf("%s\n", ToJson(path, dataset, split, *e, p, *model).dump().c_str());
  else
    PrintText(path, dataset, split, *e, p, *model);
  return 0;
}

}  // namespace edgenas
