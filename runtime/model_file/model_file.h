// Model files: the graph, its named weight tensors and metadata, versioned
// and checksummed. A corrupt or truncated file is refused with an error.
//
// Layout: "EDGENASM" | u32 format version | u64 body length | u32 CRC-32 of
// the body | body = serialized edgenas.v1.Model (little-endian integers).
#ifndef EDGENAS_RUNTIME_MODEL_FILE_MODEL_FILE_H_
#define EDGENAS_RUNTIME_MODEL_FILE_MODEL_FILE_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/data/preprocessing.h"
#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"

namespace edgenas {

inline constexpr uint32_t kModelFormatVersion = 1;

struct ModelMetadata {
  std::map<std::string, double> metrics;          // val_accuracy, test_accuracy, ...
  std::map<std::string, std::string> provenance;  // dataset, preset, job, created_at, ...
  // How images become the graph's input; absent in files written before
  // model files carried it.
  std::optional<Preprocessing> preprocessing;
};

// What a reader says of a model without preprocessing.
inline constexpr char kUnknownPreprocessing[] =
    "the file carries no preprocessing (it was written before model files did): its input "
    "normalization is unknown";

struct Model {
  Graph graph;
  ParamStore params;
  ModelMetadata metadata;
};

// OK when `params` are exactly `graph`'s parameters, by name and dims;
// otherwise InvalidArgument naming the first weight that is missing, has
// other dims, or belongs to no node.
absl::Status CheckModelWeights(const Graph& graph, const ParamStore& params);

// Refuses (INVALID_ARGUMENT) a model ParseModel would refuse: an invalid
// graph, weights that are not exactly the graph's parameters, metadata
// strings that are not UTF-8, or preprocessing that does not fit the graph
// (CheckPreprocessing).
absl::StatusOr<std::string> SerializeModel(const Model& model);
// Validates everything: header, checksum, graph (AnalyzeGraph), that the
// weights are exactly the graph's parameters with the right dims, and the
// preprocessing when there is one.
absl::StatusOr<Model> ParseModel(const std::string& bytes);

// Written to a temporary file, synced, then renamed over `path`: a crash
// leaves the old file or the new one, never half of one.
absl::Status WriteModelFile(const std::string& path, const Model& model);
absl::StatusOr<Model> ReadModelFile(const std::string& path);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MODEL_FILE_MODEL_FILE_H_
