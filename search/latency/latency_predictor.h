// Predicting a graph's latency on a device class without measuring it:
// Once-for-All's lookup table of measured kernels summed over the graph,
// with nn-Meter's unit of prediction, the kernel as the device runs it
// (a conv with its folded batch norm and fused activation is one kernel;
// see runtime/bench/kernel_profile.h).
//
//   kernel ms  = table[key]: the median of that kernel's samples, or, for a
//                key never measured, a line fitted over the table's entries
//                of its family (then of its op, then of any op):
//                constant_ms + ms_per_work * work (work: multiply-adds, or
//                elements read for ops without them)
//   latency    = scale * sum(kernel ms) + offset_ms, with scale and offset
//                fitted by least squares against whole-net measurements,
//                which the sum misses a little of (steps outside kernels,
//                caches warm in one order and cold in another)
//
// Every least-squares fit weighs relative errors (weights 1 / y^2): a 10%
// miss on a small kernel or net counts as much as one on a large one.
//
// Pure: no I/O. One predictor per device class; the caller keeps them.
#ifndef EDGENAS_SEARCH_LATENCY_LATENCY_PREDICTOR_H_
#define EDGENAS_SEARCH_LATENCY_LATENCY_PREDICTOR_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/graph.h"

namespace edgenas {

struct KernelSample {
  std::string key;  // a runtime kernel key
  double ms = 0;
};

// One whole-net measurement with the kernel profile taken on the same net.
struct NetSample {
  std::vector<KernelSample> kernels;  // every kernel of the net; a key once per instance
  double measured_ms = 0;             // the whole net's median
};

struct LatencyPrediction {
  double ms = 0;             // calibrated
  double kernel_sum_ms = 0;  // before calibration
  int kernels = 0;
  int unseen = 0;  // kernels not in the table, estimated by a fallback line
};

class LatencyPredictor {
 public:
  // The table from every kernel sample of `table_nets` (median per key), the
  // fallback lines from the table, and the calibration from
  // `calibration_nets` (their kernels summed through the table and its
  // fallbacks, against their measured_ms). Needs at least one kernel sample;
  // samples must be finite and >= 0, measurements > 0. With one usable
  // calibration net the scale goes through the origin; with none it is 1.
  static absl::StatusOr<LatencyPredictor> Fit(const std::string& device_class,
                                              const std::vector<NetSample>& table_nets,
                                              const std::vector<NetSample>& calibration_nets);
  // The same nets for both.
  static absl::StatusOr<LatencyPredictor> Fit(const std::string& device_class,
                                              const std::vector<NetSample>& nets) {
    return Fit(device_class, nets, nets);
  }

  // The latency of `graph` in ms; an invalid graph is an error from
  // AnalyzeGraph.
  absl::StatusOr<double> Predict(const Graph& graph) const;
  // The latency of a net made of these kernels, with what went into it.
  // InvalidArgument for a key that does not parse.
  absl::StatusOr<LatencyPrediction> PredictKernels(const std::vector<std::string>& keys) const;
  // One kernel's ms: the table's, or its fallback line's (then *unseen is true).
  absl::StatusOr<double> KernelMs(const std::string& key, bool* unseen = nullptr) const;

  const std::string& device_class() const { return device_class_; }
  double scale() const { return scale_; }
  double offset_ms() const { return offset_ms_; }
  int calibration_nets() const { return calibration_nets_; }
  size_t table_size() const { return table_.size(); }
  // The table's entry, or nullopt for a key never measured.
  std::optional<double> TableMs(const std::string& key) const;

  // Everything fitted, so a predictor can be cached and read back exactly.
  nlohmann::json ToJson() const;
  static absl::StatusOr<LatencyPredictor> FromJson(const nlohmann::json& value);

 private:
  struct Entry {
    double ms = 0;
    int samples = 0;
  };
  // ms = constant_ms + ms_per_work * work, for one family, op or "*".
  struct Line {
    double constant_ms = 0, ms_per_work = 0;
    int entries = 0;
  };
  void FitFallbacks();

  std::string device_class_;
  std::map<std::string, Entry> table_;
  std::map<std::string, Line> fallback_;  // by KernelFeatures family, by op, and "*"
  double scale_ = 1, offset_ms_ = 0;
  int calibration_nets_ = 0;
};

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_LATENCY_LATENCY_PREDICTOR_H_
