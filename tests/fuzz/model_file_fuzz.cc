// libFuzzer target: model file bytes through ParseModel.
//
// A checksum stops almost every mutation at the header, so an input whose
// first byte is odd is taken as a body (a serialized edgenas.v1.Model) and
// given a correct header: the fuzzer then reaches the proto parser, graph
// validation and the weight checks. Nothing may crash, leak or trip a
// sanitizer, and a model that parses must write and read back.
//
// Not built by CMake. From the repository root, after the protos are generated:
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ibuild/proto/gen \
//     tests/fuzz/model_file_fuzz.cc runtime/model_file/{model_file,preprocessing_proto}.cc \
//     runtime/data/preprocessing.cc runtime/exec/params.cc \
//     runtime/graph/{analyze,blocks,graph,graph_hash,graph_json,graph_proto}.cc \
//     build/proto/libedgenas_proto.a $(pkg-config --cflags --libs absl_status absl_statusor \
//     absl_strings protobuf) -lz -lcrypto -o model_file_fuzz
//   ./model_file_fuzz -max_len=65536 corpus/
#include <google/protobuf/stubs/logging.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/graph/graph_json.h"
#include "runtime/model_file/model_file.h"

namespace {

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

std::string WithHeader(const std::string& body) {
  std::string out = "EDGENASM";
  auto put = [&](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(edgenas::kModelFormatVersion, 4);
  put(body.size(), 8);
  put(crc32(crc32(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(body.data()),
            static_cast<uInt>(body.size())),
      4);
  return out + body;
}

}  // namespace

// protobuf logs every string that is not UTF-8; mutated inputs are full of them.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgenas;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size > 0 && (data[0] & 1)) bytes = WithHeader(bytes.substr(1));
  absl::StatusOr<Model> model = ParseModel(bytes);
  if (!model.ok()) return 0;
  absl::StatusOr<std::string> again = SerializeModel(*model);
  Require(again.ok());
  absl::StatusOr<Model> reread = ParseModel(*again);
  Require(reread.ok());
  Require(GraphToJson(reread->graph) == GraphToJson(model->graph));
  Require(reread->params.tensors().size() == model->params.tensors().size());
  return 0;
}
