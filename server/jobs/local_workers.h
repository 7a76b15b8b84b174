// edgenasd's in-process workers: trainers and a latency worker for the
// host CPU. They take tasks from the same queue, with the same leases and
// reports, as remote workers. They share the machine's cores, so a
// measurement never overlaps training: both hold one compute lock, and a
// trainer steps aside while a measurement is waiting.
#ifndef EDGENAS_SERVER_JOBS_LOCAL_WORKERS_H_
#define EDGENAS_SERVER_JOBS_LOCAL_WORKERS_H_

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/tasks/task_runner.h"
#include "server/tasks/task_queue.h"

namespace edgenas {

struct LocalWorkerOptions {
  int trainers = 1;
  bool latency_worker = true;
  std::string device_class = "host-cpu";
  std::map<std::string, std::string> dataset_dirs;
};

class LocalWorkers {
 public:
  LocalWorkers(TaskQueue* queue, LocalWorkerOptions options);
  ~LocalWorkers();  // Stop()

  // The ids their leases carry ("local-trainer-0", "local-latency-0").
  static std::vector<std::string> Ids(const LocalWorkerOptions& options);

  void Start();
  // Stops taking tasks, abandons the current ones (their leases go back to
  // the queue) and joins.
  void Stop();

 private:
  void TrainerLoop(std::string id);
  void LatencyLoop(std::string id);
  void Report(v1::ReportResultRequest report);

  TaskQueue* queue_;
  LocalWorkerOptions options_;
  DatasetCache datasets_;
  std::atomic<bool> stop_{false};
  std::mutex compute_mu_;               // one of training or measuring at a time
  std::atomic<int> measurements_waiting_{0};
  std::vector<std::thread> threads_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_LOCAL_WORKERS_H_
