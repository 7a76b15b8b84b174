// CoDeepNEAT (Miikkulainen et al. 2017), job strategy "codeepneat": a
// population of modules (small DeepNEAT graphs of layers) and one of
// blueprints (graphs whose nodes point to module species, with the
// network's global hyperparameters), each speciated and evolved under
// NEAT's scheme. Each generation every blueprint is assembled
// assemblies_per_blueprint times (assembly.h), the networks are trained
// through ctx.Evaluate with the blueprint's hyperparameters, and each
// network's fitness (its reward under the job's objective) is averaged
// back onto the blueprint and the modules that made it. A module no
// network used takes its species' mean (0 when no member was used).
//
// Parameters: {"modules": {DeepNeatConfig}, "blueprints": {BlueprintConfig},
// "assemblies_per_blueprint": 1, "max_mflops": 30}. A network above
// max_mflops multiply-adds is not trained; its fitness is 0.
#ifndef EDGENAS_SEARCH_CODEEPNEAT_CODEEPNEAT_STRATEGY_H_
#define EDGENAS_SEARCH_CODEEPNEAT_CODEEPNEAT_STRATEGY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/search_strategy.h"
#include "search/codeepneat/blueprint.h"
#include "search/deepneat/deepneat_config.h"

namespace edgenas {

struct CoDeepNeatParams {
  deepneat::DeepNeatConfig modules;
  codeepneat::BlueprintConfig blueprints;
  int assemblies_per_blueprint = 1;
  double max_mflops = 30;

  // Networks of a first generation hold two modules of two layers each:
  // about as deep as the mobile space's smallest, so a short search does
  // not spend its first generations growing to where random search starts.
  CoDeepNeatParams() {
    modules.population_size = 12;
    modules.initial_layers = 2;
    blueprints.initial_nodes = 2;
  }
  static absl::StatusOr<CoDeepNeatParams> FromJson(const nlohmann::json& params);
};

class CoDeepNeatStrategy : public SearchStrategy {
 public:
  explicit CoDeepNeatStrategy(CoDeepNeatParams params) : params_(std::move(params)) {}

  static absl::Status ValidateParams(const nlohmann::json& params);
  static absl::StatusOr<std::unique_ptr<SearchStrategy>> Make(const nlohmann::json& params);

  // Generation after generation until the context says stop, each
  // checkpointed (both populations as artifacts) with a progress event. A
  // generation cut short is evaluated again on resume, from the cache.
  absl::Status Run(SearchContext& ctx) override;

 private:
  CoDeepNeatParams params_;
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_CODEEPNEAT_CODEEPNEAT_STRATEGY_H_
