// Kernel latencies from measurement reports to the store, and predictions
// from them through the job's SearchContext.
#include "server/latency/latency_models.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/bench/kernel_profile.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_proto.h"
#include "search/space/mobile_space.h"
#include "runtime/tasks/task_kinds.h"
#include "server/jobs/candidate_rows.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/store_search_context.h"

namespace edgenas {
namespace {

constexpr char kJob[] = "job-1";
constexpr char kClass[] = "rpi4";
// A made-up device on which kernels are additive and a net takes a * sum + b.
constexpr double kScale = 1.1, kOffset = 0.02;

double KernelMs(const std::string& key) {
  return 0.001 + 1e-4 * static_cast<double>(std::hash<std::string>()(key) % 100);
}

std::vector<std::string> Keys(const Graph& graph) {
  absl::StatusOr<std::vector<std::string>> keys = InferenceKernelKeys(graph);
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *std::move(keys) : std::vector<std::string>();
}

class LatencyModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/latency_models_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Open();
    v1::Job job;
    job.set_id(kJob);
    job.set_state(v1::JOB_RUNNING);
    ASSERT_TRUE(store_->Write([&](Db& db) { return InsertJob(db, job); }).ok());
  }
  void TearDown() override {
    Close();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path() + suffix).c_str());
    rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/edgenas.db"; }
  void Open() {
    absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(path());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    auto clock = [] { return int64_t{1000}; };
    tasks_ = std::make_unique<TaskQueue>(store_.get(), TaskQueueOptions(), clock);
    JobManagerOptions options;
    options.latency_refit_every = 1;
    jobs_ = std::make_unique<JobManager>(store_.get(), tasks_.get(), options, clock);
  }
  void Close() {
    jobs_.reset();
    tasks_.reset();
    store_.reset();
  }

  // Stores `graph` as a candidate and applies a measurement report of it
  // whose kernels are `kernels` (the graph's own when nullopt).
  absl::StatusOr<ApplyVerdict> Report(
      const Graph& graph, std::optional<std::vector<v1::KernelLatency>> kernels = std::nullopt) {
    const std::string hash = *CanonicalHash(graph);
    const std::string candidate = absl::StrCat(kJob, "-", hash.substr(0, 16));
    v1::Graph wire;
    GraphToProto(graph, &wire);
    v1::ReportResultRequest report;
    report.set_worker_id("w1");
    v1::LatencyMeasurement* m = report.mutable_latency();
    m->set_graph_hash(hash);
    double sum = 0;
    if (!kernels) {
      kernels.emplace();
      for (const std::string& key : Keys(graph)) {
        v1::KernelLatency k;
        k.set_key(key);
        k.set_ms(KernelMs(key));
        kernels->push_back(k);
      }
    }
    for (const v1::KernelLatency& k : *kernels) {
      *m->add_kernels() = k;
      sum += k.ms();
    }
    const double ms = kScale * sum + kOffset;
    for (int i = 0; i < 3; ++i) m->add_repeat_ms(ms);
    m->set_median_ms(ms);
    m->set_p90_ms(ms);
    m->set_cv(0.01);
    v1::Task task;
    task.set_kind(kMeasureLatencyTask);
    TaskRow row{candidate + "-measure", kJob, candidate, kClass, hash, kMeasureLatencyTask,
                TaskPurpose::kTrial, 1, 0, task};
    absl::StatusOr<ApplyVerdict> verdict = ApplyVerdict::kDone;
    absl::Status s = store_->Write([&](Db& db) -> absl::Status {
      if (absl::Status r = InsertGraph(db, hash, wire); !r.ok()) return r;
      verdict = jobs_->services().judge->Record(db, row, report, 0);
      return verdict.status();
    });
    if (!s.ok()) return s;
    return verdict;
  }

  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(store_
                    ->Read([&](Db& db) -> absl::Status {
                      absl::StatusOr<Stmt> st = db.Prepare(sql.c_str());
                      if (!st.ok()) return st.status();
                      absl::StatusOr<bool> row = st->Step();
                      if (!row.ok()) return row.status();
                      n = st->Int(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  absl::StatusOr<double> Latency(const Graph& graph, const std::string& device_class = kClass) {
    std::atomic<bool> cancelled{false};
    StoreSearchContext ctx(jobs_->services(), kJob, SearchSettings(), 0, &cancelled);
    return ctx.Latency(graph, device_class);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TaskQueue> tasks_;
  std::unique_ptr<JobManager> jobs_;
};

std::vector<Graph> SpaceGraphs(int n) {
  MobileSpace space;
  std::mt19937_64 rng(5);
  std::vector<Graph> graphs;
  for (int i = 0; i < n; ++i) graphs.push_back(BuildGraph(space.Sample(rng), space));
  return graphs;
}

TEST_F(LatencyModelsTest, AnAcceptedMeasurementRecordsItsKernels) {
  // Two identical blocks: one key, two instances.
  MobileSpace space;
  MobileArch arch = space.Minimal();
  MobileBlock same = arch.blocks.back();
  same.stride = 1;
  arch.blocks.push_back(same);
  arch.blocks.push_back(same);
  const Graph g = BuildGraph(arch, space);
  const std::vector<std::string> keys = Keys(g);
  const std::set<std::string> distinct(keys.begin(), keys.end());
  ASSERT_LT(distinct.size(), keys.size());

  absl::StatusOr<ApplyVerdict> v = Report(g);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, ApplyVerdict::kDone);
  Close();  // what was acknowledged is in the file
  Open();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM kernel_latencies"), static_cast<int64_t>(distinct.size()));
  EXPECT_EQ(Count("SELECT SUM(instances) FROM kernel_latencies"),
            static_cast<int64_t>(keys.size()));
  EXPECT_EQ(
      Count(
          "SELECT COUNT(*) FROM kernel_latencies k JOIN measurements m ON m.id = k.measurement_id "
          "WHERE k.device_class = 'rpi4' AND m.device_class = 'rpi4'"),
      static_cast<int64_t>(distinct.size()));
  absl::StatusOr<std::vector<NetSample>> nets;
  ASSERT_TRUE(store_
                  ->Read([&](Db& db) {
                    nets = ReadNetSamples(db, LatencyScope{kClass});
                    return nets.status();
                  })
                  .ok());
  ASSERT_EQ(nets->size(), 1u);
  EXPECT_EQ((*nets)[0].kernels.size(), keys.size());
  double sum = 0;
  for (const KernelSample& k : (*nets)[0].kernels) {
    EXPECT_DOUBLE_EQ(k.ms, KernelMs(k.key)) << k.key;
    sum += k.ms;
  }
  EXPECT_DOUBLE_EQ((*nets)[0].measured_ms, kScale * sum + kOffset);
}

TEST_F(LatencyModelsTest, KernelsOfAnotherGraphAreNotKeptButTheMeasurementIs) {
  const std::vector<Graph> graphs = SpaceGraphs(2);
  std::vector<v1::KernelLatency> wrong;
  for (const std::string& key : Keys(graphs[1])) {
    wrong.emplace_back();
    wrong.back().set_key(key);
    wrong.back().set_ms(0.01);
  }
  ASSERT_TRUE(Report(graphs[0], wrong).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM measurements"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM kernel_latencies"), 0);
}

TEST_F(LatencyModelsTest, AKernelTimeOutOfRangeRefusesTheWholeReport) {
  const Graph g = SpaceGraphs(1)[0];
  std::vector<v1::KernelLatency> kernels;
  for (const std::string& key : Keys(g)) {
    kernels.emplace_back();
    kernels.back().set_key(key);
    kernels.back().set_ms(-1);
  }
  absl::StatusOr<ApplyVerdict> v = Report(g, kernels);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM measurements"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM kernel_latencies"), 0);
}

