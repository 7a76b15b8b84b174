// What a strategy asks of the world and what it gets back: the job's
// settings, evaluation requests (a graph, optionally with the weights to
// start from and its own training settings), trial results, tasks that are
// not trials, and checkpoints with artifacts. SearchContext
// (search_context.h) is the interface that takes them.
#ifndef EDGENAS_SEARCH_API_EVALUATION_H_
#define EDGENAS_SEARCH_API_EVALUATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"
#include "search/objective/mnas_reward.h"

namespace edgenas {

// The bounds of every training setting, a job's (server/spec reads these)
// and a request's alike.
inline constexpr int kMaxTrainingEpochs = 1000;
inline constexpr int kMaxTrainingBatch = 4096;
inline constexpr double kMaxLearningRate = 10;
inline constexpr int kMaxAugmentPadCrop = 16;
inline constexpr int kMaxTrainingThreads = 256;

// How a candidate is trained. The job gives the defaults; a request may
// carry its own (CoDeepNEAT evolves them, morphism trains children briefly).
struct TrainingSettings {
  int epochs = 1;
  int batch_size = 64;
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0005;
  std::string schedule = "cosine";  // "cosine", "constant" or "step"
  int augment_pad_crop = 0;         // pad, then crop a random window of the image's size
  bool augment_flip = false;        // mirror left-right with probability 1/2
  int threads = 2;                  // how, not what: no result depends on it

  // InvalidArgument naming the field ("training.epochs: ...").
  absl::Status Validate() const;
};

// Which images candidates are trained and scored on.
struct DatasetSettings {
  std::string name = "fashion-mnist";
  double validation_fraction = 0.1;  // carved from the training split; scores candidates
  int64_t max_train_images = 0;      // 0: all; otherwise a seeded subset
};

// How latency is measured. A latency depends on the graph, the device
// class, and batch, threads and precision; the rest is the protocol (TVM's
// runner's), which makes a measurement steadier, not different.
struct LatencySettings {
  int batch = 1;
  int threads = 1;
  std::string precision = "fp32";
  int warmup = 10;
  int number = 0;  // runs per repeat; 0: raised until a repeat lasts min_repeat_ms
  int repeat = 20;
  double min_repeat_ms = 20;
  double cooldown_ms = 0;
};

// What a job asks of every evaluation, fixed for the job's life.
struct SearchSettings {
  DatasetSettings dataset;
  int input_channels = 1, input_height = 28, input_width = 28, num_classes = 10;
  std::string device_class = "host-cpu";
  enum class Objective { kAccuracy, kLatency, kMnas };
  Objective objective = Objective::kMnas;
  MnasObjective mnas = MnasObjective::Soft(1.0);
  TrainingSettings training;  // the default of every request
  LatencySettings latency;
  // The budget: trials, plus the work of other tasks in trial-equivalents
  // (TaskRequest::work), up to max_trials; and wall-clock minutes.
  int max_trials = 20;
  double max_minutes = 10;
  uint64_t seed = 1;
  nlohmann::json strategy_params = nlohmann::json::object();
};

// The reward of one result under the job's objective; higher is better. An
// MNAS objective needs a finite latency > 0: anything else is an error, so
// a broken measurement is never scored.
absl::StatusOr<double> ObjectiveReward(const SearchSettings& settings, double accuracy,
                                       double latency_ms);

// One candidate to train and measure.
struct EvaluationRequest {
  Graph graph;
  // The weights training starts from, exactly the graph's parameters by
  // name (a stored model's, possibly transformed by the strategy); null:
  // from a fresh initialization.
  std::shared_ptr<const ParamStore> initial_weights;
  // The model those weights came from, if any (provenance only).
  std::string parent_model_id;
  // Absent: the job's training settings.
  std::optional<TrainingSettings> training;
};

// The key of an evaluation's training result: the graph, the weights it
// starts from ("" for a fresh initialization), the training settings and
// the job's dataset and seed, every real number to the last bit. Two
// requests share a training result exactly when their keys are equal.
std::string EvaluationKey(const SearchSettings& settings, const std::string& graph_hash,
                          const std::string& weights_digest, const TrainingSettings& training);

// The outcome of one candidate.
struct TrialResult {
  std::string candidate_id;  // the candidate in this job
  std::string model_id;      // its trained model (SearchContext::LoadModel); "" when failed
  std::string graph_hash;
  bool ok = false;
  std::string error;         // why, when !ok
  double val_accuracy = 0;   // on the validation split, never the test split
  double initial_loss = 0;   // the first training batch's loss before any update
  double latency_ms = 0;     // median on the job's device class
  double latency_p90_ms = 0;
  double latency_cv = 0;
  int64_t params = 0;
  int64_t flops = 0;
  double reward = 0;  // the job's objective; higher is better
  double train_seconds = 0;
  bool cached = false;  // served from an earlier evaluation with the same key
  int sequence = 0;     // its place in the job (1, 2, ...); 0 when cached or re-measured
};

// Work that is not a trial: a task of a kind the runtime's task registry
// knows (runtime/tasks/task_kinds.h), run by any trainer.
struct TaskRequest {
  std::string kind;
  std::string payload;   // the kind's own input
  std::string model_id;  // a stored model the task works on; "" for none
  double work = 0;       // what it spends of the budget, in trial-equivalents (>= 0)
};

struct TaskResult {
  bool ok = false;
  std::string error;   // why, when !ok
  std::string output;  // the kind's result
};

// A strategy's saved state: JSON, and named binary artifacts (a
// population, a supernet's shared weights) that the JSON refers to. Saved
// and restored as one: a restore never sees the JSON of one checkpoint with
// the artifacts of another.
struct StrategyCheckpoint {
  nlohmann::json state;
  std::map<std::string, std::string> artifacts;
};

// Bounds on a checkpoint, so one job cannot fill the coordinator's disk.
inline constexpr size_t kMaxCheckpointJsonBytes = size_t{16} << 20;
inline constexpr size_t kMaxArtifacts = 16;
inline constexpr size_t kMaxArtifactBytes = size_t{64} << 20;
inline constexpr size_t kMaxArtifactsTotalBytes = size_t{256} << 20;
// Names: 1-64 characters of a-z, 0-9, '.', '_' and '-'.
absl::Status ValidateCheckpoint(const StrategyCheckpoint& checkpoint);

// The same checks on a task request: a kind the registry knows that is not
// a trial's own kind (train and measure_latency go through Evaluate), and
// work >= 0 and finite.
absl::Status ValidateTaskRequest(const TaskRequest& request);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_API_EVALUATION_H_
