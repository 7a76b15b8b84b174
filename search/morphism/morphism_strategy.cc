#include "search/morphism/morphism_strategy.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "search/api/json_params.h"
#include "search/morphism/gaussian_process.h"
#include "search/space/job_space.h"

namespace edgenas {
namespace {

using morphism::ArchitectureDescriptor;
using morphism::ArchitectureGp;
using morphism::MorphCandidate;
using morphism::MorphStep;

// Draws of initial architectures after which the space is taken to hold
// fewer distinct ones than asked for.
constexpr int kMaxInitialDraws = 1000;

// One trained (or failed) model of the search.
struct Trained {
  std::string model_id;  // "" when its training failed
  std::string hash;      // CanonicalHash of its graph
  double reward = 0;
  int parent = -1;  // index in the search's list; -1 for an initial model
  std::vector<MorphStep> steps;
  // Not checkpointed: loaded back from the model on resume.
  Graph graph;
  ArchitectureDescriptor descriptor;

  bool ok() const { return !model_id.empty(); }

  nlohmann::json ToJson() const {
    nlohmann::json s = nlohmann::json::array();
    for (const MorphStep& step : steps) s.push_back(step.ToJson());
    return {{"model_id", model_id}, {"hash", hash}, {"reward", reward}, {"parent", parent},
            {"steps", s}};
  }
};

struct RunState {
  std::mt19937_64 rng;
  std::vector<Trained> models;

  nlohmann::json ToJson() const {
    std::ostringstream r;
    r << rng;
    nlohmann::json list = nlohmann::json::array();
    for (const Trained& t : models) list.push_back(t.ToJson());
    return {{"rng", r.str()}, {"models", list}};
  }

  absl::Status FromJson(const nlohmann::json& j) {
    JsonParams p(j, "checkpoint");
    if (absl::Status s = p.CheckObject(); !s.ok()) return s;
    for (const char* key : {"rng", "models"})
      if (absl::Status s = p.Require(key); !s.ok()) return s;
    std::string text;
    if (absl::Status s = p.String("rng", &text); !s.ok()) return s;
    std::istringstream in(text);
    in >> rng;
    if (in.fail()) return absl::InvalidArgumentError("checkpoint.rng: not a saved generator state");
    const nlohmann::json* list = nullptr;
    if (absl::Status s = p.Object("models", &list); !s.ok()) return s;
    if (absl::Status s = p.Finish(); !s.ok()) return s;
    if (!list->is_array()) return absl::InvalidArgumentError("checkpoint.models: must be a list");
    models.clear();
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string field = absl::StrCat("checkpoint.models[", i, "]");
      JsonParams m((*list)[i], field);
      if (absl::Status s = m.CheckObject(); !s.ok()) return s;
      Trained t;
      for (const char* key : {"model_id", "hash", "reward", "parent", "steps"})
        if (absl::Status s = m.Require(key); !s.ok()) return s;
      if (absl::Status s = m.String("model_id", &t.model_id); !s.ok()) return s;
      if (absl::Status s = m.String("hash", &t.hash); !s.ok()) return s;
      if (absl::Status s = m.Double("reward", -1e300, 1e300, &t.reward); !s.ok()) return s;
      if (absl::Status s = m.Int("parent", -1, static_cast<int64_t>(i) - 1, &t.parent); !s.ok())
        return s;
      const nlohmann::json* steps = nullptr;
      if (absl::Status s = m.Object("steps", &steps); !s.ok()) return s;
      if (absl::Status s = m.Finish(); !s.ok()) return s;
      if (!steps->is_array()) return absl::InvalidArgumentError(field + ".steps: must be a list");
      for (size_t k = 0; k < steps->size(); ++k) {
        absl::StatusOr<MorphStep> step =
            MorphStep::FromJson((*steps)[k], absl::StrCat(field, ".steps[", k, "]"));
        if (!step.ok()) return step.status();
        t.steps.push_back(*std::move(step));
      }
      models.push_back(std::move(t));
    }
    return absl::OkStatus();
  }
};

absl::Status ReadBool(JsonParams& p, const std::string& key, bool* out) {
  const nlohmann::json* v = nullptr;
  if (absl::Status s = p.Object(key, &v); !s.ok()) return s;
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_boolean()) return absl::InvalidArgumentError(p.Field(key) + ": must be true or false");
  *out = v->get<bool>();
  return absl::OkStatus();
}

