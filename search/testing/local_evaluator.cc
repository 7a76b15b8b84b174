#include "search/testing/local_evaluator.h"

#include "absl/strings/str_cat.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/tasks/task_kinds.h"
#include "search/api/task_payloads.h"

namespace edgenas {
namespace {

// Runs `task` with `model` (may be null) as the model it starts from.
absl::Status RunHere(const v1::Task& task, DatasetCache* datasets, const Model* model,
                     v1::ReportResultRequest* report) {
  TaskEnv env;
  env.datasets = datasets;
  env.fetch_model = [model](const v1::Task& t) -> absl::StatusOr<std::string> {
    if (model == nullptr)
      return absl::NotFoundError(absl::StrCat("no model '", t.initial_model_id(), "'"));
    return SerializeModel(*model);
  };
  return RunTask(task, env, report);
}

}  // namespace

Evaluator LocalEvaluator(std::shared_ptr<DatasetCache> datasets) {
  return [datasets](const EvaluationJob& job) {
    Evaluated out;
    TrialResult& r = out.result;
    v1::Graph wire;
    GraphToProto(job.graph, &wire);
    std::optional<Model> initial;
    if (job.initial_weights) initial = Model{job.graph, *job.initial_weights, {}};
    v1::Task train = MakeTrainTask(job.settings, job.training, wire, job.graph_hash,
                                   initial ? "initial" : "");
    v1::ReportResultRequest trained;
    if (absl::Status s = RunHere(train, datasets.get(), initial ? &*initial : nullptr, &trained);
        !s.ok()) {
      r.error = absl::StrCat("training failed: ", s.message());
      return out;
    }
    v1::ReportResultRequest measured;
    if (absl::Status s = RunHere(MakeMeasureTask(job.settings, wire, job.graph_hash),
                                 datasets.get(), nullptr, &measured);
        !s.ok()) {
      r.error = absl::StrCat("latency measurement failed: ", s.message());
      return out;
    }
    absl::StatusOr<Model> model = ParseModel(trained.model_file());
    if (!model.ok()) {
      r.error = absl::StrCat("the trained model does not read back: ", model.status().message());
      return out;
    }
    r.ok = true;
    r.val_accuracy = trained.train().val_accuracy();
    r.initial_loss = trained.train().initial_loss();
    r.train_seconds = trained.train().train_seconds();
    r.latency_ms = measured.latency().median_ms();
    r.latency_p90_ms = measured.latency().p90_ms();
    r.latency_cv = measured.latency().cv();
    out.model = *std::move(model);
    return out;
  };
}

TaskExecutor LocalTaskExecutor(std::shared_ptr<DatasetCache> datasets) {
  return [datasets](const TaskRequest& request, const Model* model,
                    const SearchSettings& settings) {
    TaskResult result;
    v1::ReportResultRequest report;
    absl::Status s = RunHere(MakeKindTask(settings, request), datasets.get(), model, &report);
    if (!s.ok()) {
      result.error = std::string(s.message());
      return result;
    }
    result.ok = true;
    result.output = report.output();
    return result;
  };
}

}  // namespace edgenas
