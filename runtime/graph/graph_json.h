// The JSON architecture format: what people write by hand.
//
//   {"input": [1, 28, 28], "num_classes": 10, "nodes": [
//      {"name": "c1", "op": "conv", "out_channels": 32, "kernel": 3, "padding": 1},
//      {"name": "r1", "op": "relu"}, ...]}
//
// A node without "inputs" reads the node before it (the first reads "input").
// Composite blocks ("op": "mbconv", "fire", ...) expand into plain nodes named
// "<name>/<part>". Unknown keys and wrong types are errors naming the field.
#ifndef EDGENAS_RUNTIME_GRAPH_GRAPH_JSON_H_
#define EDGENAS_RUNTIME_GRAPH_GRAPH_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/graph.h"

namespace edgenas {

absl::StatusOr<Graph> GraphFromJson(std::string_view text);
absl::StatusOr<Graph> GraphFromJsonValue(const nlohmann::json& value);

// Every attribute the op reads is written, so the text round-trips exactly.
nlohmann::json GraphToJsonValue(const Graph& graph);
std::string GraphToJson(const Graph& graph, int indent = 2);

// Reads a file of at most `max_bytes`.
absl::StatusOr<Graph> ReadGraphJsonFile(const std::string& path, size_t max_bytes = 16 << 20);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_GRAPH_GRAPH_JSON_H_