absl::Status ReadAnnealing(const nlohmann::json& j, morphism::AnnealingSettings* a) {
  JsonParams p(j, "annealing");
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  if (absl::Status s = p.Double("initial_temperature", 1e-12, 1e12, &a->initial_temperature); !s.ok())
    return s;
  if (absl::Status s = p.Double("min_temperature", 1e-12, 1e12, &a->min_temperature); !s.ok())
    return s;
  if (absl::Status s = p.Double("cooling", 0.01, 0.999, &a->cooling); !s.ok()) return s;
  if (absl::Status s = p.Int("neighbours", 1, 64, &a->neighbours); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  if (a->min_temperature >= a->initial_temperature)
    return absl::InvalidArgumentError(
        "annealing.min_temperature: must be below annealing.initial_temperature");
  return absl::OkStatus();
}

// Fills in a trained model's graph and descriptor from its stored model.
absl::Status LoadTrained(SearchContext& ctx, Trained* t) {
  absl::StatusOr<Model> m = ctx.LoadModel(t->model_id);
  if (!m.ok()) return m.status();
  absl::StatusOr<ArchitectureDescriptor> d = morphism::Describe(m->graph);
  if (!d.ok()) return d.status();
  t->graph = std::move(m->graph);
  t->descriptor = *std::move(d);
  return absl::OkStatus();
}

// The result of evaluating `graph`: its graph and descriptor are known
// here, so the stored model is not read back (only a resume loads them).
absl::StatusOr<Trained> Record(const TrialResult& r, const Graph& graph, std::string hash,
                               int parent, std::vector<MorphStep> steps) {
  Trained t;
  t.hash = std::move(hash);
  t.parent = parent;
  t.steps = std::move(steps);
  if (r.ok && std::isfinite(r.reward)) {
    t.model_id = r.model_id;
    t.reward = r.reward;
    absl::StatusOr<ArchitectureDescriptor> d = morphism::Describe(graph);
    if (!d.ok()) return d.status();
    t.graph = graph;
    t.descriptor = *std::move(d);
  }
  return t;
}

}  // namespace

