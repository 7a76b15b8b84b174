#include "search/api/evaluation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/tasks/task_kinds.h"
#include "runtime/train/schedule.h"
#include "runtime/util/sha256.h"

namespace edgenas {
namespace {

absl::Status FieldError(const char* field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("training.", field, ": ", what));
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

}  // namespace

absl::Status TrainingSettings::Validate() const {
  if (epochs < 1 || epochs > kMaxTrainingEpochs)
    return FieldError("epochs", absl::StrCat(epochs, " is outside [1, ", kMaxTrainingEpochs, "]"));
  if (batch_size < 1 || batch_size > kMaxTrainingBatch)
    return FieldError("batch_size", absl::StrCat(batch_size, " is outside [1, ", kMaxTrainingBatch, "]"));
  if (!(learning_rate > 0 && learning_rate <= kMaxLearningRate))
    return FieldError("learning_rate",
                      absl::StrCat(learning_rate, " is outside (0, ", kMaxLearningRate, "]"));
  if (!(momentum >= 0 && momentum < 1))
    return FieldError("momentum", absl::StrCat(momentum, " is outside [0, 1)"));
  if (!(weight_decay >= 0 && weight_decay < 1))
    return FieldError("weight_decay", absl::StrCat(weight_decay, " is outside [0, 1)"));
  if (absl::Status s = ScheduleKindFromName(schedule).status(); !s.ok())
    return FieldError("schedule", absl::StrCat("'", schedule.substr(0, 32),
                                               "' is not one of cosine, constant, step"));
  if (augment_pad_crop < 0 || augment_pad_crop > kMaxAugmentPadCrop)
    return FieldError("augment_pad_crop",
                      absl::StrCat(augment_pad_crop, " is outside [0, ", kMaxAugmentPadCrop, "]"));
  if (threads < 1 || threads > kMaxTrainingThreads)
    return FieldError("threads", absl::StrCat(threads, " is outside [1, ", kMaxTrainingThreads, "]"));
  return absl::OkStatus();
}

absl::StatusOr<double> ObjectiveReward(const SearchSettings& settings, double accuracy,
                                       double latency_ms) {
  switch (settings.objective) {
    case SearchSettings::Objective::kAccuracy:
      return accuracy;
    case SearchSettings::Objective::kLatency:
      if (!std::isfinite(latency_ms))
        return absl::InvalidArgumentError(absl::StrCat("latency_ms: ", latency_ms, " is not finite"));
      return -latency_ms;
    case SearchSettings::Objective::kMnas:
      if (absl::Status s = ValidateMnasObjective(settings.mnas); !s.ok()) return s;
      if (!(latency_ms > 0) || !std::isfinite(latency_ms))
        return absl::InvalidArgumentError(
            absl::StrCat("mnas reward: latency_ms must be finite and > 0, got ", latency_ms));
      return MnasReward(accuracy, latency_ms, settings.mnas);
  }
  return absl::InternalError("objective: unknown kind");
}

std::string EvaluationKey(const SearchSettings& s, const std::string& graph_hash,
                          const std::string& weights_digest, const TrainingSettings& t) {
  // %a prints a double exactly; the version tag moves when the meaning of a
  // training changes, so old results are not served for new requests.
  return Sha256Hex(absl::StrFormat(
      "eval-v2|graph=%s|weights=%s|dataset=%s|vf=%a|max=%d|seed=%d|epochs=%d|batch=%d|lr=%a|"
      "momentum=%a|wd=%a|schedule=%s|crop=%d|flip=%d",
      graph_hash, weights_digest, s.dataset.name, s.dataset.validation_fraction,
      s.dataset.max_train_images, s.seed, t.epochs, t.batch_size, t.learning_rate, t.momentum,
      t.weight_decay, t.schedule, t.augment_pad_crop, t.augment_flip ? 1 : 0),
                   32);
}

absl::Status ValidateCheckpoint(const StrategyCheckpoint& c) {
  if (c.artifacts.size() > kMaxArtifacts)
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: ", c.artifacts.size(), " artifacts; at most ", kMaxArtifacts));
  size_t total = 0;
  for (const auto& [name, bytes] : c.artifacts) {
    if (!ValidName(name))
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint.artifacts: '", name.substr(0, 64),
          "' is not a name of 1-64 characters of a-z, 0-9, '.', '_' and '-'"));
    if (bytes.size() > kMaxArtifactBytes)
      return absl::InvalidArgumentError(absl::StrCat("checkpoint.artifacts.", name, ": ",
                                                     bytes.size(), " bytes; at most ",
                                                     kMaxArtifactBytes));
    total += bytes.size();
  }
  if (total > kMaxArtifactsTotalBytes)
    return absl::InvalidArgumentError(absl::StrCat("checkpoint.artifacts: ", total,
                                                   " bytes in all; at most ",
                                                   kMaxArtifactsTotalBytes));
  if (c.state.dump().size() > kMaxCheckpointJsonBytes)
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint.state: larger than ", kMaxCheckpointJsonBytes, " bytes"));
  return absl::OkStatus();
}

absl::Status ValidateTaskRequest(const TaskRequest& r) {
  absl::StatusOr<const TaskKind*> kind = FindTaskKind(r.kind);
  if (!kind.ok()) return kind.status();
  if (r.kind == kTrainTask || r.kind == kMeasureLatencyTask)
    return absl::InvalidArgumentError(
        absl::StrCat("task kind '", r.kind, "' is a trial's: ask for it with Evaluate"));
  if (!(r.work >= 0) || !std::isfinite(r.work))
    return absl::InvalidArgumentError(absl::StrCat("work: ", r.work, " must be finite and >= 0"));
  return absl::OkStatus();
}

}  // namespace edgenas
