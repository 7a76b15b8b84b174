// The tasks a search hands to workers, built in one place for both
// SearchContext implementations, so a trainer sees the same task whoever
// asked for it.
#ifndef EDGENAS_SEARCH_API_TASK_PAYLOADS_H_
#define EDGENAS_SEARCH_API_TASK_PAYLOADS_H_

#include <string>

#include "edgenas/v1/services.pb.h"
#include "search/api/evaluation.h"

namespace edgenas {

v1::TrainingSpec TrainingSpecOf(const TrainingSettings& training);
// From any message with a training's fields (a job's TrainingSpec, its
// FinalTrainingSpec); an empty schedule is the default.
template <typename Spec>
TrainingSettings TrainingSettingsOf(const Spec& spec) {
  TrainingSettings t;
  t.epochs = spec.epochs();
  t.batch_size = spec.batch_size();
  t.learning_rate = spec.learning_rate();
  t.momentum = spec.momentum();
  t.weight_decay = spec.weight_decay();
  t.threads = spec.threads();
  if (!spec.schedule().empty()) t.schedule = spec.schedule();
  t.augment_pad_crop = spec.augment_pad_crop();
  t.augment_flip = spec.augment_flip();
  return t;
}

// The dataset, its split, the seed and `training`: what a train task
// trains on and how, and what every kind that reads data reads.
v1::TrainTask TrainSectionOf(const SearchSettings& settings, const TrainingSettings& training);

// Training one candidate (from `initial_model_id`'s weights when set).
v1::Task MakeTrainTask(const SearchSettings& settings, const TrainingSettings& training,
                       const v1::Graph& graph, const std::string& graph_hash,
                       const std::string& initial_model_id);
// Measuring one candidate's latency as the job's latency settings say.
v1::Task MakeMeasureTask(const SearchSettings& settings, const v1::Graph& graph,
                         const std::string& graph_hash);
// Work that is not a trial; the job's dataset and training settings go with it.
v1::Task MakeKindTask(const SearchSettings& settings, const TaskRequest& request);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_API_TASK_PAYLOADS_H_
