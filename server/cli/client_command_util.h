// Internal to server/cli: what the client commands share: exit codes for
// errors, common flags, JSON output, names of job states.
#ifndef EDGENAS_SERVER_CLI_CLIENT_COMMAND_UTIL_H_
#define EDGENAS_SERVER_CLI_CLIENT_COMMAND_UTIL_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "runtime/util/flags.h"
#include "server/cli/client.h"

namespace edgenas {
namespace cli_internal {

inline int Fail(const absl::Status& s) {
  std::fprintf(stderr, "edgenas: %s\n", std::string(s.message()).c_str());
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

inline int Usage(const Flags& f, const std::string& why) {
  std::fprintf(stderr, "edgenas: %s\n\n%s", why.c_str(), f.Help().c_str());
  return 2;
}

inline nlohmann::json ToJson(const google::protobuf::Message& m) {
  std::string text;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &text, o);
  return nlohmann::json::parse(text, nullptr, false);
}

inline const char* StateName(v1::JobState s) {
  switch (s) {
    case v1::JOB_PENDING: return "pending";
    case v1::JOB_RUNNING: return "running";
    case v1::JOB_SUCCEEDED: return "succeeded";
    case v1::JOB_FAILED: return "failed";
    case v1::JOB_CANCELLED: return "cancelled";
    default: return "unknown";
  }
}

// Parses the common flags plus the command's own; one positional at most.
struct Cmd {
  Flags flags;
  ClientOptions client;
  bool as_json = false;
  Cmd(const char* usage, const char* about) : flags(usage, about) {
    client.AddFlags(flags);
    flags.Bool("json", &as_json, "print one JSON document on stdout");
  }
  // 0 to go on; otherwise the exit code.
  int Parse(int argc, char** argv, int start, size_t positionals) {
    if (absl::Status s = flags.Parse(argc, argv, start); !s.ok()) return Usage(flags, std::string(s.message()));
    if (flags.help_requested()) {
      std::printf("%s", flags.Help().c_str());
      return -1;
    }
    if (flags.positional().size() != positionals)
      return Usage(flags, positionals == 1 ? "expected one argument" : "unexpected argument");
    return 0;
  }
  std::string arg() const { return flags.positional().empty() ? "" : flags.positional()[0]; }
};

// Every chunk of a server stream of file pieces (a model, a checkpoint).
template <typename Reader>
absl::StatusOr<std::string> ReadChunks(Reader& reader) {
  std::string bytes;
  v1::ModelChunk chunk;
  while (reader.Read(&chunk)) bytes += chunk.data();
  if (absl::Status s = FromGrpc(reader.Finish()); !s.ok()) return s;
  return bytes;
}

// Writes `bytes` to `path` through a temporary file and a rename.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes);

#define PARSE_OR_RETURN(cmd, argc, argv, start, n)             \
  do {                                                         \
    int _rc = (cmd).Parse(argc, argv, start, n);               \
    if (_rc != 0) return _rc < 0 ? 0 : _rc;                    \
  } while (0)

#define CONNECT_OR_RETURN(var, cmd)                                   \
  absl::StatusOr<std::unique_ptr<Client>> var = Client::Connect((cmd).client); \
  if (!var.ok()) return Fail(var.status())

}  // namespace cli_internal
}  // namespace edgenas

#endif  // EDGENAS_SERVER_CLI_CLIENT_COMMAND_UTIL_H_
