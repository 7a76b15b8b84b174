#include "runtime/model_file/model_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "edgenas/v1/graph.pb.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/model_file/preprocessing_proto.h"

namespace edgenas {
namespace {

constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'N', 'A', 'S', 'M'};
constexpr size_t kHeaderSize = 8 + 4 + 8 + 4;
// protobuf parses at most INT_MAX bytes; 2 GiB itself would wrap to a
// negative size in ParseFromArray's int argument.
constexpr uint64_t kMaxBody = std::numeric_limits<int>::max();

void PutU32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLE(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

uint32_t Crc32(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1 << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("model file: ", what));
}

}  // namespace

// The tensors must be exactly the graph's parameters, as ParseModel will
// demand: a file written from a store with a stale or missing tensor could
// never be read back, and nobody would learn it until then.
absl::Status CheckModelWeights(const Graph& graph, const ParamStore& params) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  std::set<std::string> wanted;
  for (int v = 0; v < static_cast<int>(graph.nodes.size()); ++v) {
    for (const ParamSpec& spec : ParamSpecs(graph, *info, v)) {
      wanted.insert(spec.key);
      const ParamTensor* t = params.Find(spec.key);
      if (t == nullptr)
        return absl::InvalidArgumentError(
            absl::StrCat("model: weight '", spec.key, "' is missing"));
      int64_t count = 1;
      for (int64_t d : spec.dims) count *= d;
      if (t->dims != spec.dims || t->size() != count)
        return absl::InvalidArgumentError(absl::StrCat(
            "model: weight '", spec.key, "' has dims [", absl::StrJoin(t->dims, ","), "] and ",
            t->size(), " values, the graph needs [", absl::StrJoin(spec.dims, ","), "]"));
    }
  }
  for (const auto& entry : params.tensors())
    if (!wanted.count(entry.first))
      return absl::InvalidArgumentError(
          absl::StrCat("model: weight '", entry.first, "' belongs to no node"));
  return absl::OkStatus();
}

