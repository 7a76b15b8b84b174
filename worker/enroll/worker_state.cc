#include "worker/enroll/worker_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace edgenas {

absl::StatusOr<std::optional<WorkerState>> LoadWorkerState(const std::string& dir) {
  const std::string path = dir + "/worker.json";
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::optional<WorkerState>();
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": readable by others (mode ", st.st_mode & 0777, "); chmod 600 it"));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return absl::DataLossError(absl::StrCat(path, ": not a JSON object"));
  WorkerState s;
  for (auto [key, out] : {std::pair{"coordinator", &s.coordinator}, {"worker_id", &s.worker_id},
                          {"credential", &s.credential}, {"device_class", &s.device_class}}) {
    if (!j.contains(key) || !j[key].is_string())
      return absl::DataLossError(absl::StrCat(path, ": ", key, ": missing"));
    *out = j[key].get<std::string>();
  }
  const std::string role = j.value("role", "latency");
  s.role = role == "trainer" ? v1::WORKER_ROLE_TRAINER : v1::WORKER_ROLE_LATENCY;
  return std::optional<WorkerState>(s);
}

absl::Status SaveWorkerState(const std::string& dir, const WorkerState& s) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return absl::FailedPreconditionError(absl::StrCat(dir, ": ", std::strerror(errno)));
  nlohmann::json j = {{"coordinator", s.coordinator}, {"worker_id", s.worker_id},
                      {"credential", s.credential}, {"device_class", s.device_class},
                      {"role", s.role == v1::WORKER_ROLE_TRAINER ? "trainer" : "latency"}};
  const std::string text = j.dump(2) + "\n";
  const std::string path = dir + "/worker.json", tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat(tmp, ": ", std::strerror(errno)));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat(path, ": cannot write"));
  }
  return absl::OkStatus();
}

}  // namespace edgenas
