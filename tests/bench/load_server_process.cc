#include "tests/bench/load_server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace bench {
namespace {

constexpr char kServingOn[] = "serving on 127.0.0.1:";

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Reads the child's output until it names its port, for up to 60 s.
absl::StatusOr<int> ReadPort(int fd, int log_fd) {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 250) <= 0) continue;
    char buf[512];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, n);
    if (write(log_fd, buf, n) < 0) {
      // The log is only for people; a failed copy does not stop the run.
    }
    const size_t at = text.find(kServingOn);
    if (at == std::string::npos) continue;
    const size_t start = at + std::strlen(kServingOn);
    const size_t end = text.find_first_not_of("0123456789", start);
    if (end == std::string::npos) continue;
    return std::atoi(text.substr(start, end - start).c_str());
  }
  return absl::UnavailableError(
      absl::StrCat("edgenasd did not say where it serves within 60 s; its output: ", text));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, const std::string& data_dir, const std::vector<std::string>& extra) {
  if (access(binary.c_str(), X_OK) != 0)
    return absl::NotFoundError(absl::StrCat("--edgenasd ", binary, ": not an executable file"));
  const std::string log_path = data_dir + "/edgenasd.log";
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Errno(log_path);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(log_fd);
    return Errno("pipe2");
  }
  // Everything the child needs is built before fork: between fork and exec
  // only async-signal-safe calls are allowed (gRPC threads may exist).
  std::vector<std::string> args = {binary, "--data-dir", data_dir, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->pid_ = pid;
  absl::StatusOr<int> port = ReadPort(out[0], log_fd);
  // Keep draining its output so it never blocks on a full pipe.
  server->drain_ = std::thread([fd = out[0], log_fd] {
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
      if (write(log_fd, buf, n) < 0) break;
    }
    close(fd);
    close(log_fd);
  });
  if (!port.ok()) return port.status();  // the destructor stops the child
  server->port_ = *port;
  return server;
}

ServerProcess::~ServerProcess() { Stop().IgnoreError(); }

absl::Status ServerProcess::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  int status = 0;
  const pid_t waited = waitpid(pid_, &status, 0);
  const pid_t pid = pid_;
  pid_ = -1;
  if (drain_.joinable()) drain_.join();  // the pipe closes with the child
  if (waited != pid) return Errno("waitpid");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("edgenasd ", WIFEXITED(status) ? "exited with status " : "died of signal ",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)));
}

absl::StatusOr<double> ServerProcess::CpuSeconds() const {
  std::ifstream in(absl::StrCat("/proc/", pid_, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: count fields after its ')'.
  const size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos)
    return absl::NotFoundError(absl::StrCat("/proc/", pid_, "/stat: unreadable"));
  std::istringstream fields(text.substr(close_paren + 2));
  std::string field;
  long long utime = 0, stime = 0;
  // Field 3 (state) is the first after ')'; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) stime = std::atoll(field.c_str());
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

absl::StatusOr<ProcessMemory> ServerProcess::Memory() const {
  std::ifstream in(absl::StrCat("/proc/", pid_, "/status"));
  if (!in) return absl::NotFoundError(absl::StrCat("/proc/", pid_, "/status: unreadable"));
  ProcessMemory m;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atoll(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) m.peak_rss_kb = std::atoll(line.c_str() + 6);
  }
  return m;
}

absl::StatusOr<std::string> ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty())
    return absl::NotFoundError(absl::StrCat(path, ": missing or empty"));
  return line;
}

absl::StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  std::string path = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(path.data()) == nullptr) return Errno("mkdtemp " + path);
  return path;
}

}  // namespace bench
}  // namespace edgenas
