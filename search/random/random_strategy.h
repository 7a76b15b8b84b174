// Random search over MobileSpace: the baseline every other strategy must
// beat on the same space and budget.
//
// Parameters: {"batch": 4, "space": {MobileSpace options}}. The space's
// input shape and class count come from the job's settings.
#ifndef EDGENAS_SEARCH_RANDOM_RANDOM_STRATEGY_H_
#define EDGENAS_SEARCH_RANDOM_RANDOM_STRATEGY_H_

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/search_strategy.h"
#include "search/space/mobile_space.h"

namespace edgenas {

struct RandomSearchParams {
  int batch = 4;  // candidates evaluated together, 1..64
  MobileSpace space;
  // The "space" object as given, to tell which options the job left to
  // its settings.
  nlohmann::json space_json = nlohmann::json::object();

  // Unknown keys and bad values are errors naming the field ("batch",
  // "space.widths[1]").
  static absl::StatusOr<RandomSearchParams> FromJson(const nlohmann::json& params);
};

class RandomStrategy : public SearchStrategy {
 public:
  explicit RandomStrategy(RandomSearchParams params) : params_(std::move(params)) {}

  static absl::Status ValidateParams(const nlohmann::json& params);
  static absl::StatusOr<std::unique_ptr<SearchStrategy>> Make(const nlohmann::json& params);

  // Draws `batch` architectures not yet drawn in this job (by canonical
  // hash), evaluates them together, checkpoints {generator state, count,
  // hashes drawn}, and repeats until max_trials are submitted or the
  // context says stop. The generator is seeded from settings.seed, so a
  // seed fixes the sequence of graphs, and a run resumed from a checkpoint
  // continues it exactly: a batch cut short by a stop is not checkpointed
  // and is drawn again on resume.
  absl::Status Run(SearchContext& ctx) override;

 private:
  RandomSearchParams params_;
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_RANDOM_RANDOM_STRATEGY_H_
