// edgenasd: the coordinator.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/coordinator.h"
#include "server/rpc/services.h"
#include "runtime/util/flags.h"
#include "runtime/util/mutex_checks.h"

namespace {

bool IsLoopback(const std::string& address) {
  const std::string host = address.substr(0, address.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1";
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  edgenas::MutexChecksFollowBuildType();
  using edgenas::Flags;
  edgenas::CoordinatorOptions o;
  std::string listen = "127.0.0.1:50051", tls_cert, tls_key, dataset_dirs, redundancy;
  bool insecure = false, latency_worker = false;
  int lease_seconds = 60, max_failures = 3;
  Flags f("edgenasd --data-dir DIR [flags]",
          "The edgenas coordinator: runs search jobs, leases tasks to workers, keeps every result\n"
          "in DIR/edgenas.db. On the first start it writes an admin token to DIR/admin.token.");
  f.String("data-dir", &o.data_dir, "where the database and the admin token live (created if missing)");
  f.String("listen", &listen, "address to serve gRPC on");
  f.Int("local-trainers", &o.local_trainers, "in-process trainers taking TRAIN tasks");
  f.Bool("local-latency-worker", &latency_worker, "an in-process latency worker for device class host-cpu");
  f.String("tls-cert", &tls_cert, "PEM certificate chain (TLS)");
  f.String("tls-key", &tls_key, "PEM private key (TLS)");
  f.Bool("insecure", &insecure, "allow a non-loopback address without TLS");
  f.Int("lease-seconds", &lease_seconds, "a task's lease without heartbeats");
  f.Int("max-failures", &max_failures, "failed attempts (errors, silent workers) before a task is quarantined");
  f.String("dataset-dirs", &dataset_dirs, "NAME=DIR[,NAME=DIR...]: where this machine keeps datasets");
  f.String("redundancy", &redundancy,
           "CLASS=REPLICAS:TOLERANCE[,...]: distinct workers that must agree on each latency, e.g. rpi4=2:0.15");
  if (absl::Status s = f.Parse(argc, argv, 1); !s.ok()) {
    std::fprintf(stderr, "edgenasd: %s\n\n%s", std::string(s.message()).c_str(), f.Help().c_str());
    return 2;
  }
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (o.data_dir.empty()) {
    std::fprintf(stderr, "edgenasd: --data-dir is required\n\n%s", f.Help().c_str());
    return 2;
  }
  if (o.local_trainers < 0 || o.local_trainers > 64 || lease_seconds < 1 || lease_seconds > 86400 ||
      max_failures < 1 || max_failures > 1000) {
    std::fprintf(stderr,
                 "edgenasd: --local-trainers must be in [0, 64], --lease-seconds in [1, 86400], "
                 "--max-failures in [1, 1000]\n");
    return 2;
  }
  o.max_failures = max_failures;
  const bool tls = !tls_cert.empty() || !tls_key.empty();
  if (tls && (tls_cert.empty() || tls_key.empty())) {
    std::fprintf(stderr, "edgenasd: TLS needs both --tls-cert and --tls-key\n");
    return 2;
  }
  if (!tls && !IsLoopback(listen) && !insecure) {
    std::fprintf(stderr,
                 "edgenasd: refusing to serve %s without TLS (give --tls-cert and --tls-key, or "
                 "--insecure to accept the risk)\n", listen.c_str());
    return 2;
  }
  for (absl::string_view pair : absl::StrSplit(dataset_dirs, ',', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
      std::fprintf(stderr, "edgenasd: --dataset-dirs: '%s' is not NAME=DIR\n", std::string(pair).c_str());
      return 2;
    }
    o.dataset_dirs[kv[0]] = kv[1];
  }
  absl::StatusOr<std::map<std::string, edgenas::RedundancyPolicy>> policies = edgenas::ParseRedundancy(redundancy);
  if (!policies.ok()) {
    std::fprintf(stderr, "edgenasd: %s\n", std::string(policies.status().message()).c_str());
    return 2;
  }
  o.redundancy = *policies;
  o.local_latency_worker = latency_worker;
  o.lease_ms = int64_t{lease_seconds} * 1000;

  // Signals are taken by a thread that waits for them, not by a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<edgenas::Coordinator>> c = edgenas::Coordinator::Start(o);
  if (!c.ok()) {
    std::fprintf(stderr, "edgenasd: %s\n", std::string(c.status().message()).c_str());
    return 1;
  }
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (tls) {
    absl::StatusOr<std::string> cert = ReadFile(tls_cert), key = ReadFile(tls_key);
    if (!cert.ok() || !key.ok()) {
      std::fprintf(stderr, "edgenasd: %s\n",
                   std::string((cert.ok() ? key.status() : cert.status()).message()).c_str());
      return 1;
    }
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  grpc::EnableDefaultHealthCheckService(true);
  edgenas::Services services(c->get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, creds, &port);
  builder.SetMaxReceiveMessageSize(80 << 20);  // trained models come back in reports
  builder.SetMaxSendMessageSize(16 << 20);
  for (grpc::Service* s : services.all()) builder.RegisterService(s);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "edgenasd: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("edgenasd: serving on %s:%d (%s)\n", host.c_str(), port, tls ? "TLS" : "plaintext");
  if ((*c)->admin_token_created())
    std::printf("edgenasd: wrote the admin token to %s (mode 0600)\n", (*c)->admin_token_path().c_str());
  std::printf("edgenasd: %d local trainer(s), %s local latency worker\n", o.local_trainers,
              o.local_latency_worker ? "a" : "no");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  std::printf("edgenasd: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  services.Stop();  // answer parked long polls first
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  (*c)->Shutdown();
  std::printf("edgenasd: stopped cleanly\n");
  return 0;
}
