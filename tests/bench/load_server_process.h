// edgenasd as a child process of a benchmark: started on 127.0.0.1 with a
// port chosen at run time, and watched from outside through /proc (CPU
// time and resident memory), so what is measured is the real binary.
#ifndef EDGENAS_TESTS_BENCH_LOAD_SERVER_PROCESS_H_
#define EDGENAS_TESTS_BENCH_LOAD_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace edgenas {
namespace bench {

struct ProcessMemory {
  int64_t rss_kb = 0;       // VmRSS: resident now
  int64_t peak_rss_kb = 0;  // VmHWM: the most it was resident
};

class ServerProcess {
 public:
  // Starts `binary` --data-dir `data_dir` --listen 127.0.0.1:0 plus `extra`,
  // and waits (up to 60 s) for its "serving on" line. Its output goes to
  // `data_dir`/edgenasd.log.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, const std::string& data_dir,
      const std::vector<std::string>& extra);
  // Stops the server if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // User plus system CPU time the server has spent so far, in seconds
  // (utime + stime of /proc/PID/stat, all threads).
  absl::StatusOr<double> CpuSeconds() const;
  absl::StatusOr<ProcessMemory> Memory() const;
  // SIGTERM, then waits; an error when it did not exit with status 0.
  absl::Status Stop();

 private:
  ServerProcess() = default;

  pid_t pid_ = -1;
  int port_ = 0;
  std::thread drain_;  // copies the server's stdout to the log after the first line
};

// The contents of a one-line secret file (the admin token), without the newline.
absl::StatusOr<std::string> ReadFirstLine(const std::string& path);

// A new empty directory /tmp/PREFIX-XXXXXX.
absl::StatusOr<std::string> MakeTempDir(const std::string& prefix);

}  // namespace bench
}  // namespace edgenas

#endif  // EDGENAS_TESTS_BENCH_LOAD_SERVER_PROCESS_H_
