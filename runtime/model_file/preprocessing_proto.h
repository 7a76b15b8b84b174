// Conversion between Preprocessing and its wire form (edgenas.v1.Preprocessing).
#ifndef EDGENAS_RUNTIME_MODEL_FILE_PREPROCESSING_PROTO_H_
#define EDGENAS_RUNTIME_MODEL_FILE_PREPROCESSING_PROTO_H_

#include "absl/status/statusor.h"
#include "edgenas/v1/graph.pb.h"
#include "runtime/data/preprocessing.h"

namespace edgenas {

// The layout is always NCHW: the engine has no other.
void PreprocessingToProto(const Preprocessing& p, v1::Preprocessing* out);
// Refuses (InvalidArgument, naming the field) an unspecified or unknown
// colour format, layout or resize method; CheckPreprocessing judges the rest
// against the graph.
absl::StatusOr<Preprocessing> PreprocessingFromProto(const v1::Preprocessing& proto);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MODEL_FILE_PREPROCESSING_PROTO_H_
