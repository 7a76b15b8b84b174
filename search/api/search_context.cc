#include "search/api/search_context.h"

#include <chrono>
#include <exception>

namespace edgenas {
namespace {

// Short enough that a cancelled job stops within a fraction of a second,
// long enough that waiting costs nothing measurable.
constexpr std::chrono::milliseconds kPollSlice(100);

}  // namespace

std::vector<TrialResult> WaitAll(SearchContext& ctx,
                                 const std::vector<std::shared_future<TrialResult>>& futures) {
  std::vector<std::optional<TrialResult>> arrived(futures.size());
  // An index is settled once its result arrived or it can never arrive (an
  // empty future, or one whose promise was broken by a stopping context).
  std::vector<bool> settled(futures.size(), false);
  size_t open = futures.size();
  const auto settle = [&](size_t i) {
    settled[i] = true;
    --open;
    try {
      arrived[i] = futures[i].get();
    } catch (const std::exception&) {
      // Left out: the caller sees the result did not arrive.
    }
  };
  for (;;) {
    for (size_t i = 0; i < futures.size(); ++i) {
      if (settled[i]) continue;
      if (!futures[i].valid()) {
        settled[i] = true;
        --open;
      } else if (futures[i].wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
        settle(i);
      }
    }
    if (open == 0 || ctx.ShouldStop()) break;
    for (size_t i = 0; i < futures.size(); ++i) {
      if (!settled[i]) {
        futures[i].wait_for(kPollSlice);
        break;
      }
    }
  }
  std::vector<TrialResult> results;
  for (std::optional<TrialResult>& r : arrived) {
    if (r) results.push_back(std::move(*r));
  }
  return results;
}

}  // namespace edgenas
