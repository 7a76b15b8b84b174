#include "search/random/random_strategy.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/graph/graph_hash.h"
#include "search/api/json_params.h"
#include "search/space/job_space.h"

namespace edgenas {
namespace {

constexpr int kMaxBatch = 64;
// Consecutive draws of already-seen architectures after which the space is
// taken as exhausted (only a tiny space gets there).
constexpr int kMaxDuplicateDraws = 1000;

// What a resumed run needs to continue exactly where the checkpoint was.
// The hashes drawn so far are not stored (they would grow the checkpoint,
// rewritten after every batch, with the job): they are the first
// `submitted` distinct draws from the job's seed, and a resume replays them.
struct RandomSearchState {
  std::mt19937_64 rng;
  int submitted = 0;
  std::set<std::string> seen;  // canonical hashes drawn in this job
  bool seen_restored = false;  // a checkpoint of an older version listed them
  std::optional<double> best_reward;
  std::string best_hash;

  nlohmann::json ToJson() const {
    std::ostringstream rng_text;
    rng_text << rng;
    nlohmann::json j = {{"rng", rng_text.str()},
                        {"submitted", submitted},
                        {"best_hash", best_hash}};
    j["best_reward"] = best_reward ? nlohmann::json(*best_reward) : nlohmann::json(nullptr);
    return j;
  }

