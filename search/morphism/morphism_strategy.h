// Network morphism with Bayesian optimisation (Auto-Keras: Jin, Song and
// Hu, KDD 2019), job strategy "morphism". A few small architectures of the
// mobile space are trained from scratch; then, round after round, a
// Gaussian process over architectures (gaussian_process.h, Auto-Keras's
// edit-distance kernel) is fitted to the rewards so far, simulated
// annealing over trees of function-preserving morphs of the trained models
// (morph_tree.h) finds the child with the highest upper confidence bound,
// and the child is trained from its parent's weights, morphed, for
// child_epochs epochs. Every trained child is stored like any other model
// and becomes a parent in turn. What the GP learns is the job's objective.
//
// Parameters (each optional):
//   {"initial_models": 3, "child_epochs": 1, "beta": 2.576, "batch": 1,
//    "max_mflops": 30, "deepen_batch_norm": true, "widen_noise": 0.01,
//    "annealing": {"initial_temperature": 1, "min_temperature": 1e-4,
//                  "cooling": 0.9, "neighbours": 8},
//    "space": {MobileSpace of the initial models; default max_blocks 3,
//              max_mflops 5}}
// A batch above 1 picks the next child after pretending the previous one
// scored the GP's mean for it (the "constant liar"), so that several
// trainers work at once on different children.
#ifndef EDGENAS_SEARCH_MORPHISM_MORPHISM_STRATEGY_H_
#define EDGENAS_SEARCH_MORPHISM_MORPHISM_STRATEGY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/search_strategy.h"
#include "search/morphism/morph_tree.h"
#include "search/space/mobile_space.h"

namespace edgenas {

struct MorphismParams {
  int initial_models = 3;
  int child_epochs = 1;
  double beta = 2.576;  // Auto-Keras's UCB coefficient
  int batch = 1;
  double max_mflops = 30;
  morphism::MorphSettings morph;
  morphism::AnnealingSettings annealing;
  MobileSpace space;
  nlohmann::json space_json = nlohmann::json::object();

  MorphismParams() {
    space.max_blocks = 3;
    space.max_mflops = 5;
  }
  static absl::StatusOr<MorphismParams> FromJson(const nlohmann::json& params);
};

class MorphismStrategy : public SearchStrategy {
 public:
  explicit MorphismStrategy(MorphismParams params) : params_(std::move(params)) {}

  static absl::Status ValidateParams(const nlohmann::json& params);
  static absl::StatusOr<std::unique_ptr<SearchStrategy>> Make(const nlohmann::json& params);

  // Round after round until the context says stop, each checkpointed with a
  // progress event. A round cut short is chosen and evaluated again on
  // resume, from the cache.
  absl::Status Run(SearchContext& ctx) override;

 private:
  MorphismParams params_;
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_MORPHISM_MORPHISM_STRATEGY_H_
