// latency-model: how well the kernel latency predictor does on this machine.
// Samples graphs of the default mobile space, measures each whole net and
// its kernels, fits the predictor on one half and reports its error on the
// other half, which nothing was fitted or tuned on.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/bench/kernel_profile.h"
#include "runtime/bench/latency.h"
#include "runtime/exec/dnnl_util.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/util/flags.h"
#include "search/latency/latency_predictor.h"
#include "search/space/mobile_space.h"
#include "server/cli/commands.h"

namespace edgenas {
namespace {

using nlohmann::json;

constexpr char kDeviceClass[] = "host-cpu";

struct MeasuredNet {
  NetSample sample;  // kernels and whole-net median
  std::vector<std::string> keys;
  int64_t flops = 0;
  double cv = 0;
};

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

// Relative errors (predicted / measured - 1) summarized.
struct ErrorReport {
  std::string name;
  std::vector<double> errors;
  json ToJson() const {
    std::vector<double> abs;
    int within10 = 0, within20 = 0;
    double sum = 0;
    for (double e : errors) {
      abs.push_back(std::fabs(e));
      within10 += std::fabs(e) <= 0.10;
      within20 += std::fabs(e) <= 0.20;
      sum += e;
    }
    const double n = std::max<size_t>(1, errors.size());
    return json{{"name", name},
                {"graphs", errors.size()},
                {"within_10pct", within10 / n},
                {"within_20pct", within20 / n},
                {"median_abs_error", Quantile(abs, 0.5)},
                {"p90_abs_error", Quantile(abs, 0.9)},
                {"mean_error", sum / n}};
  }
};

absl::StatusOr<MeasuredNet> MeasureOne(const Graph& graph, const LatencyOptions& lo,
                                       const KernelProfileOptions& po) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  if (!info.ok()) return info.status();
  ParamStore params;
  std::mt19937_64 rng(1);
  if (absl::Status s = InitParams(graph, *info, &params, rng); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<CompiledNet>> net =
      CompiledNet::Create(graph, &params, NetOptions{NetMode::kInference, 1, 1, false});
  if (!net.ok()) return net.status();
  absl::StatusOr<LatencyStats> stats = MeasureLatency(**net, lo);
  if (!stats.ok()) return stats.status();
  absl::StatusOr<std::vector<KernelTiming>> kernels = ProfileKernels(**net, po);
  if (!kernels.ok()) return kernels.status();
  MeasuredNet m;
  m.sample.measured_ms = stats->median_ms;
  for (const KernelTiming& k : *kernels) {
    m.sample.kernels.push_back({k.key, k.ms});
    m.keys.push_back(k.key);
  }
  m.flops = info->flops;
  m.cv = stats->cv;
  return m;
}

json NetsToJson(const std::vector<MeasuredNet>& nets) {
  json out = json::array();
  for (const MeasuredNet& m : nets) {
    json kernels = json::array();
    for (const KernelSample& k : m.sample.kernels) kernels.push_back({k.key, k.ms});
    out.push_back({{"measured_ms", m.sample.measured_ms},
                   {"cv", m.cv},
                   {"flops", m.flops},
                   {"kernels", std::move(kernels)}});
  }
  return out;
}

// What --save wrote. Fails with the index of a net that is not as written.
absl::StatusOr<std::vector<MeasuredNet>> NetsFromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--load: cannot read '", path, "'"));
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array())
    return absl::InvalidArgumentError(absl::StrCat("--load: '", path, "' is not a list of nets"));
  std::vector<MeasuredNet> nets;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& n = j[i];
    const auto bad =
        absl::InvalidArgumentError(absl::StrCat("--load: net ", i, " is not as --save writes it"));
    if (!n.is_object() || !n.value("measured_ms", json()).is_number() ||
        !n.value("kernels", json()).is_array())
      return bad;
    MeasuredNet m;
    m.sample.measured_ms = n["measured_ms"].get<double>();
    m.cv = n.value("cv", 0.0);
    m.flops = n.value("flops", int64_t{0});
    for (const json& k : n["kernels"]) {
      if (!k.is_array() || k.size() != 2 || !k[0].is_string() || !k[1].is_number()) return bad;
      m.sample.kernels.push_back({k[0].get<std::string>(), k[1].get<double>()});
      m.keys.push_back(k[0].get<std::string>());
    }
    nets.push_back(std::move(m));
  }
  return nets;
}

// Predictions of `p` for `test`, as relative errors; counts unseen kernels.
absl::StatusOr<ErrorReport> Evaluate(const std::string& name, const LatencyPredictor& p,
                                     const std::vector<MeasuredNet>& test, bool uncalibrated,
                                     int* unseen, int* kernels) {
  ErrorReport r{name, {}};
  for (const MeasuredNet& m : test) {
    absl::StatusOr<LatencyPrediction> pred = p.PredictKernels(m.keys);
    if (!pred.ok()) return pred.status();
    const double ms = uncalibrated ? pred->kernel_sum_ms : pred->ms;
    r.errors.push_back(ms / m.sample.measured_ms - 1);
    if (unseen) *unseen += pred->unseen;
    if (kernels) *kernels += pred->kernels;
  }
  return r;
}

