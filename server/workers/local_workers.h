// edgenasd's in-process workers: trainers and a latency worker for the host
// CPU, each the worker's own task loop behind an InProcessTransport. They
// share the machine's cores, so a measurement never overlaps training: their
// loops take turns through one ComputeGate, measurements first.
#ifndef EDGENAS_SERVER_WORKERS_LOCAL_WORKERS_H_
#define EDGENAS_SERVER_WORKERS_LOCAL_WORKERS_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/tasks/task_queue.h"
#include "server/workers/in_process_transport.h"
#include "worker/loop/compute_gate.h"
#include "worker/loop/task_loop.h"

namespace edgenas {

struct LocalWorkerOptions {
  int trainers = 1;
  bool latency_worker = true;
  std::string device_class = "host-cpu";
  std::map<std::string, std::string> dataset_dirs;
};

class LocalWorkers {
 public:
  LocalWorkers(TaskQueue* queue, LocalWorkerOptions options, ModelSource models);
  ~LocalWorkers();  // Stop()

  // The ids their leases carry ("local-trainer-0", "local-latency-0").
  static std::vector<std::string> Ids(const LocalWorkerOptions& options);

  void Start();
  // Stops taking tasks, abandons the current ones (their leases go back to
  // the queue) and joins.
  void Stop();

 private:
  struct Worker {
    std::unique_ptr<InProcessTransport> transport;
    std::unique_ptr<TaskLoop> loop;
    std::thread thread;
  };

  TaskQueue* queue_;
  LocalWorkerOptions options_;
  ModelSource models_;
  ComputeGate gate_;
  std::atomic<bool> stop_{false};
  std::vector<Worker> workers_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_WORKERS_LOCAL_WORKERS_H_
