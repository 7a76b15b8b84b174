// The "fixed" strategy: evaluates architectures the user names — presets or
// hand-written JSON architectures — instead of searching. It puts known
// models on a device's Pareto front ("how fast is cnn-bn on the Pi?") and
// gives the other strategies a baseline to beat.
//
// Params: {"presets": ["cnn-bn", ...], "architectures": [{JSON architecture}, ...]}
#ifndef EDGENAS_SEARCH_FIXED_FIXED_STRATEGY_H_
#define EDGENAS_SEARCH_FIXED_FIXED_STRATEGY_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/search_strategy.h"

namespace edgenas {

class FixedStrategy : public SearchStrategy {
 public:
  static absl::Status ValidateParams(const nlohmann::json& params);
  static absl::StatusOr<std::unique_ptr<SearchStrategy>> Make(const nlohmann::json& params);

  // Evaluates every graph once (results already known are served from the
  // cache), then stops. The graphs must match the job's input and classes.
  absl::Status Run(SearchContext& ctx) override;

 private:
  explicit FixedStrategy(std::vector<Graph> graphs) : graphs_(std::move(graphs)) {}
  static absl::StatusOr<std::vector<Graph>> Parse(const nlohmann::json& params);

  std::vector<Graph> graphs_;
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_FIXED_FIXED_STRATEGY_H_
