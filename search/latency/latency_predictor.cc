#include "search/latency/latency_predictor.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/bench/kernel_key.h"
#include "runtime/bench/kernel_profile.h"
#include "search/api/json_params.h"

namespace edgenas {
namespace {

constexpr char kAnyOp[] = "*";
// A line of a family is trusted from this many table entries on; below it
// the op's line (then any op's) stands in.
constexpr int kMinLineEntries = 2;
// Weights are 1 / (y + kFloorMs)^2: a kernel timed at 0 ms (a flatten that
// moves nothing) must not weigh infinitely.
constexpr double kFloorMs = 1e-4;
constexpr double kMaxMs = 3.6e6;

struct Point {
  double x = 0, y = 0;
};

double Weight(double y) { return 1.0 / ((y + kFloorMs) * (y + kFloorMs)); }

struct Fitted {
  double intercept = 0, slope = 0;
};

// Weighted least squares of y = intercept + slope * x; nullopt when x does
// not vary (then only a line through the origin or a constant is defined).
std::optional<Fitted> FitLine(const std::vector<Point>& points) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const Point& p : points) {
    const double w = Weight(p.y);
    sw += w, sx += w * p.x, sy += w * p.y, sxx += w * p.x * p.x, sxy += w * p.x * p.y;
  }
  const double det = sw * sxx - sx * sx;
  if (points.size() < 2 || !(det > 1e-12 * sw * sxx)) return std::nullopt;
  Fitted f;
  f.slope = (sw * sxy - sx * sy) / det;
  f.intercept = (sy - f.slope * sx) / sw;
  if (!std::isfinite(f.slope) || !std::isfinite(f.intercept)) return std::nullopt;
  return f;
}

