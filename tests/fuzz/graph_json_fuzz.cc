// libFuzzer target: architecture JSON through GraphFromJson and AnalyzeGraph.
//
// Nothing may crash, leak or trip a sanitizer, whatever the bytes. A graph
// that passes analysis must also survive both serialisations (JSON text and
// the v1 proto) with its canonical hash unchanged.
//
// Not built by CMake. From the repository root, after the protos are generated:
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ibuild/proto/gen \
//     tests/fuzz/graph_json_fuzz.cc
//     runtime/graph/{analyze,blocks,graph,graph_hash,graph_json,graph_proto}.cc \
//     build/proto/libedgenas_proto.a $(pkg-config --cflags --libs absl_status absl_statusor \
//     absl_strings protobuf) -lcrypto -o graph_json_fuzz
//   ./graph_json_fuzz -max_len=4096 corpus/
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "edgenas/v1/graph.pb.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_json.h"
#include "runtime/graph/graph_proto.h"

namespace {

// A broken invariant must stop the fuzzer with the input that broke it.
void Require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgenas;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Graph> graph = GraphFromJson(text);
  if (!graph.ok()) {
    Require(graph.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  // Rendering a graph that analysis would refuse must be safe too.
  (void)GraphToJson(*graph);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(*graph);
  if (!info.ok()) {
    Require(info.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string hash = CanonicalHash(*graph, *info);

  absl::StatusOr<Graph> from_json = GraphFromJson(GraphToJson(*graph));
  Require(from_json.ok());
  absl::StatusOr<std::string> json_hash = CanonicalHash(*from_json);
  Require(json_hash.ok() && *json_hash == hash);

  v1::Graph proto;
  GraphToProto(*graph, &proto);
  v1::Graph wire;
  Require(wire.ParseFromString(proto.SerializeAsString()));
  absl::StatusOr<Graph> from_proto = GraphFromProto(wire);
  Require(from_proto.ok());
  absl::StatusOr<std::string> proto_hash = CanonicalHash(*from_proto);
  Require(proto_hash.ok() && *proto_hash == hash);
  return 0;
}
