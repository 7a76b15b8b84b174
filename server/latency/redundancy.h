// Homogeneous redundancy, as BOINC does it: per device class, how many
// distinct workers must measure a graph and how closely they must agree.
// A worker that keeps disagreeing with its class is flagged; its results
// stop counting and the trials it touched are measured again.
#ifndef EDGENAS_SERVER_LATENCY_REDUNDANCY_H_
#define EDGENAS_SERVER_LATENCY_REDUNDANCY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace edgenas {

struct RedundancyPolicy {
  int replicas = 1;         // distinct workers per graph
  double tolerance = 0.15;  // relative distance from the consensus that still agrees
  int flag_after = 3;       // disagreements (outnumbering agreements) before a worker is flagged
};

// "rpi4=2:0.15,pixel7=3:0.1" -> per class policies; an error names the bad entry.
absl::StatusOr<std::map<std::string, RedundancyPolicy>> ParseRedundancy(const std::string& text);

struct WorkerOpinion {
  std::string worker_id;
  double median_ms = 0;
};

struct Consensus {
  bool settled = false;    // at least `replicas` workers agree
  double latency_ms = 0;   // the median of the agreeing opinions
  std::vector<std::string> agree, disagree;
};

// One opinion per worker. The consensus is the median of all opinions; an
// opinion agrees when within `tolerance` of it.
Consensus Decide(const std::vector<WorkerOpinion>& opinions, const RedundancyPolicy& policy);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_LATENCY_REDUNDANCY_H_
