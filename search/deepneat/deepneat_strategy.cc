#include "search/deepneat/deepneat_strategy.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "search/api/json_params.h"
#include "search/deepneat/generation.h"
#include "search/deepneat/layer_ops.h"

namespace edgenas {
namespace {

constexpr char kPopulationArtifact[] = "population";

struct Progress {
  int trials = 0;
  double best = 0;

  nlohmann::json ToJson() const { return {{"trials", trials}, {"best_fitness", best}}; }
  absl::Status FromJson(const nlohmann::json& j) {
    JsonParams p(j, "checkpoint");
    if (absl::Status s = p.CheckObject(); !s.ok()) return s;
    if (absl::Status s = p.Int("trials", 0, std::numeric_limits<int>::max(), &trials); !s.ok()) return s;
    if (absl::Status s = p.Double("best_fitness", 0, 1e300, &best); !s.ok()) return s;
    return p.Finish();
  }
};

}  // namespace

absl::StatusOr<DeepNeatParams> DeepNeatParams::FromJson(const nlohmann::json& params) {
  DeepNeatParams out;
  JsonParams p(params, "");
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  const nlohmann::json* population = nullptr;
  if (absl::Status s = p.Object("population", &population); !s.ok()) return s;
  if (absl::Status s = p.Double("max_mflops", 0.01, 1e6, &out.max_mflops); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  if (population != nullptr) {
    absl::StatusOr<deepneat::DeepNeatConfig> config =
        deepneat::DeepNeatConfig::FromJson(*population, "population");
    if (!config.ok()) return config.status();
    out.population = *std::move(config);
  }
  return out;
}

absl::Status DeepNeatStrategy::ValidateParams(const nlohmann::json& params) {
  return DeepNeatParams::FromJson(params).status();
}

absl::StatusOr<std::unique_ptr<SearchStrategy>> DeepNeatStrategy::Make(const nlohmann::json& params) {
  absl::StatusOr<DeepNeatParams> parsed = DeepNeatParams::FromJson(params);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<SearchStrategy>(new DeepNeatStrategy(*std::move(parsed)));
}

absl::Status DeepNeatStrategy::Run(SearchContext& ctx) {
  using deepneat::LayerPopulation;
  const SearchSettings& settings = ctx.settings();
  const Shape3 input{settings.input_channels, settings.input_height, settings.input_width};

  Progress progress;
  absl::StatusOr<std::optional<StrategyCheckpoint>> saved = ctx.Restore();
  if (!saved.ok()) return saved.status();
  std::optional<LayerPopulation> pop;
  if (*saved) {
    if (absl::Status s = progress.FromJson((*saved)->state); !s.ok()) return s;
    auto it = (*saved)->artifacts.find(kPopulationArtifact);
    if (it == (*saved)->artifacts.end())
      return absl::DataLossError("neat: the checkpoint has no population artifact");
    nlohmann::json j = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    absl::StatusOr<LayerPopulation> restored = LayerPopulation::FromJson(j);
    if (!restored.ok())
      return absl::DataLossError(absl::StrCat("neat: checkpoint: ", restored.status().message()));
    pop = *std::move(restored);
  } else {
    pop = deepneat::FirstLayerPopulation(params_.population, settings.seed);
  }

  while (!ctx.ShouldStop()) {
    std::vector<deepneat::Network> networks;
    for (const deepneat::LayerGenome& g : pop->genomes())
      networks.push_back({deepneat::DecodeNetwork(g, input, settings.num_classes), std::nullopt});
    absl::StatusOr<std::optional<deepneat::GenerationResult>> result =
        deepneat::EvaluateGeneration(ctx, networks, params_.max_mflops);
    if (!result.ok()) return result.status();
    if (!*result) break;  // stopped mid-generation: the last checkpoint stands
    for (size_t i = 0; i < networks.size(); ++i) pop->SetFitness(i, (*result)->fitness[i]);
    progress.trials += static_cast<int>(networks.size());
    progress.best = std::max(progress.best, (*result)->best);
    const int evaluated_generation = pop->generation();
    pop->Epoch();
    StrategyCheckpoint checkpoint{progress.ToJson(), {{kPopulationArtifact, pop->ToJson().dump()}}};
    if (absl::Status s = ctx.Checkpoint(checkpoint); !s.ok()) return s;
    ctx.Progress({progress.trials,
                  absl::StrFormat("neat: generation %d: %d species, best fitness %.4f (this "
                                  "generation %.4f); %d trained, %d over %.0f M multiply-adds",
                                  evaluated_generation, static_cast<int>(pop->species().size()),
                                  progress.best, (*result)->best, (*result)->trained,
                                  (*result)->over_budget, params_.max_mflops)});
  }
  return absl::OkStatus();
}

}  // namespace edgenas