// The simplest model for comparison: ms = c + m * multiply-adds, fitted on
// the training half by least squares of relative errors.
ErrorReport FlopsBaseline(const std::vector<MeasuredNet>& train,
                          const std::vector<MeasuredNet>& test) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const MeasuredNet& m : train) {
    const double x = static_cast<double>(m.flops), y = m.sample.measured_ms, w = 1 / (y * y);
    sw += w, sx += w * x, sy += w * y, sxx += w * x * x, sxy += w * x * y;
  }
  const double det = sw * sxx - sx * sx;
  const double slope = det > 0 ? (sw * sxy - sx * sy) / det : 0;
  const double intercept = (sy - slope * sx) / sw;
  ErrorReport r{"multiply-adds line (baseline)", {}};
  for (const MeasuredNet& m : test)
    r.errors.push_back((intercept + slope * m.flops) / m.sample.measured_ms - 1);
  return r;
}

void PrintRow(const json& r) {
  std::printf("  %-44s %6.1f%%  %6.1f%%  %8.1f%%  %8.1f%%  %+6.1f%%\n",
              r["name"].get<std::string>().c_str(), 100 * r["within_10pct"].get<double>(),
              100 * r["within_20pct"].get<double>(), 100 * r["median_abs_error"].get<double>(),
              100 * r["p90_abs_error"].get<double>(), 100 * r["mean_error"].get<double>());
}

}  // namespace

