// edgenas-worker: a device (latency) or a trainer that works for a coordinator.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "edgenas/v1/services.grpc.pb.h"
#include "runtime/exec/dnnl_util.h"
#include "runtime/util/flags.h"
#include "runtime/util/mutex_checks.h"
#include "worker/enroll/worker_state.h"
#include "worker/loop/grpc_transport.h"
#include "worker/loop/task_loop.h"
#include "worker/measure/fingerprint.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "edgenas-worker: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  edgenas::MutexChecksFollowBuildType();
  // Before any thread exists (gRPC starts its own): SIGTERM and SIGINT are
  // taken by a thread that waits for them, so the task in hand ends cleanly.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::string coordinator, enroll_token, device_class, state_dir, tls_ca, role = "latency", dataset_dirs;
  bool show_fingerprint = false;
  int wait_ms = 10000;
  edgenas::Flags f(
      "edgenas-worker --coordinator HOST:PORT --state-dir DIR [--enroll-token T --device-class C] [flags]",
      "Works for an edgenas coordinator: measures the latency of candidate networks on this device\n"
      "(--role latency) or trains them (--role trainer). The first start enrolls with a one-time\n"
      "token (edgenas tokens create --device-class C --ttl 1h) and keeps the worker credential in\n"
      "DIR/worker.json (mode 0600); later starts reuse it.");
  f.String("coordinator", &coordinator, "edgenasd address");
  f.String("enroll-token", &enroll_token, "one-time enrollment token (first start only)");
  f.String("device-class", &device_class, "the device class the token was made for (rpi4, host-cpu, ...)");
  f.String("state-dir", &state_dir, "where the worker keeps its credential");
  f.String("tls-ca", &tls_ca, "PEM root certificates: connect with TLS");
  f.String("role", &role, "latency | trainer");
  f.String("dataset-dirs", &dataset_dirs, "trainers: NAME=DIR[,NAME=DIR...] where datasets are (default: Debian's)");
  f.Int("wait-ms", &wait_ms, "how long one request for a task may wait on the coordinator");
  f.Bool("fingerprint", &show_fingerprint, "print this device's fingerprint and exit");
  if (absl::Status s = f.Parse(argc, argv, 1); !s.ok()) {
    std::fprintf(stderr, "edgenas-worker: %s\n\n%s", std::string(s.message()).c_str(), f.Help().c_str());
    return 2;
  }
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (show_fingerprint) {
    edgenas::DeviceFingerprint fp = edgenas::ReadFingerprint();
    std::printf("cpu: %s\ncores: %d\nisa: %s\nos: %s\nkernel: %s %s\ngovernor: %s\ntemperature: %.1f C\n",
                fp.cpu_model.c_str(), fp.cores, edgenas::DnnlIsaName().c_str(), fp.os.c_str(),
                fp.kernel.c_str(), fp.machine.c_str(), fp.governor.c_str(), fp.temperature_c);
    return 0;
  }
  if (state_dir.empty()) {
    std::fprintf(stderr, "edgenas-worker: --state-dir is required\n\n%s", f.Help().c_str());
    return 2;
  }
  if (role != "latency" && role != "trainer") {
    std::fprintf(stderr, "edgenas-worker: --role: '%s' is not latency or trainer\n", role.c_str());
    return 2;
  }
  if (wait_ms < 0 || wait_ms > 30000) {
    std::fprintf(stderr, "edgenas-worker: --wait-ms: must be in [0, 30000]\n");
    return 2;
  }
  edgenas::TaskLoopOptions options;
  options.acquire_wait_ms = wait_ms;
  std::map<std::string, std::string> dirs;
  for (absl::string_view pair : absl::StrSplit(dataset_dirs, ',', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
      std::fprintf(stderr, "edgenas-worker: --dataset-dirs: '%s' is not NAME=DIR\n", std::string(pair).c_str());
      return 2;
    }
    dirs[kv[0]] = kv[1];
  }
  options.datasets = std::make_shared<edgenas::DatasetCache>(std::move(dirs));

  absl::StatusOr<std::optional<edgenas::WorkerState>> loaded = edgenas::LoadWorkerState(state_dir);
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  if (*loaded && coordinator.empty()) coordinator = (*loaded)->coordinator;
  if (coordinator.empty()) {
    std::fprintf(stderr, "edgenas-worker: --coordinator is required\n\n%s", f.Help().c_str());
    return 2;
  }
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!tls_ca.empty()) {
    std::ifstream ca(tls_ca);
    if (!ca) return Fail(absl::StrCat("--tls-ca ", tls_ca, ": cannot open"));
    std::stringstream pem;
    pem << ca.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(80 << 20);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(coordinator, creds, args);

  edgenas::WorkerState state;
  if (*loaded) {
    state = **loaded;
    if (!enroll_token.empty())
      std::fprintf(stderr, "edgenas-worker: already enrolled as %s; --enroll-token ignored\n", state.worker_id.c_str());
  } else {
    if (enroll_token.empty() || device_class.empty())
      return Fail(absl::StrCat("not enrolled yet (no ", state_dir,
                               "/worker.json): give --enroll-token and --device-class"));
    edgenas::v1::EnrollRequest req;
    req.set_enroll_token(enroll_token);
    req.set_device_class(device_class);
    req.set_role(role == "trainer" ? edgenas::v1::WORKER_ROLE_TRAINER : edgenas::v1::WORKER_ROLE_LATENCY);
    *req.mutable_fingerprint() = edgenas::FingerprintMessage();
    edgenas::v1::EnrollResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status s = edgenas::v1::WorkerService::NewStub(channel)->Enroll(&ctx, req, &resp);
    if (!s.ok()) return Fail(absl::StrCat("enrollment with ", coordinator, " failed: ", s.error_message()));
    state = edgenas::WorkerState{coordinator, resp.worker_id(), resp.credential(), device_class, req.role()};
    if (absl::Status saved = edgenas::SaveWorkerState(state_dir, state); !saved.ok())
      return Fail(std::string(saved.message()));
    std::fprintf(stderr, "edgenas-worker: enrolled as %s; credential kept in %s/worker.json\n",
                 state.worker_id.c_str(), state_dir.c_str());
  }

  // Shared with the signal waiter, which outlives main's frame (it is detached).
  auto stop = std::make_shared<std::atomic<bool>>(false);
  const edgenas::v1::Fingerprint fingerprint = edgenas::FingerprintMessage();
  auto transport = std::make_shared<edgenas::GrpcTransport>(state, fingerprint, channel);
  auto loop = std::make_shared<edgenas::TaskLoop>(
      edgenas::WorkerIdentity{state.worker_id, state.device_class, state.role}, fingerprint, options,
      transport.get());
  std::thread waiter([stop, loop, transport, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    *stop = true;
    loop->Interrupt();  // a long poll for a task ends now, not in up to --wait-ms
  });
  waiter.detach();

  std::fprintf(stderr, "edgenas-worker: %s (%s, %s) working for %s\n", state.worker_id.c_str(), role.c_str(),
               state.device_class.c_str(), coordinator.c_str());
  absl::Status s = loop->Run(*stop);
  std::fprintf(stderr, "edgenas-worker: stopped after %lld task(s)\n",
               static_cast<long long>(loop->tasks_done()));
  return s.ok() ? 0 : 1;
}
