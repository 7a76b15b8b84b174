// Internal to server/cli: what the commands that run the engine on this
// machine (train, bench, info, eval, predict) share.
#ifndef EDGENAS_SERVER_CLI_LOCAL_COMMAND_UTIL_H_
#define EDGENAS_SERVER_CLI_LOCAL_COMMAND_UTIL_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "runtime/data/preprocessing.h"
#include "runtime/util/flags.h"

namespace edgenas {
namespace cli_internal {

// Exit code 1: the command ran and failed.
inline int FailLocal(const absl::Status& s) {
  std::fprintf(stderr, "edgenas: %s\n", std::string(s.message()).c_str());
  return 1;
}

// Exit code 2: the command line is wrong; the command's help follows.
inline int UsageLocal(const Flags& flags, const absl::Status& s) {
  std::fprintf(stderr, "edgenas: %s\n\n%s", std::string(s.message()).c_str(), flags.Help().c_str());
  return 2;
}

// A model's preprocessing as info and eval print it with --json.
inline nlohmann::json PreprocessingJson(const Preprocessing& p) {
  return {{"color", ColorFormatName(p.color)}, {"layout", "NCHW"},
          {"pixel_max", p.pixel_max},          {"mean", p.norm.mean},
          {"stddev", p.norm.stddev},           {"resize", ResizeMethodName(p.resize)},
          {"class_names", p.class_names}};
}

}  // namespace cli_internal
}  // namespace edgenas

#endif  // EDGENAS_SERVER_CLI_LOCAL_COMMAND_UTIL_H_