int RunLatencyModel(int argc, char** argv) {
  int graphs = 100, threads = 1;
  uint64_t seed = 1;
  bool as_json = false;
  std::string save, load;
  LatencyOptions lo;
  lo.repeat = 20;
  lo.min_repeat_ms = 20;
  KernelProfileOptions po;
  po.repeat = 20;
  Flags f("edgenas latency-model [--graphs N] [--threads T] [--seed S] [--json]",
          "Measures random graphs of the default mobile space (1x28x28, 10 classes) on this\n"
          "machine, whole nets (as TVM's runner does) and kernel by kernel; fits the latency\n"
          "predictor (kernel lookup table, fallback lines, calibration) on the first half and\n"
          "reports its error on the held-out second half, for device class host-cpu.");
  f.Int("graphs", &graphs, "random graphs to measure (half fit, half held out)");
  f.Int("threads", &threads, "compute threads");
  f.UInt64("seed", &seed, "seed of the graph sampler");
  f.Int("repeat", &lo.repeat, "whole-net repeats per graph");
  f.Double("min-repeat-ms", &lo.min_repeat_ms, "minimum duration of one whole-net repeat");
  f.Int("profile-repeat", &po.repeat, "profiled passes per graph (median per kernel)");
  f.Bool("json", &as_json, "print one JSON object");
  f.String("save", &save, "also write the measurements to this file (JSON)");
  f.String("load", &load, "fit and report on measurements --save wrote, measuring nothing");
  auto usage = [&](const std::string& why) {
    std::fprintf(stderr, "edgenas: %s\n\n%s", why.c_str(), f.Help().c_str());
    return 2;
  };
  if (absl::Status s = f.Parse(argc, argv, 2); !s.ok()) return usage(std::string(s.message()));
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (!f.positional().empty()) return usage("unexpected argument '" + f.positional()[0] + "'");
  if (graphs < 4 || graphs > 10000) return usage("--graphs: must be in [4, 10000]");
  if (threads < 1 || threads > 256) return usage("--threads: must be in [1, 256]");
  if (absl::Status s = ValidateLatencyOptions(lo); !s.ok()) return usage(std::string(s.message()));
  if (absl::Status s = ValidateKernelProfileOptions(po); !s.ok())
    return usage(std::string(s.message()));
  omp_set_num_threads(threads);

  const std::string load_before = LoadAverage();
  std::vector<MeasuredNet> nets;
  if (!load.empty()) {
    absl::StatusOr<std::vector<MeasuredNet>> loaded = NetsFromFile(load);
    if (!loaded.ok())
      return std::fprintf(stderr, "edgenas: %s\n", std::string(loaded.status().message()).c_str()),
             1;
    nets = *std::move(loaded);
    if (nets.size() < 4) return usage("--load: needs at least 4 nets");
  } else {
    // Distinct graphs: a repeated one would sit in both halves.
    const MobileSpace space;
    std::mt19937_64 rng(seed);
    std::vector<Graph> sampled;
    std::set<std::string> seen;
    for (int tries = 0; static_cast<int>(sampled.size()) < graphs && tries < 100 * graphs;
         ++tries) {
      Graph g = BuildGraph(space.Sample(rng), space);
      absl::StatusOr<std::string> hash = CanonicalHash(g);
      if (hash.ok() && seen.insert(*hash).second) sampled.push_back(std::move(g));
    }
    for (size_t i = 0; i < sampled.size(); ++i) {
      absl::StatusOr<MeasuredNet> m = MeasureOne(sampled[i], lo, po);
      if (!m.ok()) {
        std::fprintf(stderr, "edgenas: graph %zu: %s\n", i,
                     std::string(m.status().message()).c_str());
        return 1;
      }
      nets.push_back(*std::move(m));
      if ((i + 1) % 10 == 0)
        std::fprintf(stderr, "measured %zu/%zu graphs\n", i + 1, sampled.size());
    }
  }
  const std::string load_after = LoadAverage();
  if (!save.empty()) {
    std::ofstream out(save);
    out << NetsToJson(nets).dump() << "\n";
    if (!out) return std::fprintf(stderr, "edgenas: --save: cannot write '%s'\n", save.c_str()), 1;
  }

  const size_t half = nets.size() / 2;
  const std::vector<MeasuredNet> train(nets.begin(), nets.begin() + half),
      test(nets.begin() + half, nets.end());
  std::vector<NetSample> train_samples, all_samples;
  for (const MeasuredNet& m : nets) all_samples.push_back(m.sample);
  for (const MeasuredNet& m : train) train_samples.push_back(m.sample);
  absl::StatusOr<LatencyPredictor> own =
      LatencyPredictor::Fit(kDeviceClass, train_samples, train_samples);
  absl::StatusOr<LatencyPredictor> full =
      LatencyPredictor::Fit(kDeviceClass, all_samples, train_samples);
  for (const auto* p : {&own, &full})
    if (!p->ok())
      return std::fprintf(stderr, "edgenas: %s\n", std::string(p->status().message()).c_str()), 1;

  int unseen = 0, test_kernels = 0;
  absl::StatusOr<ErrorReport> a = Evaluate("predictor, table from the training half", *own, test,
                                           false, &unseen, &test_kernels);
  absl::StatusOr<ErrorReport> b =
      Evaluate("predictor, table from all kernels", *full, test, false, nullptr, nullptr);
  absl::StatusOr<ErrorReport> c =
      Evaluate("kernel sum, uncalibrated (training table)", *own, test, true, nullptr, nullptr);
  for (const auto* r : {&a, &b, &c})
    if (!r->ok())
      return std::fprintf(stderr, "edgenas: %s\n", std::string(r->status().message()).c_str()), 1;
  const json rows =
      json::array({a->ToJson(), b->ToJson(), c->ToJson(), FlopsBaseline(train, test).ToJson()});

  std::vector<double> measured, cvs;
  for (const MeasuredNet& m : nets) measured.push_back(m.sample.measured_ms), cvs.push_back(m.cv);
  json out{{"device_class", kDeviceClass},
           {"isa", DnnlIsaName()},
           {"threads", threads},
           {"seed", seed},
           {"graphs", nets.size()},
           {"train_graphs", train.size()},
           {"test_graphs", test.size()},
           {"measured_ms",
            {{"min", Quantile(measured, 0)},
             {"median", Quantile(measured, 0.5)},
             {"max", Quantile(measured, 1)}}},
           {"median_cv", Quantile(cvs, 0.5)},
           {"load_average",
            load.empty() ? json{{"before", load_before}, {"after", load_after}} : json()},
           {"test_kernels", test_kernels},
           {"test_kernels_not_in_training_table", unseen},
           {"calibration",
            {{"training_table", {{"scale", own->scale()}, {"offset_ms", own->offset_ms()}}},
             {"full_table", {{"scale", full->scale()}, {"offset_ms", full->offset_ms()}}}}},
           {"results", rows}};
  if (as_json) {
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  if (load.empty()) {
    std::printf("latency model for %s on this machine (%s, %d thread%s), seed %llu\n", kDeviceClass,
                DnnlIsaName().c_str(), threads, threads == 1 ? "" : "s",
                static_cast<unsigned long long>(seed));
  } else {
    std::printf("latency model for %s from the measurements in %s\n", kDeviceClass, load.c_str());
  }
  std::printf(
      "%zu distinct random graphs of the default mobile space (1x28x28, 10 classes): whole-net "
      "median\n"
      "%.3f ms (%.3f .. %.3f), median cv %.1f%%",
      nets.size(), Quantile(measured, 0.5), Quantile(measured, 0), Quantile(measured, 1),
      100 * Quantile(cvs, 0.5));
  if (load.empty())
    std::printf("; load average %s before, %s after", load_before.c_str(), load_after.c_str());
  std::printf("\n");
  std::printf("fitted on the first %zu graphs, tested on the other %zu:\n\n", train.size(),
              test.size());
  std::printf("  %-44s %7s  %7s  %9s  %9s  %7s\n", "", "<=10%", "<=20%", "median|e|", "p90|e|",
              "bias");
  for (const json& r : rows) PrintRow(r);
  std::printf("\ntest kernels not in the training table (fallback lines): %d of %d (%.1f%%)\n",
              unseen, test_kernels, test_kernels ? 100.0 * unseen / test_kernels : 0.0);
  std::printf(
      "calibration: latency = %.4f * sum %+.4f ms (training table); %.4f * sum %+.4f ms (full "
      "table)\n",
      own->scale(), own->offset_ms(), full->scale(), full->offset_ms());
  return 0;
}

}  // namespace edgenas
