// The coordinator's parts wired together: the store, the task queue, jobs,
// authentication, in-process workers, and the housekeeping that expires
// leases. The gRPC services are thin adapters over it, and tests drive it
// directly.
#ifndef EDGENAS_SERVER_COORDINATOR_H_
#define EDGENAS_SERVER_COORDINATOR_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/auth/authenticator.h"
#include "server/jobs/job_manager.h"
#include "server/workers/local_workers.h"
#include "server/store/store.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

struct CoordinatorOptions {
  std::string data_dir;
  int local_trainers = 0;
  bool local_latency_worker = false;
  std::string local_device_class = "host-cpu";
  int64_t lease_ms = 60000;
  int max_failures = 3;
  std::map<std::string, std::string> dataset_dirs;  // dataset name -> directory
  std::map<std::string, RedundancyPolicy> redundancy;  // per device class
  std::function<int64_t()> clock;                   // ms since the epoch; default: system clock
};

class Coordinator {
 public:
  // Opens (or creates) DATA_DIR/edgenas.db, writes DATA_DIR/admin.token
  // (mode 0600) on the first start, resumes unfinished jobs and starts the
  // in-process workers.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Start(const CoordinatorOptions& options);
  // Stops taking work, releases the leases of in-process workers, stops job
  // runners (their jobs resume at the next start) and closes the database.
  void Shutdown();
  ~Coordinator();

  Store* store() { return store_.get(); }
  TaskQueue* tasks() { return tasks_.get(); }
  JobManager* jobs() { return jobs_.get(); }
  Authenticator* auth() { return auth_.get(); }
  const std::string& admin_token_path() const { return admin_token_path_; }
  bool admin_token_created() const { return admin_token_created_; }
  int64_t now_ms() const { return clock_(); }

 private:
  Coordinator() = default;
  void Housekeeping();

  CoordinatorOptions options_;
  std::function<int64_t()> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TaskQueue> tasks_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<LocalWorkers> local_;
  std::string admin_token_path_;
  bool admin_token_created_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread housekeeping_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_COORDINATOR_H_
