// Parsing untrusted JSON with its size and nesting bounded before a tree is
// built. nlohmann's parser is iterative, but printing, comparing and our own
// walks of a tree recurse, so a tree that is too deep must never exist.
#ifndef EDGENAS_SERVER_SPEC_JOB_SPEC_BOUNDED_JSON_H_
#define EDGENAS_SERVER_SPEC_JOB_SPEC_BOUNDED_JSON_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace edgenas {
namespace job_spec_internal {

// Parses `text`, or returns InvalidArgument when it is longer than
// `max_bytes`, is not valid JSON (with line and column), or nests arrays and
// objects deeper than `max_depth`. Depth counts from the top of the whole
// document, in which `text` sits inside `root_depth` containers (0 for a
// whole spec, 2 for strategy.params), so one limit reads the same in every
// form. Messages start with the path where it went wrong: `root_path`
// followed by keys and indices ("strategy.params.layers[0]"), or "spec" when
// that is empty.
absl::StatusOr<nlohmann::json> ParseBoundedJson(const std::string& text,
                                                const std::string& root_path, size_t max_bytes,
                                                int max_depth, int root_depth = 0);

// How many containers enclose strategy.params in the human form.
inline constexpr int kStrategyParamsDepth = 2;

// A spec's params_json (empty meaning {}) as a JSON object, held to the
// limits the human form has (kMaxStrategyParamsBytes, kMaxJobSpecJsonDepth
// counted from the top of the spec), so a spec accepted over gRPC can be
// shown as JSON and submitted again. Errors name "strategy.params...".
absl::StatusOr<nlohmann::json> ParseStrategyParams(const std::string& params_json);

// `value` as compact JSON cut to about 40 characters, for messages that
// quote what the user sent without echoing a megabyte back.
std::string ShownJson(const nlohmann::json& value);

}  // namespace job_spec_internal
}  // namespace edgenas

#endif  // EDGENAS_SERVER_SPEC_JOB_SPEC_BOUNDED_JSON_H_
