#include "search/codeepneat/codeepneat_strategy.h"

#include <limits>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "search/api/json_params.h"
#include "search/codeepneat/assembly.h"
#include "search/deepneat/generation.h"
#include "search/deepneat/layer_ops.h"

namespace edgenas {
namespace {

using codeepneat::Blueprint;
using codeepneat::BlueprintOps;
using codeepneat::BlueprintPopulation;
using deepneat::LayerPopulation;

constexpr char kModulesArtifact[] = "modules";
constexpr char kBlueprintsArtifact[] = "blueprints";

// What the strategy keeps besides the populations.
struct RunState {
  int trials = 0;
  double best = 0;
  std::mt19937_64 rng;  // draws the modules of each assembly

  nlohmann::json ToJson() const {
    std::ostringstream r;
    r << rng;
    return {{"trials", trials}, {"best_fitness", best}, {"rng", r.str()}};
  }
  absl::Status FromJson(const nlohmann::json& j) {
    JsonParams p(j, "checkpoint");
    if (absl::Status s = p.CheckObject(); !s.ok()) return s;
    if (absl::Status s = p.Int("trials", 0, std::numeric_limits<int>::max(), &trials); !s.ok()) return s;
    if (absl::Status s = p.Double("best_fitness", 0, 1e300, &best); !s.ok()) return s;
    std::string text;
    if (absl::Status s = p.Require("rng"); !s.ok()) return s;
    if (absl::Status s = p.String("rng", &text); !s.ok()) return s;
    std::istringstream in(text);
    in >> rng;
    if (in.fail()) return absl::InvalidArgumentError("checkpoint.rng: not a saved generator state");
    return p.Finish();
  }
};

template <typename P>
absl::StatusOr<P> RestorePopulation(const StrategyCheckpoint& saved, const char* name) {
  auto it = saved.artifacts.find(name);
  if (it == saved.artifacts.end())
    return absl::DataLossError(absl::StrCat("codeepneat: the checkpoint has no ", name, " artifact"));
  absl::StatusOr<P> p = P::FromJson(nlohmann::json::parse(it->second, nullptr, false));
  if (!p.ok())
    return absl::DataLossError(absl::StrCat("codeepneat: checkpoint ", name, ": ", p.status().message()));
  return p;
}

std::vector<int> SpeciesIds(const LayerPopulation& modules) {
  std::vector<int> ids;
  for (const auto& s : modules.species()) ids.push_back(s.id);
  return ids;
}

}  // namespace

absl::StatusOr<CoDeepNeatParams> CoDeepNeatParams::FromJson(const nlohmann::json& params) {
  CoDeepNeatParams out;
  JsonParams p(params, "");
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  const nlohmann::json *modules = nullptr, *blueprints = nullptr;
  if (absl::Status s = p.Object("modules", &modules); !s.ok()) return s;
  if (absl::Status s = p.Object("blueprints", &blueprints); !s.ok()) return s;
  if (absl::Status s = p.Int("assemblies_per_blueprint", 1, 100, &out.assemblies_per_blueprint); !s.ok())
    return s;
  if (absl::Status s = p.Double("max_mflops", 0.01, 1e6, &out.max_mflops); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  if (modules != nullptr) {
    absl::StatusOr<deepneat::DeepNeatConfig> c =
        deepneat::DeepNeatConfig::FromJson(*modules, "modules", out.modules);
    if (!c.ok()) return c.status();
    out.modules = *std::move(c);
  }
  if (blueprints != nullptr) {
    absl::StatusOr<codeepneat::BlueprintConfig> c =
        codeepneat::BlueprintConfig::FromJson(*blueprints, "blueprints", out.blueprints);
    if (!c.ok()) return c.status();
    out.blueprints = *std::move(c);
  }
  return out;
}

absl::Status CoDeepNeatStrategy::ValidateParams(const nlohmann::json& params) {
  return CoDeepNeatParams::FromJson(params).status();
}

absl::StatusOr<std::unique_ptr<SearchStrategy>> CoDeepNeatStrategy::Make(const nlohmann::json& params) {
  absl::StatusOr<CoDeepNeatParams> parsed = CoDeepNeatParams::FromJson(params);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<SearchStrategy>(new CoDeepNeatStrategy(*std::move(parsed)));
}

absl::Status CoDeepNeatStrategy::Run(SearchContext& ctx) {
  const SearchSettings& settings = ctx.settings();
  const Shape3 input{settings.input_channels, settings.input_height, settings.input_width};

  RunState state;
  std::optional<LayerPopulation> modules;
  std::optional<BlueprintPopulation> blueprints;
  absl::StatusOr<std::optional<StrategyCheckpoint>> saved = ctx.Restore();
  if (!saved.ok()) return saved.status();
  if (*saved) {
    if (absl::Status s = state.FromJson((*saved)->state); !s.ok()) return s;
    absl::StatusOr<LayerPopulation> m = RestorePopulation<LayerPopulation>(**saved, kModulesArtifact);
    if (!m.ok()) return m.status();
    absl::StatusOr<BlueprintPopulation> b = RestorePopulation<BlueprintPopulation>(**saved, kBlueprintsArtifact);
    if (!b.ok()) return b.status();
    modules = *std::move(m);
    blueprints = *std::move(b);
  } else {
    // Three streams from the job's seed: modules, blueprints, assembly.
    std::seed_seq seq{settings.seed, uint64_t{0xC0DEE9}};
    std::vector<uint64_t> seeds(3);
    seq.generate(seeds.begin(), seeds.end());
    modules = deepneat::FirstLayerPopulation(params_.modules, seeds[0]);
    modules->Speciate();
    BlueprintOps ops(params_.blueprints);
    ops.SetModuleSpecies(SpeciesIds(*modules));
    std::mt19937_64 rng(seeds[1]);
    std::vector<Blueprint> first = ops.FirstGeneration(rng);
    absl::StatusOr<BlueprintPopulation> b = BlueprintPopulation::Create(std::move(ops), std::move(first), rng());
    if (!b.ok()) return b.status();
    blueprints = *std::move(b);
    state.rng.seed(seeds[2]);
  }

  while (!ctx.ShouldStop()) {
    // The species of this module generation; blueprints pointing to one
    // that is gone point to another, by rule.
    modules->Speciate();
    blueprints->mutable_ops().SetModuleSpecies(SpeciesIds(*modules));
    std::map<int, std::vector<int>> members;
    for (const auto& s : modules->species()) members[s.id] = s.members;
    for (size_t i = 0; i < blueprints->genomes().size(); ++i)
      blueprints->ops().Repoint(&blueprints->mutable_genome(i), state.rng);

    struct Assembly {
      size_t blueprint;
      std::map<int, int> modules;  // species -> module index
    };
    std::vector<Assembly> assemblies;
    std::vector<deepneat::Network> networks;
    for (size_t i = 0; i < blueprints->genomes().size(); ++i) {
      const Blueprint& bp = blueprints->genomes()[i];
      for (int a = 0; a < params_.assemblies_per_blueprint; ++a) {
        Assembly as{i, {}};
        for (int species : codeepneat::SpeciesUsed(bp)) {
          const std::vector<int>& m = members.at(species);
          as.modules[species] = m[std::uniform_int_distribution<size_t>(0, m.size() - 1)(state.rng)];
        }
        networks.push_back({codeepneat::Assemble(bp, as.modules, modules->genomes(), input,
                                                 settings.num_classes),
                            bp.training.Apply(settings.training)});
        assemblies.push_back(std::move(as));
      }
    }
    absl::StatusOr<std::optional<deepneat::GenerationResult>> result =
        deepneat::EvaluateGeneration(ctx, networks, params_.max_mflops);
    if (!result.ok()) return result.status();
    if (!*result) break;  // stopped mid-generation: the last checkpoint stands

    // Fitness averaged back onto the blueprints and modules that made each network.
    std::vector<double> bp_sum(blueprints->genomes().size(), 0), mod_sum(modules->genomes().size(), 0);
    std::vector<int> bp_count(bp_sum.size(), 0), mod_count(mod_sum.size(), 0);
    for (size_t k = 0; k < assemblies.size(); ++k) {
      const double f = (*result)->fitness[k];
      bp_sum[assemblies[k].blueprint] += f;
      ++bp_count[assemblies[k].blueprint];
      for (auto [species, module] : assemblies[k].modules) {
        mod_sum[module] += f;
        ++mod_count[module];
      }
    }
    for (size_t i = 0; i < bp_sum.size(); ++i)
      blueprints->SetFitness(i, bp_count[i] > 0 ? bp_sum[i] / bp_count[i] : 0);
    for (const auto& s : modules->species()) {
      double used_sum = 0;
      int used = 0;
      for (int m : s.members)
        if (mod_count[m] > 0) used_sum += mod_sum[m] / mod_count[m], ++used;
      for (int m : s.members)
        modules->SetFitness(m, mod_count[m] > 0 ? mod_sum[m] / mod_count[m] : (used > 0 ? used_sum / used : 0));
    }
    state.trials += static_cast<int>(networks.size());
    state.best = std::max(state.best, (*result)->best);

    const int generation = blueprints->generation();
    modules->Epoch();
    blueprints->mutable_ops().SetModuleSpecies(SpeciesIds(*modules));
    blueprints->Epoch();
    StrategyCheckpoint checkpoint{state.ToJson(),
                                  {{kModulesArtifact, modules->ToJson().dump()},
                                   {kBlueprintsArtifact, blueprints->ToJson().dump()}}};
    if (absl::Status s = ctx.Checkpoint(checkpoint); !s.ok()) return s;
    ctx.Progress({state.trials,
                  absl::StrFormat("codeepneat: generation %d: %d module species, %d blueprint "
                                  "species, best fitness %.4f (this generation %.4f); %d networks, "
                                  "%d trained, %d over %.0f M multiply-adds",
                                  generation, static_cast<int>(modules->species().size()),
                                  static_cast<int>(blueprints->species().size()), state.best,
                                  (*result)->best, static_cast<int>(networks.size()),
                                  (*result)->trained, (*result)->over_budget, params_.max_mflops)});
  }
  return absl::OkStatus();
}

}  // namespace edgenas