namespace {

// Well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF): proto3 string fields that are not fail to parse, so metadata
// with other bytes would make a file that cannot be read back.
bool IsUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= static_cast<size_t>(extra)) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kLeast[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kLeast[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

absl::Status CheckMetadata(const ModelMetadata& metadata, const Graph& graph) {
  auto bad = [](const std::string& key) {
    return absl::InvalidArgumentError(
        absl::StrCat("model: metadata '", absl::CHexEscape(key), "': not valid UTF-8"));
  };
  for (const auto& entry : metadata.metrics)
    if (!IsUtf8(entry.first)) return bad(entry.first);
  for (const auto& [key, value] : metadata.provenance)
    if (!IsUtf8(key) || !IsUtf8(value)) return bad(key);
  if (!metadata.preprocessing) return absl::OkStatus();
  const Preprocessing& p = *metadata.preprocessing;
  for (size_t i = 0; i < p.class_names.size(); ++i)
    if (!IsUtf8(p.class_names[i])) return bad(absl::StrCat("preprocessing.class_names[", i, "]"));
  return CheckPreprocessing(p, graph.input, graph.num_classes);
}

}  // namespace

absl::StatusOr<std::string> SerializeModel(const Model& model) {
  if (absl::Status s = CheckModelWeights(model.graph, model.params); !s.ok()) return s;
  if (absl::Status s = CheckMetadata(model.metadata, model.graph); !s.ok()) return s;
  v1::Model proto;
  proto.set_format_version(kModelFormatVersion);
  GraphToProto(model.graph, proto.mutable_graph());
  for (const auto& [key, t] : model.params.tensors()) {
    v1::Tensor* pt = proto.add_weights();
    pt->set_name(key);
    for (int64_t d : t.dims) pt->add_dims(d);
    pt->set_data(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  }
  for (const auto& [k, v] : model.metadata.metrics) (*proto.mutable_metadata()->mutable_metrics())[k] = v;
  for (const auto& [k, v] : model.metadata.provenance)
    (*proto.mutable_metadata()->mutable_provenance())[k] = v;
  if (model.metadata.preprocessing)
    PreprocessingToProto(*model.metadata.preprocessing,
                         proto.mutable_metadata()->mutable_preprocessing());
  std::string body;
  if (!proto.SerializeToString(&body)) return absl::InternalError("model: cannot serialize");
  std::string out(kMagic, sizeof kMagic);
  PutU32(&out, kModelFormatVersion);
  PutU64(&out, body.size());
  PutU32(&out, Crc32(body.data(), body.size()));
  out += body;
  return out;
}

absl::StatusOr<Model> ParseModel(const std::string& bytes) {
  if (bytes.size() < kHeaderSize) return Corrupt("shorter than its header (truncated?)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return Corrupt("bad magic: not an edgenas model file");
  const uint32_t version = static_cast<uint32_t>(GetLE(bytes, 8, 4));
  if (version != kModelFormatVersion)
    return absl::FailedPreconditionError(absl::StrCat(
        "model file: format version ", version, " is not supported (this build reads ",
        kModelFormatVersion, ")"));
  const uint64_t length = GetLE(bytes, 12, 8);
  if (length > kMaxBody) return Corrupt("body length is absurd");
  if (bytes.size() - kHeaderSize != length)
    return Corrupt(absl::StrCat("body is ", bytes.size() - kHeaderSize, " bytes, header says ",
                                length, " (truncated?)"));
  const uint32_t crc = static_cast<uint32_t>(GetLE(bytes, 20, 4));
  if (Crc32(bytes.data() + kHeaderSize, length) != crc) return Corrupt("checksum mismatch");
  v1::Model proto;
  if (!proto.ParseFromArray(bytes.data() + kHeaderSize, static_cast<int>(length)))
    return Corrupt("body does not parse");

  Model model;
  absl::StatusOr<Graph> graph = GraphFromProto(proto.graph());
  if (!graph.ok()) return graph.status();
  model.graph = *std::move(graph);
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(model.graph);
  if (!info.ok()) return info.status();

  std::map<std::string, ParamSpec> wanted;
  for (int v = 0; v < static_cast<int>(model.graph.nodes.size()); ++v)
    for (ParamSpec& spec : ParamSpecs(model.graph, *info, v)) wanted.emplace(spec.key, spec);
  for (const v1::Tensor& pt : proto.weights()) {
    auto it = wanted.find(pt.name());
    if (it == wanted.end())
      return Corrupt(absl::StrCat("weight '", pt.name().substr(0, 200), "' belongs to no node"));
    const ParamSpec& spec = it->second;
    std::vector<int64_t> dims(pt.dims().begin(), pt.dims().end());
    if (dims != spec.dims)
      return Corrupt(absl::StrCat("weight '", spec.key, "' has dims [", absl::StrJoin(dims, ","),
                                  "], the graph needs [", absl::StrJoin(spec.dims, ","), "]"));
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    if (pt.data().size() != size_t(count) * sizeof(float))
      return Corrupt(absl::StrCat("weight '", spec.key, "' holds ", pt.data().size(),
                                  " bytes, needs ", count * sizeof(float)));
    ParamTensor t;
    t.dims = dims;
    t.trainable = spec.trainable;
    t.values.resize(count);
    std::memcpy(t.values.data(), pt.data().data(), pt.data().size());
    model.params.Set(spec.key, std::move(t));
    wanted.erase(it);
  }
  if (!wanted.empty()) return Corrupt(absl::StrCat("weight '", wanted.begin()->first, "' is missing"));
  for (const auto& [k, v] : proto.metadata().metrics()) model.metadata.metrics[k] = v;
  for (const auto& [k, v] : proto.metadata().provenance()) model.metadata.provenance[k] = v;
  if (proto.metadata().has_preprocessing()) {
    absl::StatusOr<Preprocessing> p = PreprocessingFromProto(proto.metadata().preprocessing());
    if (!p.ok()) return Corrupt(p.status().message());
    if (absl::Status s = CheckPreprocessing(*p, model.graph.input, model.graph.num_classes);
        !s.ok())
      return Corrupt(s.message());
    model.metadata.preprocessing = *std::move(p);
  }
  return model;
}

absl::Status WriteModelFile(const std::string& path, const Model& model) {
  absl::StatusOr<std::string> bytes = SerializeModel(model);
  if (!bytes.ok()) return bytes.status();
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("model file '", path, "': cannot create: ", std::strerror(errno)));
  size_t done = 0;
  while (done < bytes->size()) {
    ssize_t n = ::write(fd, bytes->data() + done, bytes->size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat("model file '", path, "': write: ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  // Both calls always run: a failed fsync must not leak the descriptor.
  const int sync_err = ::fsync(fd) != 0 ? errno : 0;
  const int close_err = ::close(fd) != 0 ? errno : 0;
  if (sync_err != 0 || close_err != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("model file '", path, "': sync: ",
                                            std::strerror(sync_err != 0 ? sync_err : close_err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("model file '", path, "': rename: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Model> ReadModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat("model file '", path, "': cannot open"));
  std::streamoff size = in.tellg();
  if (size < 0 || uint64_t(size) > kMaxBody + kHeaderSize)
    return absl::DataLossError(absl::StrCat("model file '", path, "': size is absurd"));
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size))
    return absl::DataLossError(absl::StrCat("model file '", path, "': read failed"));
  absl::StatusOr<Model> model = ParseModel(bytes);
  if (!model.ok())
    return absl::Status(model.status().code(), absl::StrCat(path, ": ", model.status().message()));
  return model;
}

}  // namespace edgenas
