#include "server/spec/search_settings.h"

#include "search/api/task_payloads.h"

namespace edgenas {

absl::StatusOr<SearchSettings> SettingsFromSpec(const v1::JobSpec& spec) {
  SearchSettings s;
  s.dataset.name = spec.dataset().name();
  s.dataset.validation_fraction = spec.dataset().validation_fraction();
  s.dataset.max_train_images = spec.dataset().max_train_images();
  if (s.dataset.name == "cifar10") {
    s.input_channels = 3, s.input_height = 32, s.input_width = 32;
  } else {
    s.input_channels = 1, s.input_height = 28, s.input_width = 28;
  }
  s.num_classes = 10;
  s.device_class = spec.objective().device_class();
  switch (spec.objective().kind()) {
    case v1::OBJECTIVE_ACCURACY:
      s.objective = SearchSettings::Objective::kAccuracy;
      break;
    case v1::OBJECTIVE_LATENCY:
      s.objective = SearchSettings::Objective::kLatency;
      break;
    case v1::OBJECTIVE_MNAS:
      s.objective = SearchSettings::Objective::kMnas;
      break;
    default:
      return absl::InvalidArgumentError("objective.kind: not one of accuracy, latency, mnas");
  }
  s.mnas = MnasObjective{spec.objective().target_latency_ms(), spec.objective().alpha(),
                         spec.objective().beta()};
  s.training = TrainingSettingsOf(spec.training());
  const v1::LatencySpec& l = spec.latency();
  s.latency.batch = l.batch();
  s.latency.threads = l.threads();
  s.latency.precision = "fp32";
  s.latency.warmup = l.warmup();
  s.latency.number = l.number();
  s.latency.repeat = l.repeat();
  s.latency.min_repeat_ms = l.min_repeat_ms();
  s.latency.cooldown_ms = l.cooldown_ms();
  s.max_trials = spec.budget().max_trials();
  s.max_minutes = spec.budget().max_minutes();
  s.seed = spec.seed();
  const std::string& params = spec.strategy().params_json();
  if (!params.empty()) {
    s.strategy_params = nlohmann::json::parse(params, nullptr, /*allow_exceptions=*/false);
    if (s.strategy_params.is_discarded())
      return absl::InvalidArgumentError("strategy.params: not valid JSON");
  }
  return s;
}

TrainingSettings FinalTrainingSettings(const v1::FinalTrainingSpec& f) {
  return TrainingSettingsOf(f);
}

}  // namespace edgenas