// The slope of y = slope * x (weighted), or nullopt when every x is 0.
std::optional<double> FitThroughOrigin(const std::vector<Point>& points) {
  double sxx = 0, sxy = 0;
  for (const Point& p : points) {
    const double w = Weight(p.y);
    sxx += w * p.x * p.x, sxy += w * p.x * p.y;
  }
  if (!(sxx > 0)) return std::nullopt;
  return sxy / sxx;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

absl::Status CheckSamples(const std::vector<NetSample>& nets, const char* which, bool need_net_ms) {
  for (size_t i = 0; i < nets.size(); ++i) {
    const NetSample& n = nets[i];
    if (need_net_ms && !(n.measured_ms > 0 && n.measured_ms < kMaxMs))
      return absl::InvalidArgumentError(
          absl::StrCat(which, "[", i, "].measured_ms: must be in (0, 1 h), got ", n.measured_ms));
    for (const KernelSample& k : n.kernels) {
      if (!(k.ms >= 0 && k.ms < kMaxMs))
        return absl::InvalidArgumentError(absl::StrCat(which, "[", i, "]: kernel '", k.key,
                                                       "' has ms ", k.ms, ", not in [0, 1 h)"));
      if (absl::StatusOr<KernelFeatures> f = ParseKernelKey(k.key); !f.ok()) return f.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LatencyPredictor> LatencyPredictor::Fit(
    const std::string& device_class, const std::vector<NetSample>& table_nets,
    const std::vector<NetSample>& calibration_nets) {
  if (absl::Status s = CheckSamples(table_nets, "table_nets", false); !s.ok()) return s;
  if (absl::Status s = CheckSamples(calibration_nets, "calibration_nets", true); !s.ok()) return s;
  std::map<std::string, std::vector<double>> samples;
  for (const NetSample& n : table_nets)
    for (const KernelSample& k : n.kernels) samples[k.key].push_back(k.ms);
  if (samples.empty())
    return absl::FailedPreconditionError(absl::StrCat("no kernel latencies for '", device_class,
                                                      "': nothing to build a table from"));

  LatencyPredictor p;
  p.device_class_ = device_class;
  for (auto& [key, ms] : samples) p.table_[key] = Entry{Median(ms), static_cast<int>(ms.size())};
  p.FitFallbacks();

  std::vector<Point> pairs;
  for (const NetSample& n : calibration_nets) {
    double sum = 0;
    for (const KernelSample& k : n.kernels) {
      absl::StatusOr<double> ms = p.KernelMs(k.key);
      if (!ms.ok()) return ms.status();
      sum += *ms;
    }
    if (sum > 0) pairs.push_back({sum, n.measured_ms});
  }
  p.calibration_nets_ = static_cast<int>(pairs.size());
  if (std::optional<Fitted> f = FitLine(pairs); f && f->slope > 0) {
    p.scale_ = f->slope;
    p.offset_ms_ = f->intercept;
  } else if (std::optional<double> s = FitThroughOrigin(pairs); s && *s > 0) {
    p.scale_ = *s;
  }
  return p;
}

void LatencyPredictor::FitFallbacks() {
  std::map<std::string, std::vector<Point>> groups;
  for (const auto& [key, entry] : table_) {
    absl::StatusOr<KernelFeatures> f = ParseKernelKey(key);
    if (!f.ok()) continue;  // Fit checked every key; FromJson's table keys are only looked up
    const Point p{f->work(), entry.ms};
    groups[f->family].push_back(p);
    if (f->op != f->family) groups[f->op].push_back(p);
    groups[kAnyOp].push_back(p);
  }
  fallback_.clear();
  for (const auto& [group, points] : groups) {
    Line line;
    line.entries = static_cast<int>(points.size());
    if (std::optional<Fitted> f = FitLine(points); f && f->slope >= 0 && f->intercept >= 0) {
      line.constant_ms = f->intercept;
      line.ms_per_work = f->slope;
    } else if (std::optional<double> s = FitThroughOrigin(points); s && *s >= 0) {
      line.ms_per_work = *s;
    } else {
      // A constant: the weighted mean, sum(w y) / sum(w).
      double sw = 0, swy = 0;
      for (const Point& p : points) sw += Weight(p.y), swy += Weight(p.y) * p.y;
      line.constant_ms = swy / sw;
    }
    fallback_[group] = line;
  }
}

std::optional<double> LatencyPredictor::TableMs(const std::string& key) const {
  auto it = table_.find(key);
  if (it == table_.end()) return std::nullopt;
  return it->second.ms;
}

absl::StatusOr<double> LatencyPredictor::KernelMs(const std::string& key, bool* unseen) const {
  if (unseen) *unseen = false;
  if (std::optional<double> ms = TableMs(key)) return *ms;
  absl::StatusOr<KernelFeatures> f = ParseKernelKey(key);
  if (!f.ok()) return f.status();
  const Line* line = nullptr;
  for (const std::string& group : {f->family, f->op, std::string(kAnyOp)}) {
    auto it = fallback_.find(group);
    if (it == fallback_.end()) continue;
    if (line == nullptr) line = &it->second;  // the most specific there is
    if (it->second.entries >= kMinLineEntries) {
      line = &it->second;
      break;
    }
  }
  if (line == nullptr)
    return absl::NotFoundError(
        absl::StrCat("no kernel latencies for '", device_class_, "' to estimate '", key, "' from"));
  if (unseen) *unseen = true;
  return std::max(0.0, line->constant_ms + line->ms_per_work * f->work());
}

absl::StatusOr<LatencyPrediction> LatencyPredictor::PredictKernels(
    const std::vector<std::string>& keys) const {
  LatencyPrediction p;
  for (const std::string& key : keys) {
    bool unseen = false;
    absl::StatusOr<double> ms = KernelMs(key, &unseen);
    if (!ms.ok()) return ms.status();
    p.kernel_sum_ms += *ms;
    p.unseen += unseen;
    ++p.kernels;
  }
  p.ms = scale_ * p.kernel_sum_ms + offset_ms_;
  // A negative offset can undercut a very small net: the sum is the better guess there.
  if (!(p.ms > 0)) p.ms = p.kernel_sum_ms;
  return p;
}

absl::StatusOr<double> LatencyPredictor::Predict(const Graph& graph) const {
  absl::StatusOr<std::vector<std::string>> keys = InferenceKernelKeys(graph);
  if (!keys.ok()) return keys.status();
  absl::StatusOr<LatencyPrediction> p = PredictKernels(*keys);
  if (!p.ok()) return p.status();
  return p->ms;
}

nlohmann::json LatencyPredictor::ToJson() const {
  nlohmann::json table = nlohmann::json::array(), fallback = nlohmann::json::array();
  for (const auto& [key, e] : table_)
    table.push_back({{"key", key}, {"ms", e.ms}, {"samples", e.samples}});
  for (const auto& [group, l] : fallback_)
    fallback.push_back({{"group", group},
                        {"constant_ms", l.constant_ms},
                        {"ms_per_work", l.ms_per_work},
                        {"entries", l.entries}});
  return nlohmann::json{
      {"device_class", device_class_},
      {"table", std::move(table)},
      {"fallback", std::move(fallback)},
      {"calibration", {{"scale", scale_}, {"offset_ms", offset_ms_}, {"nets", calibration_nets_}}}};
}

absl::StatusOr<LatencyPredictor> LatencyPredictor::FromJson(const nlohmann::json& value) {
  LatencyPredictor p;
  JsonParams top(value, "predictor");
  if (absl::Status s = top.CheckObject(); !s.ok()) return s;
  const nlohmann::json *table = nullptr, *fallback = nullptr, *calibration = nullptr;
  for (const char* key : {"device_class", "table", "fallback", "calibration"})
    if (absl::Status s = top.Require(key); !s.ok()) return s;
  if (absl::Status s = top.String("device_class", &p.device_class_); !s.ok()) return s;
  top.Object("table", &table).IgnoreError();
  top.Object("fallback", &fallback).IgnoreError();
  top.Object("calibration", &calibration).IgnoreError();
  if (absl::Status s = top.Finish(); !s.ok()) return s;
  if (!table->is_array() || table->empty())
    return absl::InvalidArgumentError("predictor.table: must be a non-empty list");
  if (!fallback->is_array())
    return absl::InvalidArgumentError("predictor.fallback: must be a list");

  for (size_t i = 0; i < table->size(); ++i) {
    JsonParams e((*table)[i], absl::StrCat("predictor.table[", i, "]"));
    std::string key;
    Entry entry;
    if (absl::Status s = e.CheckObject(); !s.ok()) return s;
    for (const char* k : {"key", "ms", "samples"})
      if (absl::Status s = e.Require(k); !s.ok()) return s;
    for (absl::Status s : {e.String("key", &key), e.Double("ms", 0, kMaxMs, &entry.ms),
                           e.Int("samples", 1, 1 << 30, &entry.samples), e.Finish()})
      if (!s.ok()) return s;
    if (!p.table_.emplace(key, entry).second)
      return absl::InvalidArgumentError(
          absl::StrCat(e.Field("key"), ": '", key, "' is listed twice"));
  }
  for (size_t i = 0; i < fallback->size(); ++i) {
    JsonParams e((*fallback)[i], absl::StrCat("predictor.fallback[", i, "]"));
    std::string group;
    Line line;
    if (absl::Status s = e.CheckObject(); !s.ok()) return s;
    for (const char* k : {"group", "constant_ms", "ms_per_work", "entries"})
      if (absl::Status s = e.Require(k); !s.ok()) return s;
    for (absl::Status s :
         {e.String("group", &group), e.Double("constant_ms", 0, kMaxMs, &line.constant_ms),
          e.Double("ms_per_work", 0, kMaxMs, &line.ms_per_work),
          e.Int("entries", 1, 1 << 30, &line.entries), e.Finish()})
      if (!s.ok()) return s;
    if (!p.fallback_.emplace(group, line).second)
      return absl::InvalidArgumentError(
          absl::StrCat(e.Field("group"), ": '", group, "' is listed twice"));
  }
  JsonParams c(*calibration, "predictor.calibration");
  if (absl::Status s = c.CheckObject(); !s.ok()) return s;
  for (const char* k : {"scale", "offset_ms", "nets"})
    if (absl::Status s = c.Require(k); !s.ok()) return s;
  for (absl::Status s : {c.Double("scale", 1e-9, 1e9, &p.scale_),
                         c.Double("offset_ms", -kMaxMs, kMaxMs, &p.offset_ms_),
                         c.Int("nets", 0, 1 << 30, &p.calibration_nets_), c.Finish()})
    if (!s.ok()) return s;
  return p;
}

}  // namespace edgenas