absl::StatusOr<MorphismParams> MorphismParams::FromJson(const nlohmann::json& params) {
  MorphismParams out;
  JsonParams p(params, "");
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  if (absl::Status s = p.Int("initial_models", 1, 64, &out.initial_models); !s.ok()) return s;
  if (absl::Status s = p.Int("child_epochs", 1, kMaxTrainingEpochs, &out.child_epochs); !s.ok())
    return s;
  if (absl::Status s = p.Double("beta", 0, 100, &out.beta); !s.ok()) return s;
  if (absl::Status s = p.Int("batch", 1, 64, &out.batch); !s.ok()) return s;
  if (absl::Status s = p.Double("max_mflops", 0.01, 1e6, &out.max_mflops); !s.ok()) return s;
  if (absl::Status s = ReadBool(p, "deepen_batch_norm", &out.morph.deepen_batch_norm); !s.ok())
    return s;
  double noise = out.morph.widen_noise;
  if (absl::Status s = p.Double("widen_noise", 0, 1, &noise); !s.ok()) return s;
  out.morph.widen_noise = static_cast<float>(noise);
  const nlohmann::json *annealing = nullptr, *space = nullptr;
  if (absl::Status s = p.Object("annealing", &annealing); !s.ok()) return s;
  if (absl::Status s = p.Object("space", &space); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  if (annealing != nullptr)
    if (absl::Status s = ReadAnnealing(*annealing, &out.annealing); !s.ok()) return s;
  nlohmann::json space_json = {{"max_blocks", out.space.max_blocks},
                               {"max_mflops", out.space.max_mflops}};
  if (space != nullptr) {
    if (!space->is_object()) return absl::InvalidArgumentError("space: must be an object");
    space_json.update(*space);
    out.space_json = *space;
  }
  absl::StatusOr<MobileSpace> parsed = MobileSpace::FromJson(space_json);
  if (!parsed.ok()) return parsed.status();
  out.space = *std::move(parsed);
  if (out.space.max_mflops > out.max_mflops)
    return absl::InvalidArgumentError(absl::StrCat(
        "space.max_mflops: ", out.space.max_mflops, " is above max_mflops ", out.max_mflops,
        " (the initial models must leave room to grow)"));
  return out;
}

absl::Status MorphismStrategy::ValidateParams(const nlohmann::json& params) {
  return MorphismParams::FromJson(params).status();
}

absl::StatusOr<std::unique_ptr<SearchStrategy>> MorphismStrategy::Make(const nlohmann::json& params) {
  absl::StatusOr<MorphismParams> parsed = MorphismParams::FromJson(params);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<SearchStrategy>(new MorphismStrategy(*std::move(parsed)));
}

absl::Status MorphismStrategy::Run(SearchContext& ctx) {
  const SearchSettings& settings = ctx.settings();
  absl::StatusOr<MobileSpace> space = SpaceForJob(params_.space, &params_.space_json, settings);
  if (!space.ok()) return space.status();

  RunState state;
  absl::StatusOr<std::optional<StrategyCheckpoint>> saved = ctx.Restore();
  if (!saved.ok()) return saved.status();
  if (*saved) {
    if (absl::Status s = state.FromJson((*saved)->state); !s.ok()) return s;
    for (Trained& t : state.models) {
      if (!t.ok()) continue;
      if (absl::Status s = LoadTrained(ctx, &t); !s.ok())
        return absl::DataLossError(
            absl::StrCat("morphism: checkpoint model ", t.model_id, ": ", s.message()));
    }
  } else {
    std::seed_seq seq{settings.seed, uint64_t{0x3012F}};
    std::vector<uint64_t> seeds(2);
    seq.generate(seeds.begin(), seeds.end());
    state.rng.seed(seeds[0]);

    // The initial models: distinct architectures of the space, trained from scratch.
    std::mt19937_64 draw(seeds[1]);
    std::vector<Graph> graphs;
    std::vector<std::string> hashes;
    for (int tries = 0; static_cast<int>(graphs.size()) < params_.initial_models &&
                        tries < kMaxInitialDraws;
         ++tries) {
      Graph g = BuildGraph(space->Sample(draw), *space);
      absl::StatusOr<std::string> hash = CanonicalHash(g);
      if (!hash.ok()) return hash.status();
      if (std::find(hashes.begin(), hashes.end(), *hash) != hashes.end()) continue;
      hashes.push_back(*hash);
      graphs.push_back(std::move(g));
    }
    const std::vector<std::optional<TrialResult>> results = WaitAll(ctx, ctx.Evaluate(graphs));
    if (!AllArrived(results)) return absl::OkStatus();  // stopped: nothing to keep yet
    for (size_t i = 0; i < results.size(); ++i) {
      absl::StatusOr<Trained> t = Record(*results[i], graphs[i], hashes[i], -1, {});
      if (!t.ok()) return t.status();
      state.models.push_back(*std::move(t));
    }
    if (absl::Status s = ctx.Checkpoint(state.ToJson()); !s.ok()) return s;
    ctx.Progress({static_cast<int>(state.models.size()),
                  absl::StrCat("morphism: ", state.models.size(), " initial models trained")});
  }

  TrainingSettings child_training = settings.training;
  child_training.epochs = params_.child_epochs;
  const int64_t max_flops = static_cast<int64_t>(params_.max_mflops * 1e6);
  while (!ctx.ShouldStop()) {
    // The trained models the GP learns from and the tree grows from.
    std::vector<int> roots;
    std::vector<Graph> root_graphs;
    std::vector<ArchitectureDescriptor> xs;
    std::vector<double> ys;
    std::set<std::string> seen;
    for (size_t i = 0; i < state.models.size(); ++i) {
      const Trained& t = state.models[i];
      seen.insert(t.hash);
      if (!t.ok()) continue;
      roots.push_back(static_cast<int>(i));
      root_graphs.push_back(t.graph);
      xs.push_back(t.descriptor);
      ys.push_back(t.reward);
    }
    if (roots.empty()) {
      ctx.Progress({static_cast<int>(state.models.size()),
                    "morphism: every initial model failed to train; nothing to grow from"});
      return absl::OkStatus();
    }

    // The round's children, each chosen by the annealing under the GP fitted
    // to the results and to the children already chosen (at their means).
    std::vector<MorphCandidate> children;
    morphism::TreeSearchStats stats;
    const auto choice_start = std::chrono::steady_clock::now();
    for (int b = 0; b < params_.batch; ++b) {
      absl::StatusOr<ArchitectureGp> gp = ArchitectureGp::Fit(xs, ys, state.rng());
      if (!gp.ok()) return gp.status();
      morphism::MorphTreeSearch search(
          [&](int root) { return ctx.LoadModel(state.models[roots[root]].model_id); },
          [&](const ArchitectureDescriptor& d) { return gp->UpperConfidenceBound(d, params_.beta); },
          params_.annealing, params_.morph, max_flops);
      absl::StatusOr<std::optional<MorphCandidate>> found =
          search.Search(root_graphs, seen, state.rng, &stats);
      if (!found.ok()) return found.status();
      if (!*found) break;
      seen.insert((*found)->graph_hash);
      xs.push_back((*found)->descriptor);
      ys.push_back(gp->Predict((*found)->descriptor).mean);
      children.push_back(**std::move(found));
    }
    const double choice_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - choice_start).count();
    if (children.empty()) {
      ctx.Progress({static_cast<int>(state.models.size()),
                    absl::StrCat("morphism: no new morph of any trained model within ",
                                 params_.max_mflops, " M multiply-adds")});
      return absl::OkStatus();
    }

    std::vector<EvaluationRequest> requests;
    for (const MorphCandidate& c : children) {
      const Trained& root = state.models[roots[c.root]];
      absl::StatusOr<Model> parent = ctx.LoadModel(root.model_id);
      if (!parent.ok()) return parent.status();
      absl::StatusOr<Model> child = morphism::ApplyMorphs(*parent, c.steps, params_.morph);
      if (!child.ok()) return child.status();
      EvaluationRequest r;
      r.graph = std::move(child->graph);
      r.initial_weights = std::make_shared<const ParamStore>(std::move(child->params));
      r.parent_model_id = root.model_id;
      r.training = child_training;
      requests.push_back(std::move(r));
    }
    const std::vector<std::optional<TrialResult>> results = WaitAll(ctx, ctx.Evaluate(requests));
    // Cut short by a stop: the previous checkpoint stands, and a resumed run
    // chooses the same children (same generator, same results) from the cache.
    if (!AllArrived(results)) break;

    double best_child = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < children.size(); ++i) {
      absl::StatusOr<Trained> t = Record(*results[i], children[i].graph, children[i].graph_hash,
                                         roots[children[i].root], children[i].steps);
      if (!t.ok()) return t.status();
      if (t->ok()) best_child = std::max(best_child, t->reward);
      state.models.push_back(*std::move(t));
    }
    if (absl::Status s = ctx.Checkpoint(state.ToJson()); !s.ok()) return s;
    double best = -std::numeric_limits<double>::infinity();
    for (const Trained& t : state.models)
      if (t.ok()) best = std::max(best, t.reward);
    const MorphCandidate& first = children.front();
    ctx.Progress(
        {static_cast<int>(state.models.size()),
         absl::StrFormat("morphism: %d models; this round %d child%s (first: %d morph%s of model "
                         "%d), best reward %.4f (this round %.4f); annealing expanded %d nodes, "
                         "scored %d, in %.1f s%s",
                         static_cast<int>(state.models.size()), static_cast<int>(children.size()),
                         children.size() == 1 ? "" : "ren", static_cast<int>(first.steps.size()),
                         first.steps.size() == 1 ? "" : "s", roots[first.root], best, best_child,
                         stats.expanded, stats.generated, choice_seconds,
                         stats.failed > 0
                             ? absl::StrCat("; ", stats.failed,
                                            " listed morphs did not apply (a bug: please report)")
                                   .c_str()
                             : "")});
  }
  return absl::OkStatus();
}

}  // namespace edgenas
