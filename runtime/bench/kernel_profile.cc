#include "runtime/bench/kernel_profile.h"

#include <algorithm>
#include <random>

#include "runtime/bench/kernel_key.h"

namespace edgenas {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace

std::vector<Kernel> InferenceKernels(const Graph& graph, const GraphInfo& info, int batch) {
  const FusionPlan plan = PlanFusion(graph, info, NetMode::kInference, batch);
  std::vector<Kernel> kernels;
  for (int v : info.order) {
    if (plan.alias[v] >= 0) continue;  // runs inside another kernel, or is that kernel's value
    Kernel k;
    k.node = v;
    k.nodes.push_back(v);
    if (plan.folded_bn[v] >= 0) k.nodes.push_back(plan.folded_bn[v]);
    k.nodes.insert(k.nodes.end(), plan.fused[v].begin(), plan.fused[v].end());
    k.key = KernelKey(graph, info, v, plan.fused[v]);
    kernels.push_back(std::move(k));
  }
  return kernels;
}

absl::StatusOr<std::vector<std::string>> InferenceKernelKeys(const Graph& graph) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  std::vector<std::string> keys;
  for (Kernel& k : InferenceKernels(graph, *info, /*batch=*/1)) keys.push_back(std::move(k.key));
  return keys;
}

absl::Status ValidateKernelProfileOptions(const KernelProfileOptions& o) {
  if (o.warmup < 0 || o.warmup > 100000)
    return absl::InvalidArgumentError("warmup: must be in [0, 100000]");
  if (o.repeat < 1 || o.repeat > 100000)
    return absl::InvalidArgumentError("repeat: must be in [1, 100000]");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KernelTiming>> ProfileKernels(CompiledNet& net,
                                                         const KernelProfileOptions& o) {
  if (absl::Status s = ValidateKernelProfileOptions(o); !s.ok()) return s;
  if (net.mode() != NetMode::kInference)
    return absl::FailedPreconditionError("kernel profile: the net is not an inference net");
  const std::vector<Kernel> kernels = InferenceKernels(net.graph(), net.info(), net.batch());
  std::vector<float> input(size_t(net.batch()) * net.info().input_shape.elements());
  std::mt19937_64 rng(1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& x : input) x = n(rng);

  const bool was_profiling = net.profiling();
  net.SetProfiling(false);
  for (int i = 0; i < o.warmup; ++i) net.Forward(input.data());
  net.SetProfiling(true);
  std::vector<std::vector<double>> samples(kernels.size());
  for (int r = 0; r < o.repeat; ++r) {
    net.ResetProfile();
    net.Forward(input.data());
    const std::vector<double>& by_node = net.profile().forward_node_ms;
    for (size_t k = 0; k < kernels.size(); ++k) {
      double ms = 0;
      if (!by_node.empty())
        for (int v : kernels[k].nodes) ms += by_node[v];
      samples[k].push_back(ms);
    }
  }
  net.SetProfiling(was_profiling);
  net.ResetProfile();

  std::vector<KernelTiming> out;
  for (size_t k = 0; k < kernels.size(); ++k)
    out.push_back({kernels[k].key, kernels[k].node, Median(std::move(samples[k]))});
  return out;
}

}  // namespace edgenas
