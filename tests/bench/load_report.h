// The report of a coordinator_load run: latency percentiles per RPC kind,
// the run over time, accepted work, and what the server and the machine spent.
#ifndef EDGENAS_TESTS_BENCH_LOAD_REPORT_H_
#define EDGENAS_TESTS_BENCH_LOAD_REPORT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "tests/bench/load_fleet.h"
#include "tests/bench/load_server_process.h"

namespace edgenas {
namespace bench {

struct TrialsAt {
  double t;  // seconds since the fleet started
  int64_t trials_done;  // over all the run's jobs
};

// What one run of the fleet measured.
struct LoadRun {
  FleetResult fleet;
  std::vector<TrialsAt> samples;  // trials_done over time, the last one after the fleet stopped
  v1::Job job;                    // the last job, after the fleet stopped
  int jobs = 0;                   // submitted, one after the other
  int64_t trials_done = 0;        // over all of them
  double server_cpu_s = 0, client_cpu_s = 0, machine_cpu_s = 0;
  absl::StatusOr<ProcessMemory> memory = ProcessMemory{};
};

// Prints the tables and figures of `run`, then PASS or FAIL for its
// ReportResult p99 against the target and, for a run of at least two
// minutes, for its last minute's trials/s against `kept_target` times the
// first minute's.
void PrintLoadReport(const LoadRun& run, double report_p99_target_ms, double kept_target);

}  // namespace bench
}  // namespace edgenas

#endif  // EDGENAS_TESTS_BENCH_LOAD_REPORT_H_
