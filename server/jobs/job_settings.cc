#include "server/jobs/job_settings.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"

namespace edgenas {

absl::StatusOr<SearchSettings> SettingsFromSpec(const v1::JobSpec& spec) {
  SearchSettings s;
  s.dataset = spec.dataset().name();
  if (s.dataset == "cifar10") {
    s.input_channels = 3, s.input_height = 32, s.input_width = 32;
  } else {
    s.input_channels = 1, s.input_height = 28, s.input_width = 28;
  }
  s.num_classes = 10;
  s.device_class = spec.objective().device_class();
  switch (spec.objective().kind()) {
    case v1::OBJECTIVE_ACCURACY: s.objective = SearchSettings::Objective::kAccuracy; break;
    case v1::OBJECTIVE_LATENCY: s.objective = SearchSettings::Objective::kLatency; break;
    default: s.objective = SearchSettings::Objective::kMnas; break;
  }
  s.mnas = MnasObjective{spec.objective().target_latency_ms(), spec.objective().alpha(),
                         spec.objective().beta()};
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

v1::TrainTask TrainTaskFromSpec(const v1::JobSpec& spec) {
  v1::TrainTask t;
  t.set_dataset(spec.dataset().name());
  t.set_validation_fraction(spec.dataset().validation_fraction());
  t.set_max_train_images(spec.dataset().max_train_images());
  *t.mutable_training() = spec.training();
  t.set_seed(spec.seed());
  return t;
}

v1::MeasureTask MeasureTaskFromSpec(const v1::JobSpec& spec) {
  v1::MeasureTask m;
  *m.mutable_latency() = spec.latency();
  m.set_precision("fp32");
  return m;
}

std::string TrainKey(const v1::JobSpec& spec) {
  const v1::TrainingSpec& t = spec.training();
  const std::string text = absl::StrCat(
      "train-v1|", spec.dataset().name(), "|", spec.dataset().validation_fraction(), "|",
      spec.dataset().max_train_images(), "|", spec.seed(), "|", t.epochs(), "|", t.batch_size(),
      "|", t.learning_rate(), "|", t.momentum(), "|", t.weight_decay());
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

double Reward(const SearchSettings& s, double accuracy, double latency_ms) {
  switch (s.objective) {
    case SearchSettings::Objective::kAccuracy: return accuracy;
    case SearchSettings::Objective::kLatency: return -latency_ms;
    case SearchSettings::Objective::kMnas: break;
  }
  if (!(latency_ms > 0)) return 0;
  return MnasReward(accuracy, latency_ms, s.mnas);
}

double HypervolumeRefLatency(const SearchSettings& s) { return 4 * s.mnas.target_ms; }

}  // namespace edgenas
