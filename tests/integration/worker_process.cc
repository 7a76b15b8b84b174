#include "tests/integration/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

namespace edgenas {
namespace testing {

WorkerProcess::WorkerProcess(const std::string& address, const std::string& state_dir,
                             const std::string& token, const std::string& device_class,
                             const std::string& log, const std::vector<std::string>& extra)
    : log_(log) {
  static_assert(SIGTERM_VALUE == SIGTERM);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
    std::vector<std::string> args = {EDGENAS_WORKER_PATH, "--coordinator", address, "--state-dir",
                                     state_dir,           "--wait-ms",     "500"};
    if (!token.empty()) args.insert(args.end(), {"--enroll-token", token, "--device-class", device_class});
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

void WorkerProcess::Signal(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int WorkerProcess::Wait() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int WorkerProcess::Count(const std::string& needle) const {
  std::ifstream in(log_);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace testing
}  // namespace edgenas
