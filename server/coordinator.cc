#include "server/coordinator.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

int64_t SystemMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status WriteSecretFile(const std::string& path, const std::string& secret) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
  const std::string line = secret + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Start(const CoordinatorOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("--data-dir: required");
  if (::mkdir(options.data_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", options.data_dir, ": ", std::strerror(errno)));
  std::unique_ptr<Coordinator> c(new Coordinator());
  c->options_ = options;
  c->clock_ = options.clock ? options.clock : SystemMs;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options.data_dir + "/edgenas.db");
  if (!store.ok()) return store.status();
  c->store_ = *std::move(store);

  c->auth_ = std::make_unique<Authenticator>(c->store_.get(), c->clock_);
  absl::StatusOr<std::string> admin = c->auth_->BootstrapAdminToken();
  if (!admin.ok()) return admin.status();
  c->admin_token_path_ = options.data_dir + "/admin.token";
  if (!admin->empty()) {
    if (absl::Status s = WriteSecretFile(c->admin_token_path_, *admin); !s.ok()) return s;
    c->admin_token_created_ = true;
  }

  LocalWorkerOptions local;
  local.trainers = options.local_trainers;
  local.latency_worker = options.local_latency_worker;
  local.device_class = options.local_device_class;
  local.dataset_dirs = options.dataset_dirs;
  TaskQueueOptions tq;
  tq.lease_ms = options.lease_ms;
  tq.max_failures = options.max_failures;
  tq.local_workers = LocalWorkers::Ids(local);
  c->tasks_ = std::make_unique<TaskQueue>(c->store_.get(), tq, c->clock_);
  JobManagerOptions jm;
  jm.latency.redundancy = options.redundancy;
  c->jobs_ = std::make_unique<JobManager>(c->store_.get(), c->tasks_.get(), jm, c->clock_);
  c->jobs_->Attach();
  if (absl::Status s = c->tasks_->Load(); !s.ok()) return s;
  JobQueries* queries = &c->jobs_->queries();
  c->local_ = std::make_unique<LocalWorkers>(
      c->tasks_.get(), local, [queries](const std::string& id) { return queries->Model(id); });
  c->local_->Start();
  if (absl::Status s = c->jobs_->ResumeAll(); !s.ok()) return s;
  c->housekeeping_ = std::thread([p = c.get()] { p->Housekeeping(); });
  return c;
}

void Coordinator::Housekeeping() {
  int tick = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(500));
    if (stopping_) break;
    lock.unlock();
    tasks_->ExpireLeases();
    if (++tick % 10 == 0) {
      auth_->FlushSeen();
      jobs_->Housekeep();
    }
    lock.lock();
  }
}

void Coordinator::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (housekeeping_.joinable()) housekeeping_.join();
  if (local_) local_->Stop();
  if (jobs_) jobs_->Shutdown();
  if (auth_) auth_->FlushSeen();
  if (tasks_) tasks_->WakeAll();
  if (!store_) return;  // Start failed before there was more to stop
  // Queued writes call back into the task queue and the job manager: let them
  // finish (a no-op write completes after every earlier one) before those go.
  auto flush = [this] { store_->Write([](Db&) { return absl::OkStatus(); }).IgnoreError(); };
  flush();
  local_.reset();
  jobs_.reset();  // it finishes what the queue told it first: the store is open
  flush();
  tasks_.reset();
  auth_.reset();
  store_.reset();  // closes
}

Coordinator::~Coordinator() { Shutdown(); }

}  // namespace edgenas
