// Task loops that share one machine's cores take turns: a latency
// measurement must never overlap training, or the latency it reports is
// noise. Measurements go first: they are short, and a trainer waiting for
// its turn costs less than a search waiting for latencies.
#ifndef EDGENAS_WORKER_LOOP_COMPUTE_GATE_H_
#define EDGENAS_WORKER_LOOP_COMPUTE_GATE_H_

#include <condition_variable>
#include <mutex>

#include "edgenas/v1/services.pb.h"

namespace edgenas {

class ComputeGate {
 public:
  // Blocks until this task may run: a trainer waits while a measurement runs
  // or waits to run. Every Enter is followed by one Leave.
  void Enter(v1::WorkerRole role) {
    std::unique_lock<std::mutex> lock(mu_);
    const bool measuring = role == v1::WORKER_ROLE_LATENCY;
    if (measuring) ++measurements_waiting_;
    cv_.wait(lock, [&] { return !busy_ && (measuring || measurements_waiting_ == 0); });
    if (measuring) --measurements_waiting_;
    busy_ = true;
  }
  void Leave() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool busy_ = false;
  int measurements_waiting_ = 0;
};

}  // namespace edgenas

#endif  // EDGENAS_WORKER_LOOP_COMPUTE_GATE_H_