  absl::Status FromJson(const nlohmann::json& j) {
    JsonParams p(j, "checkpoint");
    if (auto s = p.CheckObject(); !s.ok()) return s;
    std::string rng_text;
    for (const char* key : {"rng", "submitted"}) {
      if (auto s = p.Require(key); !s.ok()) return s;
    }
    if (auto s = p.String("rng", &rng_text); !s.ok()) return s;
    std::istringstream in(rng_text);
    in >> rng;
    if (in.fail() || !(in >> std::ws).eof()) {
      return absl::InvalidArgumentError("checkpoint.rng: not a saved generator state");
    }
    if (auto s = p.Int("submitted", 0, std::numeric_limits<int>::max(), &submitted); !s.ok()) {
      return s;
    }
    const nlohmann::json* seen_json = nullptr;
    if (auto s = p.Object("seen", &seen_json); !s.ok()) return s;
    seen.clear();
    seen_restored = seen_json != nullptr;
    if (seen_json != nullptr) {
      if (!seen_json->is_array()) {
        return absl::InvalidArgumentError("checkpoint.seen: must be a list of graph hashes");
      }
      for (const nlohmann::json& h : *seen_json) {
        if (!h.is_string()) {
          return absl::InvalidArgumentError("checkpoint.seen: must be a list of graph hashes");
        }
        seen.insert(h.get<std::string>());
      }
    }
    if (auto s = p.String("best_hash", &best_hash); !s.ok()) return s;
    const nlohmann::json* best = nullptr;
    if (auto s = p.Object("best_reward", &best); !s.ok()) return s;
    if (best != nullptr && !best->is_null()) {
      if (!best->is_number()) {
        return absl::InvalidArgumentError("checkpoint.best_reward: must be a number or null");
      }
      best_reward = best->get<double>();
    }
    return p.Finish();
  }
};

// The next architecture whose graph is neither in `seen` nor in `more`
// (its hash joins `more`); nullopt when the space seems exhausted.
absl::StatusOr<std::optional<Graph>> DrawNew(const MobileSpace& space, std::mt19937_64& rng,
                                             const std::set<std::string>& seen,
                                             std::set<std::string>* more) {
  for (int duplicates = 0; duplicates < kMaxDuplicateDraws; ++duplicates) {
    Graph graph = BuildGraph(space.Sample(rng), space);
    absl::StatusOr<std::string> hash = CanonicalHash(graph);
    if (!hash.ok()) {
      return absl::InternalError(
          absl::StrCat("random: the space drew an invalid graph: ", hash.status().message()));
    }
    if (seen.count(*hash) == 0 && more->insert(*hash).second) {
      return std::optional<Graph>(std::move(graph));
    }
  }
  return std::optional<Graph>();
}

// Draws up to `want` architectures whose graphs this job has not drawn
// yet; fewer when the space seems exhausted.
absl::Status DrawBatch(const MobileSpace& space, int want, RandomSearchState* state,
                       std::vector<Graph>* batch, std::set<std::string>* hashes) {
  while (static_cast<int>(batch->size()) < want) {
    absl::StatusOr<std::optional<Graph>> next = DrawNew(space, state->rng, state->seen, hashes);
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    batch->push_back(std::move(**next));
  }
  return absl::OkStatus();
}

// Rebuilds `seen` from the seed: the first `submitted` distinct draws (the
// sequence does not depend on the batch size). The generator keeps the
// checkpoint's state.
absl::Status ReplaySeen(const MobileSpace& space, uint64_t seed, RandomSearchState* state) {
  std::mt19937_64 rng(seed);
  const std::set<std::string> none;
  state->seen.clear();
  while (static_cast<int>(state->seen.size()) < state->submitted) {
    absl::StatusOr<std::optional<Graph>> next = DrawNew(space, rng, none, &state->seen);
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;  // exhausted: every graph of the space is in
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RandomSearchParams> RandomSearchParams::FromJson(const nlohmann::json& params) {
  RandomSearchParams out;
  JsonParams p(params, "");
  if (auto s = p.CheckObject(); !s.ok()) return s;
  if (auto s = p.Int("batch", 1, kMaxBatch, &out.batch); !s.ok()) return s;
  const nlohmann::json* space = nullptr;
  if (auto s = p.Object("space", &space); !s.ok()) return s;
  if (auto s = p.Finish(); !s.ok()) return s;
  if (space != nullptr) {
    absl::StatusOr<MobileSpace> parsed = MobileSpace::FromJson(*space);
    if (!parsed.ok()) return parsed.status();
    out.space = *std::move(parsed);
    out.space_json = *space;
  }
  return out;
}

absl::Status RandomStrategy::ValidateParams(const nlohmann::json& params) {
  return RandomSearchParams::FromJson(params).status();
}

absl::StatusOr<std::unique_ptr<SearchStrategy>> RandomStrategy::Make(const nlohmann::json& params) {
  absl::StatusOr<RandomSearchParams> parsed = RandomSearchParams::FromJson(params);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<SearchStrategy>(new RandomStrategy(*std::move(parsed)));
}

absl::Status RandomStrategy::Run(SearchContext& ctx) {
  const SearchSettings& settings = ctx.settings();
  absl::StatusOr<MobileSpace> space = SpaceForJob(params_.space, &params_.space_json, settings);
  if (!space.ok()) return space.status();

  RandomSearchState state;
  state.rng.seed(settings.seed);
  absl::StatusOr<std::optional<StrategyCheckpoint>> saved = ctx.Restore();
  if (!saved.ok()) return saved.status();
  if (*saved) {
    if (auto s = state.FromJson((*saved)->state); !s.ok()) return s;
    if (!state.seen_restored) {
      if (auto s = ReplaySeen(*space, settings.seed, &state); !s.ok()) return s;
    }
  }

  while (!ctx.ShouldStop() && state.submitted < settings.max_trials) {
    const int want = std::min(params_.batch, settings.max_trials - state.submitted);
    std::vector<Graph> batch;
    std::set<std::string> batch_hashes;
    if (auto s = DrawBatch(*space, want, &state, &batch, &batch_hashes); !s.ok()) return s;
    if (batch.empty()) {
      ctx.Progress({state.submitted, "random: every architecture of the space has been drawn"});
      break;
    }

    const std::vector<std::optional<TrialResult>> results = WaitAll(ctx, ctx.Evaluate(batch));
    // Cut short by a stop: the previous checkpoint stands, so a resumed run
    // draws this batch again (the context serves what it already has).
    if (!AllArrived(results)) break;

    state.submitted += static_cast<int>(batch.size());
    state.seen.insert(batch_hashes.begin(), batch_hashes.end());
    for (const std::optional<TrialResult>& r : results) {
      if (r->ok && (!state.best_reward || r->reward > *state.best_reward)) {
        state.best_reward = r->reward;
        state.best_hash = r->graph_hash;
      }
    }
    if (auto s = ctx.Checkpoint(state.ToJson()); !s.ok()) return s;
    std::string message =
        absl::StrCat("random: ", state.submitted, "/", settings.max_trials, " trials");
    if (state.best_reward) {
      absl::StrAppend(&message, "; best reward ", *state.best_reward, " (", state.best_hash, ")");
    }
    ctx.Progress({state.submitted, message});
  }
  return absl::OkStatus();
}

}  // namespace edgenas
