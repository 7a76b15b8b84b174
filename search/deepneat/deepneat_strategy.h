// DeepNEAT (Miikkulainen et al. 2017, section 3.1), job strategy "neat":
// NEAT over graphs of layers. A genome's node genes are layers with their
// hyperparameters (layer_gene.h), its connection genes the edges of a DAG;
// every genome decodes to a valid graph by rule (layer_dag.h). Each
// generation's networks are trained by the runtime through ctx.Evaluate;
// a network's fitness is its reward under the job's objective (the MnasNet
// reward, with measured or predicted latency).
//
// Parameters: {"population": {DeepNeatConfig}, "max_mflops": 30}. A
// network above max_mflops multiply-adds is not trained; its fitness is 0.
#ifndef EDGENAS_SEARCH_DEEPNEAT_DEEPNEAT_STRATEGY_H_
#define EDGENAS_SEARCH_DEEPNEAT_DEEPNEAT_STRATEGY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/search_strategy.h"
#include "search/deepneat/deepneat_config.h"

namespace edgenas {

struct DeepNeatParams {
  deepneat::DeepNeatConfig population;
  double max_mflops = 30;

  static absl::StatusOr<DeepNeatParams> FromJson(const nlohmann::json& params);
};

class DeepNeatStrategy : public SearchStrategy {
 public:
  explicit DeepNeatStrategy(DeepNeatParams params) : params_(std::move(params)) {}

  static absl::Status ValidateParams(const nlohmann::json& params);
  static absl::StatusOr<std::unique_ptr<SearchStrategy>> Make(const nlohmann::json& params);

  // Evaluates a generation, sets fitness, makes the next generation and
  // checkpoints the population (an artifact) with a progress event, until
  // the context says stop. A generation cut short by a stop is evaluated
  // again on resume, served from the cache.
  absl::Status Run(SearchContext& ctx) override;

 private:
  DeepNeatParams params_;
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_DEEPNEAT_DEEPNEAT_STRATEGY_H_
