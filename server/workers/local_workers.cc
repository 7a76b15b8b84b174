#include "server/workers/local_workers.h"

#include "absl/strings/str_cat.h"
#include "runtime/exec/dnnl_util.h"

namespace edgenas {
namespace {

// An in-process worker polls its queue in slices this long, so it stops
// promptly without a call to interrupt.
constexpr int kAcquireWaitMs = 500;

}  // namespace

LocalWorkers::LocalWorkers(TaskQueue* queue, LocalWorkerOptions options, ModelSource models)
    : queue_(queue), options_(std::move(options)), models_(std::move(models)) {}

LocalWorkers::~LocalWorkers() { Stop(); }

std::vector<std::string> LocalWorkers::Ids(const LocalWorkerOptions& o) {
  std::vector<std::string> ids;
  for (int i = 0; i < o.trainers; ++i) ids.push_back(absl::StrCat("local-trainer-", i));
  if (o.latency_worker) ids.push_back("local-latency-0");
  return ids;
}

void LocalWorkers::Start() {
  v1::Fingerprint fingerprint;
  fingerprint.set_isa(DnnlIsaName());
  fingerprint.set_cores(static_cast<int>(std::thread::hardware_concurrency()));
  TaskLoopOptions loop_options;
  loop_options.acquire_wait_ms = kAcquireWaitMs;
  loop_options.log_name = "edgenasd";
  loop_options.datasets = std::make_shared<DatasetCache>(options_.dataset_dirs);
  loop_options.gate = &gate_;
  const std::vector<std::string> ids = Ids(options_);
  workers_.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool trainer = static_cast<int>(i) < options_.trainers;
    WorkerIdentity identity{ids[i], options_.device_class,
                            trainer ? v1::WORKER_ROLE_TRAINER : v1::WORKER_ROLE_LATENCY};
    Worker& w = workers_[i];
    w.transport = std::make_unique<InProcessTransport>(
        queue_, identity, models_,
        trainer && options_.latency_worker ? options_.device_class : std::string());
    w.loop = std::make_unique<TaskLoop>(identity, fingerprint, loop_options, w.transport.get());
    w.thread = std::thread([this, loop = w.loop.get()] { loop->Run(stop_).IgnoreError(); });
  }
}

void LocalWorkers::Stop() {
  if (stop_.exchange(true)) return;
  for (Worker& w : workers_) w.loop->Interrupt();
  for (Worker& w : workers_)
    if (w.thread.joinable()) w.thread.join();
  for (const std::string& id : Ids(options_)) queue_->ReleaseWorker(id);
}

}  // namespace edgenas
