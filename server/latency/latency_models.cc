#include "server/latency/latency_models.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/bench/kernel_profile.h"
#include "runtime/graph/graph_proto.h"

namespace edgenas {
namespace {

constexpr int kMaxKernels = 8192;

absl::StatusOr<int64_t> CountNets(Db& db, const LatencyScope& scope) {
  absl::StatusOr<std::optional<int64_t>> n = db.QueryInt(
      "SELECT COUNT(*) FROM measurements m WHERE m.device_class = ? AND m.batch = ? AND "
      "m.threads = ? AND m.precision = ? AND EXISTS (SELECT 1 FROM kernel_latencies k WHERE "
      "k.measurement_id = m.id)",
      scope.device_class, scope.batch, scope.threads, scope.precision);
  if (!n.ok()) return n.status();
  return n->value_or(0);
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
    if (absl::Status s = db.Run(
            "INSERT INTO kernel_latencies (measurement_id, device_class, key, ms, instances) "
            "VALUES (?, ?, ?, ?, ?)",
            measurement_id, device_class, key, agg.first / agg.second, agg.second);
        !s.ok())
      return s;
  }
  if (recorded) *recorded = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<NetSample>> ReadNetSamples(Db& db, const LatencyScope& scope) {
  std::vector<NetSample> nets;
  int64_t current = -1;
  absl::Status s = db.ForEachRow(
      "SELECT m.id, m.median_ms, k.key, k.ms, k.instances FROM kernel_latencies k "
      "JOIN measurements m ON m.id = k.measurement_id WHERE m.device_class = ? AND m.batch = ? "
      "AND m.threads = ? AND m.precision = ? ORDER BY m.id, k.key",
      [&](const Stmt& st) {
        if (st.Int(0) != current) {
          current = st.Int(0);
          nets.emplace_back();
          nets.back().measured_ms = st.Double(1);
        }
        const int64_t instances = std::clamp<int64_t>(st.Int(4), 1, kMaxKernels);
        for (int64_t i = 0; i < instances; ++i)
          nets.back().kernels.push_back({st.Text(2), st.Double(3)});
        return absl::OkStatus();
      },
      scope.device_class, scope.batch, scope.threads, scope.precision);
  if (!s.ok()) return s;
  return nets;
}

absl::StatusOr<std::shared_ptr<const LatencyPredictor>> LatencyModels::Get(
    Store& store, const LatencyScope& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  Fitted& fitted = by_scope_[scope];
  int64_t nets = 0;
  std::vector<NetSample> samples;
  absl::Status s = store.Read([&](Db& db) -> absl::Status {
    absl::StatusOr<int64_t> count = CountNets(db, scope);
    if (!count.ok()) return count.status();
    nets = *count;
    const int64_t step = std::max<int64_t>(1, std::min<int64_t>(refit_every_, fitted.nets));
    if (fitted.predictor && nets < fitted.nets + step && nets >= fitted.nets)
      return absl::OkStatus();
    absl::StatusOr<std::vector<NetSample>> read = ReadNetSamples(db, scope);
    if (!read.ok()) return read.status();
    samples = *std::move(read);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!samples.empty()) {
    absl::StatusOr<LatencyPredictor> p = LatencyPredictor::Fit(scope.device_class, samples);
    if (!p.ok()) return p.status();
    fitted.predictor = std::make_shared<const LatencyPredictor>(*std::move(p));
    fitted.nets = static_cast<int64_t>(samples.size());
  }
  if (!fitted.predictor)
    return absl::NotFoundError(
        absl::StrCat("no kernel latencies measured in ", scope.Name(), " to predict from"));
  return fitted.predictor;
}

}  // namespace edgenas
