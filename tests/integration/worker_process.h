// Runs edgenas-worker as a child process for tests; its stderr and stdout
// go to a log file the test can search.
#ifndef EDGENAS_TESTS_INTEGRATION_WORKER_PROCESS_H_
#define EDGENAS_TESTS_INTEGRATION_WORKER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace edgenas {
namespace testing {

class WorkerProcess {
 public:
  // Starts the worker for `address` with its state in `state_dir`; with a
  // `token`, it enrolls as `device_class` first.
  WorkerProcess(const std::string& address, const std::string& state_dir, const std::string& token,
                const std::string& device_class, const std::string& log,
                const std::vector<std::string>& extra = {});
  ~WorkerProcess() { Signal(SIGTERM_VALUE); }
  // Sends `sig` and reaps the process.
  void Signal(int sig);
  // Waits for the process to end by itself; returns its exit code.
  int Wait();
  // Lines of its log that contain `needle`.
  int Count(const std::string& needle) const;

 private:
  static constexpr int SIGTERM_VALUE = 15;
  std::string log_;
  pid_t pid_ = -1;
};

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_TESTS_INTEGRATION_WORKER_PROCESS_H_
