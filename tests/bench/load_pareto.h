// A finished job with many synthetic trials, written straight into a
// stopped coordinator's database through the store, so GetParetoFront can
// be timed on a large job; and an exhaustive check of the front it returns.
#ifndef EDGENAS_TESTS_BENCH_LOAD_PARETO_H_
#define EDGENAS_TESTS_BENCH_LOAD_PARETO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/results.pb.h"

namespace edgenas {
namespace bench {

struct SyntheticTrial {
  std::string candidate_id;
  double accuracy = 0, latency_ms = 0;
};

struct FilledJob {
  std::string job_id;
  std::vector<SyntheticTrial> trials;  // in insertion order
  std::vector<int> front;              // indices of trials with on_front = 1
  double hypervolume = 0;
  double fill_seconds = 0;
};

// Inserts a SUCCEEDED job (a valid spec: random strategy, MNAS objective on
// `device_class`, target 1 ms) with `trials` candidates and trials. Latency is
// log-uniform in [0.05, 5] ms; accuracy lies up to 0.25 below a ceiling that
// rises with latency, so the front has a few hundred points. on_front, and
// the job's trials_done, front_size, best_reward and hypervolume, are set as
// the coordinator would. The coordinator must not be running.
absl::StatusOr<FilledJob> FillJobWithTrials(const std::string& db_path, int trials,
                                            const std::string& device_class, uint64_t seed);

// The trials no other trial dominates (of identical ones, the first), found
// by comparing every trial with the others, sorted by latency. Trying
// `try_first` as dominators first only makes it faster, not different.
std::vector<int> BruteForceFront(const std::vector<SyntheticTrial>& trials,
                                 const std::vector<int>& try_first);

// OK when `got` holds exactly the trials of `front` with latency <=
// max_latency_ms (no bound when 0), in order, with their values; otherwise
// says where they first differ.
absl::Status CompareFront(const v1::ParetoFront& got, const std::vector<SyntheticTrial>& trials,
                          const std::vector<int>& front, double max_latency_ms);

}  // namespace bench
}  // namespace edgenas

#endif  // EDGENAS_TESTS_BENCH_LOAD_PARETO_H_