TEST_F(LatencyModelsTest, LatencyIsMeasuredElsePredictedElseNotFound) {
  // `longer` and random graphs are measured; `shorter` is `longer` less its
  // last block, so each of its kernels was measured, in `longer`.
  MobileSpace space;
  MobileArch arch;
  arch.stem_channels = 16;
  for (int stride : {2, 1, 1}) {
    MobileBlock b;
    b.out_channels = 24;
    b.stride = stride;
    arch.blocks.push_back(b);
  }
  const Graph longer = BuildGraph(arch, space);
  arch.blocks.pop_back();
  const Graph shorter = BuildGraph(arch, space);
  const std::vector<Graph> others = SpaceGraphs(10);
  EXPECT_EQ(Latency(longer).status().code(), absl::StatusCode::kNotFound);
  for (const Graph& g : others) ASSERT_TRUE(Report(g).ok());
  ASSERT_TRUE(Report(longer).ok());

  auto expected = [](const Graph& g) {
    double sum = 0;
    for (const std::string& key : Keys(g)) sum += KernelMs(key);
    return kScale * sum + kOffset;
  };
  // Measured: the measurement itself.
  absl::StatusOr<double> measured = Latency(longer);
  ASSERT_TRUE(measured.ok()) << measured.status();
  EXPECT_DOUBLE_EQ(*measured, expected(longer));
  // Never measured, made of measured kernels: predicted exactly.
  absl::StatusOr<double> predicted = Latency(shorter);
  ASSERT_TRUE(predicted.ok()) << predicted.status();
  EXPECT_NEAR(*predicted, expected(shorter), 1e-9);
  EXPECT_NE(*predicted, *measured);
  // With kernels never measured: a fallback estimate, still positive.
  absl::StatusOr<double> estimated = Latency(SpaceGraphs(11).back());
  ASSERT_TRUE(estimated.ok()) << estimated.status();
  EXPECT_GT(*estimated, 0);
  // Another class has measured nothing.
  EXPECT_EQ(Latency(shorter, "pixel7").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LatencyModelsTest, ThePredictorIsRefittedAsMeasurementsArrive) {
  LatencyModels models(/*refit_every=*/4);
  const std::vector<Graph> graphs = SpaceGraphs(12);
  EXPECT_EQ(models.Get(*store_, LatencyScope{kClass}).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Report(graphs[0]).ok());
  absl::StatusOr<std::shared_ptr<const LatencyPredictor>> first = models.Get(*store_, LatencyScope{kClass});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->calibration_nets(), 1);
  // Refits after 1, 2, 4, then every 4 more measurements.
  std::vector<int> seen_nets;
  for (int i = 1; i < 12; ++i) {
    ASSERT_TRUE(Report(graphs[i]).ok());
    seen_nets.push_back((*models.Get(*store_, LatencyScope{kClass}))->calibration_nets());
  }
  EXPECT_EQ(seen_nets, (std::vector<int>{2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 12}));
}

}  // namespace
}  // namespace edgenas
