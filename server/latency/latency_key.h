// What a latency is a latency of: a graph, on a device class, at a batch
// size, thread count and precision. Measurements, settled latencies and the
// kernel-latency predictors are all keyed by it (or by its scope, for the
// predictors), so a batch-8 job never sees a batch-1 latency.
#ifndef EDGENAS_SERVER_LATENCY_LATENCY_KEY_H_
#define EDGENAS_SERVER_LATENCY_LATENCY_KEY_H_

#include <string>
#include <tuple>

#include "edgenas/v1/services.pb.h"
#include "search/api/evaluation.h"

namespace edgenas {

// Everything but the graph.
struct LatencyScope {
  std::string device_class;
  int batch = 1;
  int threads = 1;
  std::string precision = "fp32";

  // The scope a measure task asks for, on `device_class`.
  static LatencyScope Of(const v1::Task& task, const std::string& device_class);
  // The scope a job measures in, on `device_class`.
  static LatencyScope Of(const SearchSettings& settings, const std::string& device_class);
  bool operator<(const LatencyScope& o) const {
    return std::tie(device_class, batch, threads, precision) <
           std::tie(o.device_class, o.batch, o.threads, o.precision);
  }
  // "rpi4 b1 t1 fp32", for messages.
  std::string Name() const;
};

struct LatencyKey {
  std::string graph_hash;
  LatencyScope scope;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_LATENCY_LATENCY_KEY_H_
