#include "search/api/in_memory_context.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"

namespace edgenas {
namespace {

TrialResult Failed(std::string hash, std::string error) {
  TrialResult r;
  r.graph_hash = std::move(hash);
  r.ok = false;
  r.error = std::move(error);
  return r;
}

}  // namespace

InMemorySearchContext::InMemorySearchContext(SearchSettings settings, FitnessFunction fitness)
    : settings_(std::move(settings)),
      fitness_(std::move(fitness)),
      start_(std::chrono::steady_clock::now()) {}

void InMemorySearchContext::CrashAfter(int evaluations) {
  crash_at_ = fitness_calls_ + std::max(0, evaluations);
  if (evaluations <= 0) crashed_ = true;
}

void InMemorySearchContext::SeedCache(const std::map<std::string, TrialResult>& results) {
  for (const auto& [hash, result] : results) cache_[hash] = result;
}

bool InMemorySearchContext::ShouldStop() {
  if (crashed_ || cancelled_) return true;
  if (static_cast<int64_t>(cache_.size()) >= settings_.max_trials) return true;
  if (settings_.max_minutes <= 0) return false;  // no time budget, as in the coordinator
  const std::chrono::duration<double, std::ratio<60>> elapsed =
      std::chrono::steady_clock::now() - start_;
  return elapsed.count() >= settings_.max_minutes;
}

void InMemorySearchContext::FillReward(TrialResult* r) const {
  if (!r->ok || r->reward != 0) return;
  switch (settings_.objective) {
    case SearchSettings::Objective::kAccuracy:
      r->reward = r->val_accuracy;
      return;
    case SearchSettings::Objective::kLatency:
      r->reward = -r->latency_ms;
      return;
    case SearchSettings::Objective::kMnas:
      if (auto s = ValidateMnasObjective(settings_.mnas); !s.ok()) {
        r->ok = false;
        r->error = std::string(s.message());
      } else if (!(r->latency_ms > 0) || !std::isfinite(r->latency_ms)) {
        // A failed measurement is dropped, not scored (MnasReward's contract).
        r->ok = false;
        r->error =
            absl::StrCat("mnas reward: latency_ms must be finite and > 0, got ", r->latency_ms);
      } else {
        r->reward = MnasReward(r->val_accuracy, r->latency_ms, settings_.mnas);
      }
      return;
  }
}

std::optional<TrialResult> InMemorySearchContext::EvaluateOne(const Graph& graph) {
  if (crashed_) return std::nullopt;
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return Failed("", absl::StrCat("invalid graph: ", info.status().message()));
  const std::string hash = CanonicalHash(graph, *info);
  if (auto it = cache_.find(hash); it != cache_.end()) {
    TrialResult cached = it->second;
    cached.cached = true;
    evaluated_.push_back(graph);
    results_.push_back(cached);
    return cached;
  }
  // A stopping job starts nothing new; what it did not start never reports.
  if (ShouldStop()) return std::nullopt;

  TrialResult r = fitness_(graph);
  ++fitness_calls_;
  r.graph_hash = hash;
  r.cached = false;
  if (r.params == 0) r.params = info->params;
  if (r.flops == 0) r.flops = info->flops;
  FillReward(&r);
  cache_[hash] = r;
  evaluated_.push_back(graph);
  results_.push_back(r);
  if (crash_at_ >= 0 && fitness_calls_ >= crash_at_) crashed_ = true;
  return r;
}

std::vector<std::shared_future<TrialResult>> InMemorySearchContext::Evaluate(
    const std::vector<Graph>& candidates) {
  std::vector<std::shared_future<TrialResult>> futures;
  for (const Graph& graph : candidates) {
    std::promise<TrialResult> promise;
    futures.push_back(promise.get_future().share());
    std::optional<TrialResult> result = EvaluateOne(graph);
    if (result) {
      promise.set_value(std::move(*result));
    } else {
      lost_.push_back(std::move(promise));
    }
  }
  return futures;
}

absl::StatusOr<double> InMemorySearchContext::Latency(const Graph& graph,
                                                      const std::string& device_class) {
  if (device_class != settings_.device_class) {
    return absl::NotFoundError(absl::StrCat("no latency for device class '", device_class,
                                            "': this job measures '", settings_.device_class, "'"));
  }
  absl::StatusOr<std::string> hash = CanonicalHash(graph);
  if (!hash.ok()) return hash.status();
  auto it = cache_.find(*hash);
  if (it == cache_.end() || !it->second.ok || !(it->second.latency_ms > 0)) {
    return absl::NotFoundError(
        absl::StrCat("graph ", *hash, " has no measured latency and there is no predictor"));
  }
  return it->second.latency_ms;
}

absl::Status InMemorySearchContext::Checkpoint(const nlohmann::json& state) {
  // A dead process's writes never land; the strategy is told nothing, as a
  // strategy in a process that died would not be.
  if (!crashed_) checkpoint_ = state;
  return absl::OkStatus();
}

void InMemorySearchContext::Progress(const ProgressUpdate& update) {
  if (!crashed_) progress_.push_back(update);
}

}  // namespace edgenas
