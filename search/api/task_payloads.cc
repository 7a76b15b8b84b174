#include "search/api/task_payloads.h"

#include "runtime/tasks/task_kinds.h"

namespace edgenas {

v1::TrainingSpec TrainingSpecOf(const TrainingSettings& t) {
  v1::TrainingSpec s;
  s.set_epochs(t.epochs);
  s.set_batch_size(t.batch_size);
  s.set_learning_rate(t.learning_rate);
  s.set_momentum(t.momentum);
  s.set_weight_decay(t.weight_decay);
  s.set_threads(t.threads);
  s.set_schedule(t.schedule);
  s.set_augment_pad_crop(t.augment_pad_crop);
  s.set_augment_flip(t.augment_flip);
  return s;
}

v1::TrainTask TrainSectionOf(const SearchSettings& settings, const TrainingSettings& training) {
  v1::TrainTask t;
  t.set_dataset(settings.dataset.name);
  t.set_validation_fraction(settings.dataset.validation_fraction);
  t.set_max_train_images(static_cast<int32_t>(settings.dataset.max_train_images));
  *t.mutable_training() = TrainingSpecOf(training);
  t.set_seed(settings.seed);
  return t;
}

v1::Task MakeTrainTask(const SearchSettings& settings, const TrainingSettings& training,
                       const v1::Graph& graph, const std::string& graph_hash,
                       const std::string& initial_model_id) {
  v1::Task task;
  task.set_kind(kTrainTask);
  *task.mutable_graph() = graph;
  task.set_graph_hash(graph_hash);
  *task.mutable_train() = TrainSectionOf(settings, training);
  task.set_initial_model_id(initial_model_id);
  return task;
}

v1::Task MakeMeasureTask(const SearchSettings& settings, const v1::Graph& graph,
                         const std::string& graph_hash) {
  const LatencySettings& l = settings.latency;
  v1::Task task;
  task.set_kind(kMeasureLatencyTask);
  *task.mutable_graph() = graph;
  task.set_graph_hash(graph_hash);
  v1::MeasureTask* m = task.mutable_measure();
  m->set_precision(l.precision);
  v1::LatencySpec* spec = m->mutable_latency();
  spec->set_batch(l.batch);
  spec->set_threads(l.threads);
  spec->set_warmup(l.warmup);
  spec->set_number(l.number);
  spec->set_repeat(l.repeat);
  spec->set_min_repeat_ms(l.min_repeat_ms);
  spec->set_cooldown_ms(l.cooldown_ms);
  return task;
}

v1::Task MakeKindTask(const SearchSettings& settings, const TaskRequest& request) {
  v1::Task task;
  task.set_kind(request.kind);
  task.set_payload(request.payload);
  task.set_initial_model_id(request.model_id);
  *task.mutable_train() = TrainSectionOf(settings, settings.training);
  return task;
}

}  // namespace edgenas
