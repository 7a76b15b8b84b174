// The coordinator's latency predictors: the kernels of every accepted
// measurement go to the kernel_latencies table, and per device class a
// LatencyPredictor (search/latency) fitted from them answers for graphs no
// device has measured. A class's predictor is kept in memory and fitted
// again as measurements with kernels arrive.
#ifndef EDGENAS_SERVER_LATENCY_LATENCY_MODELS_H_
#define EDGENAS_SERVER_LATENCY_LATENCY_MODELS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/graph.pb.h"
#include "edgenas/v1/results.pb.h"
#include "search/latency/latency_predictor.h"
#include "server/latency/latency_key.h"
#include "server/store/store.h"

namespace edgenas {

// Records the kernels of measurement row `measurement_id` inside the
// caller's transaction. Kernel times must be finite and in [0, 1 h) (else
// InvalidArgument, like the measurement's own fields). The kernels are kept
// only when their keys are exactly the kernels this coordinator's runtime
// finds in `graph` (a worker on another runtime version names them
// differently); *recorded says whether they were. No kernels: nothing to do.
absl::Status RecordKernelLatencies(Db& db, int64_t measurement_id, const std::string& device_class,
                                   const v1::Graph& graph, const v1::LatencyMeasurement& m,
                                   bool* recorded = nullptr);

// Every measurement in `scope` that has kernels, as the predictor's samples
// (a key repeated once per instance in its net), oldest first.
absl::StatusOr<std::vector<NetSample>> ReadNetSamples(Db& db, const LatencyScope& scope);

class LatencyModels {
 public:
  // A class's predictor is fitted again once `refit_every` more measurements
  // with kernels have arrived (sooner while it has few: after 1, 2, 4, ...).
  explicit LatencyModels(int refit_every) : refit_every_(refit_every < 1 ? 1 : refit_every) {}

  // The predictor of `scope`, fitted from `store`; NotFound while the scope
  // has no measurement with kernels. The predictor is shared and never
  // changes; a refit replaces it.
  absl::StatusOr<std::shared_ptr<const LatencyPredictor>> Get(Store& store,
                                                              const LatencyScope& scope);

 private:
  struct Fitted {
    std::shared_ptr<const LatencyPredictor> predictor;
    int64_t nets = 0;  // measurements with kernels it was fitted from
  };
  const int refit_every_;
  std::mutex mu_;
  std::map<LatencyScope, Fitted> by_scope_;
};

}  // namespace edgenas

#endif  // EDGENAS_SERVER_LATENCY_LATENCY_MODELS_H_
