#include "server/latency/latency_key.h"

#include "absl/strings/str_cat.h"

namespace edgenas {

LatencyScope LatencyScope::Of(const v1::Task& task, const std::string& device_class) {
  LatencyScope s;
  s.device_class = device_class;
  const v1::LatencySpec& l = task.measure().latency();
  s.batch = l.batch() > 0 ? l.batch() : 1;
  s.threads = l.threads() > 0 ? l.threads() : 1;
  if (!task.measure().precision().empty()) s.precision = task.measure().precision();
  return s;
}

LatencyScope LatencyScope::Of(const SearchSettings& settings, const std::string& device_class) {
  return LatencyScope{device_class, settings.latency.batch, settings.latency.threads,
                      settings.latency.precision};
}

std::string LatencyScope::Name() const {
  return absl::StrCat(device_class, " b", batch, " t", threads, " ", precision);
}

}  // namespace edgenas
