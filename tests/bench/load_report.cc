#include "tests/bench/load_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace bench {

namespace {

// Nearest-rank percentile of `sorted` latencies in microseconds, as milliseconds.
double PercentileMs(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1] / 1000.0;
}

std::vector<uint32_t> Sorted(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void PrintRpcTable(const FleetResult& r, double seconds) {
  std::printf("%-13s %9s %9s %9s %9s %9s  %s\n", "RPC", "calls", "per s", "p50 ms", "p99 ms",
              "max ms", "errors");
  std::vector<uint32_t> all;
  for (int k = 0; k <= kRpcKinds; ++k) {
    std::string errors = k < kRpcKinds ? "" : "-";
    if (k < kRpcKinds) {
      all.insert(all.end(), r.rpcs[k].micros.begin(), r.rpcs[k].micros.end());
      for (const auto& [code, n] : r.rpcs[k].errors)
        absl::StrAppend(&errors, errors.empty() ? "" : ", ", code, " ", n);
      if (errors.empty()) errors = "0";
    }
    const std::vector<uint32_t> v = Sorted(k < kRpcKinds ? r.rpcs[k].micros : all);
    std::printf("%-13s %9zu %9.1f %9.2f %9.2f %9.2f  %s\n", k < kRpcKinds ? RpcKindName(k) : "all",
                v.size(), v.size() / seconds, PercentileMs(v, 50), PercentileMs(v, 99),
                v.empty() ? 0.0 : v.back() / 1000.0, errors.c_str());
  }
}

// The latencies of the calls that returned within [from_s, to_s), sorted.
std::vector<uint32_t> Window(const RpcStats& stats, double from_s, double to_s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < stats.micros.size(); ++i)
    if (stats.done_at_s[i] >= from_s && stats.done_at_s[i] < to_s) out.push_back(stats.micros[i]);
  return Sorted(std::move(out));
}

// How the run went over time: trials finished and the tail of each RPC, per window.
void PrintWindows(const FleetResult& r, const std::vector<TrialsAt>& samples) {
  std::printf("%-13s %9s %9s %9s %9s %9s\n", "window", "trials/s", "Report p50", "Report p99",
              "Acq. p99", "Beat p99");
  for (size_t i = 1; i < samples.size(); ++i) {
    const TrialsAt &a = samples[i - 1], &b = samples[i];
    const bool last = i + 1 == samples.size();
    const std::vector<uint32_t> reports = Window(r.rpcs[kReportResult], a.t, last ? 1e9 : b.t);
    std::printf("%4.0f-%4.0f s  %9.1f %9.2f %9.2f %9.2f %9.2f\n", a.t, b.t,
                (b.trials_done - a.trials_done) / (b.t - a.t), PercentileMs(reports, 50),
                PercentileMs(reports, 99),
                PercentileMs(Window(r.rpcs[kAcquireTask], a.t, last ? 1e9 : b.t), 99),
                PercentileMs(Window(r.rpcs[kHeartbeat], a.t, last ? 1e9 : b.t), 99));
  }
}

// Trials done at `t` seconds, interpolated between the samples around it.
double TrialsAtTime(const std::vector<TrialsAt>& samples, double t) {
  for (size_t i = 1; i < samples.size(); ++i) {
    const TrialsAt &a = samples[i - 1], &b = samples[i];
    if (t <= b.t) {
      const double f = b.t > a.t ? (t - a.t) / (b.t - a.t) : 1;
      return a.trials_done + f * (b.trials_done - a.trials_done);
    }
  }
  return samples.empty() ? 0 : samples.back().trials_done;
}

}  // namespace

void PrintLoadReport(const LoadRun& run, double report_p99_target_ms, double kept_target) {
  const FleetResult& r = run.fleet;
  const double seconds = r.seconds;
  PrintRpcTable(r, seconds);
  int64_t refused = 0;
  std::string reasons;
  for (const auto& [reason, n] : r.refused) {
    refused += n;
    absl::StrAppend(&reasons, reasons.empty() ? " (" : "; ", reason, ": ", n);
  }
  if (!reasons.empty()) reasons += ")";
  std::printf("tasks acquired: %lld train, %lld measure; empty AcquireTask: %lld\n",
              static_cast<long long>(r.train_tasks), static_cast<long long>(r.measure_tasks),
              static_cast<long long>(r.empty_acquires));
  std::printf("reports accepted: %lld (train %lld, latency %lld); not accepted: %lld%s\n",
              static_cast<long long>(r.accepted_train + r.accepted_latency),
              static_cast<long long>(r.accepted_train), static_cast<long long>(r.accepted_latency),
              static_cast<long long>(refused), reasons.c_str());
  std::printf("leases lost: %lld; heartbeats skipped (previous one still in flight): %lld\n",
              static_cast<long long>(r.lost_leases), static_cast<long long>(r.skipped_heartbeats));
  std::printf("trials completed: %lld in %.1f s (%.1f/s) over %d job%s; the last one %s\n",
              static_cast<long long>(run.trials_done), seconds, run.trials_done / seconds, run.jobs,
              run.jobs == 1 ? "" : "s", v1::JobState_Name(run.job.state()).c_str());
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  std::printf(
      "server CPU: %.1f s in %.1f s = %.1f%% of one core, %.1f%% of the machine (%ld cores)\n",
      run.server_cpu_s, seconds, 100 * run.server_cpu_s / seconds,
      100 * run.server_cpu_s / seconds / cores, cores);
  if (run.memory.ok())
    std::printf("server RSS: %.1f MiB (peak %.1f MiB)\n", run.memory->rss_kb / 1024.0,
                run.memory->peak_rss_kb / 1024.0);
  const double others = std::max(0.0, run.machine_cpu_s - run.server_cpu_s - run.client_cpu_s);
  std::printf(
      "same machine meanwhile: this load client %.1f%% of one core, other processes %.1f%% of "
      "one core\n\n",
      100 * run.client_cpu_s / seconds, 100 * others / seconds);
  PrintWindows(r, run.samples);
  const std::vector<uint32_t> reports = Sorted(r.rpcs[kReportResult].micros);
  const double p99 = PercentileMs(reports, 99);
  std::printf("target ReportResult p99 < %.0f ms: %s (p99 %.2f ms over %zu reports)\n",
              report_p99_target_ms,
              !reports.empty() && p99 < report_p99_target_ms ? "PASS" : "FAIL", p99,
              reports.size());
  if (seconds >= 120) {
    const double first = TrialsAtTime(run.samples, 60) / 60;
    const double last =
        (TrialsAtTime(run.samples, seconds) - TrialsAtTime(run.samples, seconds - 60)) / 60;
    const double kept = first > 0 ? last / first : 0;
    std::printf(
        "target last minute's trials/s >= %.0f%% of the first minute's: %s (%.1f/s, then %.1f/s: "
        "%.1f%%)\n",
        100 * kept_target, kept >= kept_target ? "PASS" : "FAIL", first, last, 100 * kept);
  }
  std::printf("\n");
}

}  // namespace bench
}  // namespace edgenas
