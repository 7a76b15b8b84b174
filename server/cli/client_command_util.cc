#include "server/cli/client_command_util.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace cli_internal {

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) return absl::InternalError(absl::StrCat(tmp, ": cannot write"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return absl::InternalError(absl::StrCat(path, ": cannot rename ", tmp, " to it"));
  return absl::OkStatus();
}

}  // namespace cli_internal
}  // namespace edgenas
