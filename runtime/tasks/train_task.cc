// The "train" task kind, and what every kind shares: the task's dataset and
// the model it starts from.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/data/preprocessing.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/tasks/task_runners.h"
#include "runtime/train/trainer.h"

namespace edgenas {
namespace {

// The step schedule divides the rate by ten twice, at a third and at two
// thirds of the run (the usual three-stage recipe).
constexpr int kStepStages = 3;

absl::StatusOr<TrainOptions> OptionsFor(const v1::TrainTask& t, int64_t train_images) {
  const v1::TrainingSpec& s = t.training();
  TrainOptions o;
  o.epochs = s.epochs();
  o.batch_size = s.batch_size();
  o.threads = s.threads();
  o.seed = t.seed();
  o.optimizer.momentum = static_cast<float>(s.momentum());
  o.optimizer.weight_decay = static_cast<float>(s.weight_decay());
  o.schedule.base_lr = static_cast<float>(s.learning_rate());
  if (!s.schedule().empty()) {
    absl::StatusOr<Schedule::Kind> kind = ScheduleKindFromName(s.schedule());
    if (!kind.ok()) return kind.status();
    o.schedule.kind = *kind;
  }
  if (o.schedule.kind == Schedule::Kind::kStep && o.batch_size > 0)
    o.schedule.step_every = std::max<int64_t>(1, train_images / o.batch_size * o.epochs / kStepStages);
  o.augment.pad_crop = s.augment_pad_crop();
  o.augment.horizontal_flip = s.augment_flip();
  o.evaluate_test = t.evaluate_test();
  return o;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const DatasetSplits>> TaskDataset(const v1::Task& task,
                                                                TaskEnv& env) {
  if (env.datasets == nullptr) return absl::FailedPreconditionError("this worker has no datasets");
  const v1::TrainTask& t = task.train();
  return env.datasets->Get(t.dataset(), t.validation_fraction(), t.seed(), t.max_train_images());
}

absl::StatusOr<Model> TaskInitialModel(const v1::Task& task, TaskEnv& env) {
  if (task.initial_model_id().empty())
    return absl::InvalidArgumentError("initial_model_id: this task names no model");
  if (!env.fetch_model)
    return absl::FailedPreconditionError("initial_model_id: this worker cannot fetch models");
  absl::StatusOr<std::string> bytes = env.fetch_model(task);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Model> model = ParseModel(*bytes);
  if (!model.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("initial model ", task.initial_model_id(), ": ", model.status().message()));
  if (task.has_graph()) {
    absl::StatusOr<std::string> hash = CanonicalHash(model->graph);
    if (!hash.ok()) return hash.status();
    if (!task.graph_hash().empty() && *hash != task.graph_hash())
      return absl::InvalidArgumentError(absl::StrCat("initial model ", task.initial_model_id(),
                                                     ": its graph is not the task's graph"));
  }
  return model;
}

absl::Status RunTrainTask(const v1::Task& task, TaskEnv& env, v1::ReportResultRequest* report) {
  absl::StatusOr<Graph> graph = GraphFromProto(task.graph());
  if (!graph.ok()) return graph.status();
  absl::StatusOr<std::shared_ptr<const DatasetSplits>> data = TaskDataset(task, env);
  if (!data.ok()) return data.status();
  absl::StatusOr<TrainOptions> o = OptionsFor(task.train(), (*data)->train.size());
  if (!o.ok()) return o.status();
  Model model;
  model.graph = *std::move(graph);
  if (!task.initial_model_id().empty()) {
    // The model's own graph: the same architecture (checked by hash), and the
    // names its weights are stored under.
    absl::StatusOr<Model> initial = TaskInitialModel(task, env);
    if (!initial.ok()) return initial.status();
    model.graph = std::move(initial->graph);
    model.params = std::move(initial->params);
  }
  absl::StatusOr<TrainReport> r =
      Train(model.graph, &model.params, **data, *o, nullptr, env.should_stop);
  if (!r.ok()) return r.status();
  if (r->cancelled) return absl::CancelledError("training stopped before it finished");
  v1::TrainMetrics* m = report->mutable_train();
  m->set_val_accuracy(r->best_val_accuracy);
  m->set_train_loss(r->epochs.empty() ? 0 : r->epochs.back().train_loss);
  m->set_train_seconds(r->seconds);
  m->set_epochs(static_cast<int>(r->epochs.size()));
  m->set_images_per_second(r->train_images_per_s);
  m->set_initial_loss(r->initial_loss);
  m->set_test_accuracy(r->test_accuracy);
  // A training on the whole training split (a winner's final training) has
  // no validation figure to record.
  if ((*data)->validation.size() > 0) model.metadata.metrics["val_accuracy"] = r->best_val_accuracy;
  if (r->test_accuracy >= 0) model.metadata.metrics["test_accuracy"] = r->test_accuracy;
  model.metadata.provenance["dataset"] = task.train().dataset();
  // Search trials and final trainings alike: whoever downloads this model
  // must feed it as this training did.
  model.metadata.preprocessing = PreprocessingForDataset(task.train().dataset(), **data);
  model.metadata.provenance["graph_hash"] = task.graph_hash();
  if (!task.initial_model_id().empty())
    model.metadata.provenance["initial_model"] = task.initial_model_id();
  absl::StatusOr<std::string> bytes = SerializeModel(model);
  if (!bytes.ok()) return bytes.status();
  report->set_model_file(*std::move(bytes));
  return absl::OkStatus();
}

}  // namespace edgenas
