#include "search/enas/enas_search.h"

#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "search/api/json_params.h"

namespace edgenas {
namespace enas {

EnasSearch::EnasSearch(std::vector<int> choices, EnasSearchParams params, uint64_t seed)
    : choices_(std::move(choices)),
      params_(std::move(params)),
      controller_(choices_, params_.controller, seed),
      rng_(seed ^ 0x5eed0e7a5ULL) {}

absl::StatusOr<EpochReport> EnasSearch::RunEpoch(SupernetBackend& backend, const RewardFunction& reward) {
  EpochReport report;
  report.epoch = epoch_ + 1;
  const int64_t steps = backend.StepsPerEpoch();
  std::vector<std::vector<int>> children;
  children.reserve(steps);
  for (int64_t k = 0; k < steps; ++k) children.push_back(controller_.Sample(rng_).decisions);
  absl::StatusOr<supernet::PhaseReport> shared =
      backend.Train(children, epoch_ * steps, params_.epochs * steps, rng_());
  if (!shared.ok()) return shared.status();
  report.shared = *shared;

  double reward_sum = 0, entropy_sum = 0;
  int scored = 0;
  report.best_reward = -std::numeric_limits<double>::infinity();
  for (int step = 0; step < params_.controller_steps; ++step) {
    std::vector<ControllerSample> samples;
    std::vector<std::vector<int>> batch;
    for (int k = 0; k < params_.controller_batch; ++k) {
      samples.push_back(controller_.Sample(rng_));
      batch.push_back(samples.back().decisions);
    }
    absl::StatusOr<std::vector<double>> accuracy = backend.Score(batch, rng_());
    if (!accuracy.ok()) return accuracy.status();
    std::vector<double> rewards;
    for (size_t k = 0; k < batch.size(); ++k) {
      absl::StatusOr<double> r = reward(batch[k], (*accuracy)[k]);
      if (!r.ok()) return r.status();
      rewards.push_back(*r);
      reward_sum += *r;
      entropy_sum += samples[k].entropy;
      ++scored;
      if (*r > report.best_reward) {
        report.best_reward = *r;
        report.best_child = batch[k];
      }
    }
    report.baseline = controller_.Update(samples, rewards).baseline;
  }
  if (scored > 0) {
    report.mean_reward = reward_sum / scored;
    report.controller_entropy = entropy_sum / scored;
  }
  ++epoch_;
  return report;
}

absl::StatusOr<std::vector<int>> EnasSearch::Derive(SupernetBackend& backend, const RewardFunction& reward) {
  std::vector<std::vector<int>> children;
  for (int k = 0; k < params_.derive_samples; ++k) children.push_back(controller_.Sample(rng_).decisions);
  absl::StatusOr<std::vector<double>> accuracy = backend.Score(children, rng_());
  if (!accuracy.ok()) return accuracy.status();
  size_t best = 0;
  double best_reward = -std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < children.size(); ++k) {
    absl::StatusOr<double> r = reward(children[k], (*accuracy)[k]);
    if (!r.ok()) return r.status();
    if (*r > best_reward) best_reward = *r, best = k;
  }
  if (children.empty()) return controller_.Greedy().decisions;
  return children[best];
}

nlohmann::json EnasSearch::StateJson() const {
  std::ostringstream r;
  r << rng_;
  return {{"epoch", epoch_}, {"rng", r.str()}};
}

absl::Status EnasSearch::Restore(const nlohmann::json& state, const std::string& controller_bytes) {
  JsonParams p(state, "checkpoint");
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  for (const char* key : {"epoch", "rng"})
    if (absl::Status s = p.Require(key); !s.ok()) return s;
  int epoch = 0;
  std::string text;
  if (absl::Status s = p.Int("epoch", 0, params_.epochs, &epoch); !s.ok()) return s;
  if (absl::Status s = p.String("rng", &text); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  std::istringstream in(text);
  std::mt19937_64 rng;
  in >> rng;
  if (in.fail()) return absl::InvalidArgumentError("checkpoint.rng: not a saved generator state");
  absl::StatusOr<Controller> c = Controller::FromBytes(choices_, params_.controller, controller_bytes);
  if (!c.ok()) return c.status();
  controller_ = *std::move(c);
  rng_ = rng;
  epoch_ = epoch;
  return absl::OkStatus();
}

}  // namespace enas
}  // namespace edgenas
