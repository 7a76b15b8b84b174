// Runs edgenasd as a child process for tests: on 127.0.0.1 with a port
// chosen at run time, read back from its first line of output.
#ifndef EDGENAS_TESTS_INTEGRATION_EDGENASD_PROCESS_H_
#define EDGENAS_TESTS_INTEGRATION_EDGENASD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "edgenas/v1/services.grpc.pb.h"

namespace edgenas {
namespace testing {

class EdgenasdProcess {
 public:
  // Starts edgenasd with `data_dir` and `extra` flags; waits until it serves.
  EdgenasdProcess(const std::string& data_dir, std::vector<std::string> extra);
  ~EdgenasdProcess();  // SIGTERM, then wait

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  // Kills with SIGKILL (a crash) and reaps.
  void Kill();
  // SIGTERM and wait; returns the exit status.
  int Stop();

  std::unique_ptr<v1::SearchService::Stub> Search();
  std::unique_ptr<v1::WorkerService::Stub> Workers();
  std::unique_ptr<v1::AdminService::Stub> Admin();
  // A context carrying `token` (none when empty) and a deadline.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& token, int timeout_s = 30);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
};

std::string ReadToken(const std::string& path);
std::string MakeTempDir();
// Whether Debian's dataset-fashion-mnist is installed (tests that train
// skip without it).
bool HaveFashionMnist();

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_TESTS_INTEGRATION_EDGENASD_PROCESS_H_
