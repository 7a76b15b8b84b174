// The context contract, held by the coordinator's StoreSearchContext: a
// coordinator in this process serving gRPC, with no workers of its own, and
// two edgenas-worker processes enrolled over gRPC, a trainer and a latency
// worker. Every training, measurement and task of the suite crosses the
// wire to them, initial weights fetched with FetchModel.
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "search/api/task_payloads.h"
#include "search/testing/context_contract.h"
#include "server/coordinator.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/store_search_context.h"
#include "server/rpc/services.h"
#include "server/spec/search_settings.h"
#include "server/store/ids.h"
#include "tests/integration/edgenasd_process.h"
#include "tests/integration/worker_process.h"

namespace edgenas {
namespace {

constexpr char kClass[] = "host-cpu";

// The job spec whose settings are `s` (as far as a spec holds them).
v1::JobSpec SpecFor(const SearchSettings& s) {
  v1::JobSpec spec;
  spec.set_name("contract");
  spec.mutable_dataset()->set_name(s.dataset.name);
  spec.mutable_dataset()->set_validation_fraction(s.dataset.validation_fraction);
  spec.mutable_dataset()->set_max_train_images(static_cast<int32_t>(s.dataset.max_train_images));
  spec.mutable_strategy()->set_name("random");
  spec.mutable_strategy()->set_params_json("{}");
  v1::ObjectiveSpec* o = spec.mutable_objective();
  o->set_kind(v1::OBJECTIVE_MNAS);
  o->set_target_latency_ms(s.mnas.target_ms);
  o->set_alpha(s.mnas.alpha);
  o->set_beta(s.mnas.beta);
  o->set_device_class(kClass);
  spec.mutable_budget()->set_max_trials(s.max_trials);
  spec.mutable_budget()->set_max_minutes(static_cast<int32_t>(s.max_minutes));
  *spec.mutable_training() = TrainingSpecOf(s.training);
  v1::LatencySpec* l = spec.mutable_latency();
  l->set_batch(s.latency.batch);
  l->set_threads(s.latency.threads);
  l->set_warmup(s.latency.warmup);
  l->set_number(s.latency.number);
  l->set_repeat(s.latency.repeat);
  l->set_min_repeat_ms(s.latency.min_repeat_ms);
  l->set_cooldown_ms(s.latency.cooldown_ms);
  spec.set_seed(s.seed);
  return spec;
}

class StoreHarness : public ContractHarness {
 public:
  StoreHarness() {
    dir_ = testing::MakeTempDir();
    CoordinatorOptions o;
    o.data_dir = dir_;
    absl::StatusOr<std::unique_ptr<Coordinator>> c = Coordinator::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    coordinator_ = *std::move(c);
    services_ = std::make_unique<Services>(coordinator_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.SetMaxReceiveMessageSize(80 << 20);
    for (grpc::Service* s : services_->all()) builder.RegisterService(s);
    server_ = builder.BuildAndStart();
    const std::string address = absl::StrCat("127.0.0.1:", port);
    trainer_ = std::make_unique<testing::WorkerProcess>(
        address, dir_ + "/trainer", EnrollToken("trainer-box"), "trainer-box", dir_ + "/trainer.log",
        std::vector<std::string>{"--role", "trainer"});
    latency_ = std::make_unique<testing::WorkerProcess>(address, dir_ + "/latency",
                                                        EnrollToken(kClass), kClass,
                                                        dir_ + "/latency.log");
  }
  ~StoreHarness() override {
    ctx_.reset();
    trainer_.reset();
    latency_.reset();
    services_->Stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    coordinator_->Shutdown();
  }

  SearchContext& Open(const SearchSettings& settings) override {
    const v1::JobSpec spec = SpecFor(settings);
    absl::StatusOr<SearchSettings> s = SettingsFromSpec(spec);
    EXPECT_TRUE(s.ok()) << s.status();
    settings_ = *s;
    v1::Job job;
    job.set_id(NewId("job"));
    *job.mutable_spec() = spec;
    job.set_state(v1::JOB_PENDING);
    job.set_created_at_ms(coordinator_->now_ms());
    job_id_ = job.id();
    EXPECT_TRUE(coordinator_->store()
                    ->Write([&](Db& db) -> absl::Status {
                      if (absl::Status r = InsertJob(db, job); !r.ok()) return r;
                      return SetJobState(db, job.id(), v1::JOB_RUNNING, "", job.created_at_ms());
                    })
                    .ok());
    return Reopen();
  }
  SearchContext& Reopen() override {
    ctx_ = std::make_unique<StoreSearchContext>(coordinator_->jobs()->services(), job_id_,
                                                settings_, coordinator_->now_ms(), &cancelled_);
    return *ctx_;
  }
  void CorruptCheckpoint() override {
    // An artifact that is not the one the checkpoint lists.
    EXPECT_TRUE(coordinator_->store()
                    ->Write([&](Db& db) {
                      return db.Run("UPDATE artifacts SET bytes = x'00' WHERE job_id = ?", job_id_);
                    })
                    .ok());
  }
  void Cancel() override {
    cancelled_ = true;
    EXPECT_TRUE(coordinator_->jobs()->Cancel(job_id_).ok());
  }

 private:
  std::string EnrollToken(const std::string& device_class) {
    v1::CreateTokenRequest req;
    req.set_kind(v1::CreateTokenRequest::KIND_ENROLLMENT);
    req.set_device_class(device_class);
    req.set_ttl_seconds(600);
    absl::StatusOr<v1::CreateTokenResponse> t = coordinator_->auth()->CreateToken(req);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token() : "";
  }

  std::string dir_, job_id_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<testing::WorkerProcess> trainer_, latency_;
  SearchSettings settings_;
  std::atomic<bool> cancelled_{false};
  std::unique_ptr<StoreSearchContext> ctx_;
};

INSTANTIATE_TEST_SUITE_P(Coordinator, ContextContractTest,
                         ::testing::Values(HarnessFactory(
                             [] { return std::make_unique<StoreHarness>(); })),
                         // One harness: a readable name in place of the factory's bytes.
                         [](const auto&) { return std::string("Store"); });

}  // namespace
}  // namespace edgenas
