#include "server/jobs/latency_models.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/bench/kernel_profile.h"
#include "runtime/graph/graph_proto.h"

namespace edgenas {
namespace {

constexpr int kMaxKernels = 8192;

absl::StatusOr<int64_t> CountNets(Db& db, const std::string& device_class) {
  absl::StatusOr<Stmt> st = db.Prepare(
      "SELECT COUNT(*) FROM (SELECT DISTINCT measurement_id FROM kernel_latencies "
      "WHERE device_class = ?)");
  if (!st.ok()) return st.status();
  st->Bind(1, device_class);
  absl::StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  return st->Int(0);
}

}  // namespace

absl::Status RecordKernelLatencies(Db& db, int64_t measurement_id, const std::string& device_class,
                                   const v1::Graph& graph, const v1::LatencyMeasurement& m,
                                   bool* recorded) {
  if (recorded) *recorded = false;
  if (m.kernels_size() == 0) return absl::OkStatus();
  if (m.kernels_size() > kMaxKernels)
    return absl::InvalidArgumentError(absl::StrCat("latency.kernels: more than ", kMaxKernels));
  for (const v1::KernelLatency& k : m.kernels())
    if (!(k.ms() >= 0 && k.ms() < 3.6e6))
      return absl::InvalidArgumentError("latency.kernels: ms must be in [0, 1 h)");

  absl::StatusOr<Graph> g = GraphFromProto(graph);
  if (!g.ok()) return g.status();
  absl::StatusOr<std::vector<std::string>> expected = InferenceKernelKeys(*g);
  if (!expected.ok()) return expected.status();
  std::vector<std::string> reported;
  for (const v1::KernelLatency& k : m.kernels()) reported.push_back(k.key());
  std::sort(expected->begin(), expected->end());
  std::sort(reported.begin(), reported.end());
  if (reported != *expected) return absl::OkStatus();

  // One row per key: the mean over the net's instances of it.
  std::map<std::string, std::pair<double, int>> by_key;
  for (const v1::KernelLatency& k : m.kernels()) {
    auto& [sum, n] = by_key[k.key()];
    sum += k.ms();
    ++n;
  }
  for (const auto& [key, agg] : by_key) {
    absl::StatusOr<Stmt> st = db.Prepare(
        "INSERT INTO kernel_latencies (measurement_id, device_class, key, ms, instances) "
        "VALUES (?, ?, ?, ?, ?)");
    if (!st.ok()) return st.status();
    st->Bind(1, measurement_id)
        .Bind(2, device_class)
        .Bind(3, key)
        .Bind(4, agg.first / agg.second)
        .Bind(5, agg.second);
    if (absl::Status s = st->Run(); !s.ok()) return s;
  }
  if (recorded) *recorded = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<NetSample>> ReadNetSamples(Db& db, const std::string& device_class) {
  absl::StatusOr<Stmt> st = db.Prepare(
      "SELECT m.id, m.median_ms, k.key, k.ms, k.instances FROM kernel_latencies k "
      "JOIN measurements m ON m.id = k.measurement_id WHERE k.device_class = ? "
      "ORDER BY m.id, k.key");
  if (!st.ok()) return st.status();
  st->Bind(1, device_class);
  std::vector<NetSample> nets;
  int64_t current = -1;
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (st->Int(0) != current) {
      current = st->Int(0);
      nets.emplace_back();
      nets.back().measured_ms = st->Double(1);
    }
    const int64_t instances = std::clamp<int64_t>(st->Int(4), 1, kMaxKernels);
    for (int64_t i = 0; i < instances; ++i)
      nets.back().kernels.push_back({st->Text(2), st->Double(3)});
  }
  return nets;
}

absl::StatusOr<std::shared_ptr<const LatencyPredictor>> LatencyModels::Get(
    Store& store, const std::string& device_class) {
  std::lock_guard<std::mutex> lock(mu_);
  Fitted& fitted = by_class_[device_class];
  int64_t nets = 0;
  std::vector<NetSample> samples;
  absl::Status s = store.Read([&](Db& db) -> absl::Status {
    absl::StatusOr<int64_t> count = CountNets(db, device_class);
    if (!count.ok()) return count.status();
    nets = *count;
    const int64_t step = std::max<int64_t>(1, std::min<int64_t>(refit_every_, fitted.nets));
    if (fitted.predictor && nets < fitted.nets + step && nets >= fitted.nets)
      return absl::OkStatus();
    absl::StatusOr<std::vector<NetSample>> read = ReadNetSamples(db, device_class);
    if (!read.ok()) return read.status();
    samples = *std::move(read);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!samples.empty()) {
    absl::StatusOr<LatencyPredictor> p = LatencyPredictor::Fit(device_class, samples);
    if (!p.ok()) return p.status();
    fitted.predictor = std::make_shared<const LatencyPredictor>(*std::move(p));
    fitted.nets = static_cast<int64_t>(samples.size());
  }
  if (!fitted.predictor)
    return absl::NotFoundError(
        absl::StrCat("no kernel latencies measured on '", device_class, "' to predict from"));
  return fitted.predictor;
}

}  // namespace edgenas
