// The registry of strategies: an explicit table rather than static
// self-registration, which a static library silently drops when nothing
// references the registering object file.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "search/api/search_strategy.h"
#include "search/codeepneat/codeepneat_strategy.h"
#include "search/deepneat/deepneat_strategy.h"
#include "search/fixed/fixed_strategy.h"
#include "search/morphism/morphism_strategy.h"
#include "search/random/random_strategy.h"

namespace edgenas {
namespace {

struct StrategyEntry {
  const char* name;
  absl::Status (*validate)(const nlohmann::json& params);
  absl::StatusOr<std::unique_ptr<SearchStrategy>> (*make)(const nlohmann::json& params);
};

constexpr StrategyEntry kStrategies[] = {
    {"random", &RandomStrategy::ValidateParams, &RandomStrategy::Make},
    {"fixed", &FixedStrategy::ValidateParams, &FixedStrategy::Make},
    {"neat", &DeepNeatStrategy::ValidateParams, &DeepNeatStrategy::Make},
    {"codeepneat", &CoDeepNeatStrategy::ValidateParams, &CoDeepNeatStrategy::Make},
    {"morphism", &MorphismStrategy::ValidateParams, &MorphismStrategy::Make},
};

absl::StatusOr<const StrategyEntry*> Find(const std::string& name) {
  for (const StrategyEntry& e : kStrategies) {
    if (name == e.name) return &e;
  }
  std::string known;
  for (const StrategyEntry& e : kStrategies) {
    absl::StrAppend(&known, known.empty() ? "" : ", ", e.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown strategy '", name, "' (known: ", known, ")"));
}

}  // namespace

absl::Status ValidateStrategyParams(const std::string& name, const nlohmann::json& params) {
  absl::StatusOr<const StrategyEntry*> entry = Find(name);
  if (!entry.ok()) return entry.status();
  return (*entry)->validate(params);
}

absl::StatusOr<std::unique_ptr<SearchStrategy>> MakeStrategy(const std::string& name,
                                                             const nlohmann::json& params) {
  absl::StatusOr<const StrategyEntry*> entry = Find(name);
  if (!entry.ok()) return entry.status();
  return (*entry)->make(params);
}

std::vector<std::string> StrategyNames() {
  std::vector<std::string> names;
  for (const StrategyEntry& e : kStrategies) names.push_back(e.name);
  return names;
}

}  // namespace edgenas
