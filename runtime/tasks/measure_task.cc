// The "measure_latency" task kind.
#include <omp.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "runtime/bench/kernel_profile.h"
#include "runtime/bench/latency.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_proto.h"
#include "runtime/tasks/task_runners.h"

namespace edgenas {
namespace {

// Profiled passes after a measurement: each is one forward pass, so even
// many cost little next to the measurement's repeats.
constexpr int kMeasureProfileRepeats = 15;

}  // namespace

absl::Status RunMeasureTask(const v1::Task& task, TaskEnv&, v1::ReportResultRequest* report) {
  const std::string& precision = task.measure().precision();
  if (!precision.empty() && precision != "fp32")
    return absl::InvalidArgumentError(
        absl::StrCat("measure.precision: '", precision.substr(0, 32), "' is not measured yet (fp32 is)"));
  absl::StatusOr<Graph> graph = GraphFromProto(task.graph());
  if (!graph.ok()) return graph.status();
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(*graph);
  if (!info.ok()) return info.status();
  const v1::LatencySpec& spec = task.measure().latency();
  // Latency does not depend on the weights' values: random ones.
  ParamStore params;
  std::mt19937_64 rng(1);
  if (absl::Status s = InitParams(*graph, *info, &params, rng); !s.ok()) return s;
  const int threads = spec.threads() > 0 ? spec.threads() : 1;
  omp_set_num_threads(threads);
  absl::StatusOr<std::unique_ptr<CompiledNet>> net = CompiledNet::Create(
      *graph, &params,
      NetOptions{NetMode::kInference, spec.batch() > 0 ? spec.batch() : 1, 1, false});
  if (!net.ok()) return net.status();
  LatencyOptions lo;
  lo.warmup = spec.warmup();
  lo.number = spec.number();
  lo.repeat = spec.repeat() > 0 ? spec.repeat() : 20;
  lo.min_repeat_ms = spec.min_repeat_ms();
  lo.cooldown_ms = spec.cooldown_ms();
  absl::StatusOr<LatencyStats> stats = MeasureLatency(**net, lo);
  if (!stats.ok()) return stats.status();
  v1::LatencyMeasurement* m = report->mutable_latency();
  m->set_graph_hash(CanonicalHash(*graph, *info));
  m->set_batch((*net)->batch());
  m->set_threads(threads);
  for (double ms : stats->repeat_ms) m->add_repeat_ms(ms);
  m->set_median_ms(stats->median_ms);
  m->set_p90_ms(stats->p90_ms);
  m->set_cv(stats->cv);
  // Then, on the warm net, where the time goes: one entry per kernel, for
  // the coordinator's latency lookup table.
  absl::StatusOr<std::vector<KernelTiming>> kernels =
      ProfileKernels(**net, KernelProfileOptions{/*warmup=*/2, /*repeat=*/kMeasureProfileRepeats});
  if (!kernels.ok()) return kernels.status();
  for (const KernelTiming& k : *kernels) {
    v1::KernelLatency* out = m->add_kernels();
    out->set_key(k.key);
    out->set_ms(k.ms);
  }
  return absl::OkStatus();
}

}  // namespace edgenas
