// The "score" task kind: a stored model's accuracy and loss on the
// validation split, without training (the test split is never scored).
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/tasks/task_runners.h"
#include "runtime/train/trainer.h"

namespace edgenas {
namespace {

constexpr int kDefaultBatch = 256;
constexpr int kMaxBatch = 4096;

absl::StatusOr<int> BatchSize(const std::string& payload) {
  if (payload.empty()) return kDefaultBatch;
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return absl::InvalidArgumentError("payload: must be a JSON object");
  int batch = kDefaultBatch;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "batch_size")
      return absl::InvalidArgumentError(
          absl::StrCat("payload.", it.key().substr(0, 64), ": unknown field (known: batch_size)"));
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > kMaxBatch)
      return absl::InvalidArgumentError(
          absl::StrCat("payload.batch_size: must be an integer in [1, ", kMaxBatch, "]"));
    batch = it->get<int>();
  }
  return batch;
}

}  // namespace

absl::Status RunScoreTask(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report) {
  absl::StatusOr<int> batch = BatchSize(task.payload());
  if (!batch.ok()) return batch.status();
  absl::StatusOr<Model> model = TaskInitialModel(task, env);
  if (!model.ok()) return model.status();
  absl::StatusOr<std::shared_ptr<const DatasetSplits>> data = TaskDataset(task, env);
  if (!data.ok()) return data.status();
  if ((*data)->validation.size() == 0)
    return absl::InvalidArgumentError("train.validation_fraction: the split to score is empty");
  absl::StatusOr<Evaluation> e =
      EvaluateModel(model->graph, &model->params, (*data)->validation, (*data)->norm, *batch);
  if (!e.ok()) return e.status();
  const nlohmann::json out = {
      {"accuracy", e->accuracy}, {"loss", e->loss}, {"images", (*data)->validation.size()}};
  report->set_output(out.dump());
  return absl::OkStatus();
}

}  // namespace edgenas
