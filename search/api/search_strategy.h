// One SearchStrategy per algorithm, made by name from a registry; the
// caller never names the concrete class.
#ifndef EDGENAS_SEARCH_API_SEARCH_STRATEGY_H_
#define EDGENAS_SEARCH_API_SEARCH_STRATEGY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "search/api/search_context.h"

namespace edgenas {

class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;
  // Runs until the search is done or ctx.ShouldStop(). Resumes from
  // ctx.Restore() when a checkpoint exists.
  virtual absl::Status Run(SearchContext& ctx) = 0;
};

// Checks a strategy's parameters without running it: an error names the field.
absl::Status ValidateStrategyParams(const std::string& name, const nlohmann::json& params);

// nullptr-free: an unknown name is an error listing the known ones.
absl::StatusOr<std::unique_ptr<SearchStrategy>> MakeStrategy(const std::string& name,
                                                             const nlohmann::json& params);

std::vector<std::string> StrategyNames();

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_API_SEARCH_STRATEGY_H_
