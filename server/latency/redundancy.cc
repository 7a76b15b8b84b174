#include "server/latency/redundancy.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace edgenas {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

absl::StatusOr<std::map<std::string, RedundancyPolicy>> ParseRedundancy(const std::string& text) {
  std::map<std::string, RedundancyPolicy> out;
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    const std::string e(entry);
    auto bad = [&](const char* why) {
      return absl::InvalidArgumentError(absl::StrCat("--redundancy: '", e, "': ", why,
                                                     " (write CLASS=REPLICAS:TOLERANCE, e.g. rpi4=2:0.15)"));
    };
    const size_t eq = e.find('='), colon = e.find(':');
    if (eq == std::string::npos || eq == 0) return bad("no device class");
    RedundancyPolicy p;
    const std::string count = e.substr(eq + 1, colon == std::string::npos ? std::string::npos : colon - eq - 1);
    char* end = nullptr;
    long replicas = std::strtol(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || replicas < 1 || replicas > 16) return bad("replicas must be in [1, 16]");
    p.replicas = static_cast<int>(replicas);
    if (colon != std::string::npos) {
      const std::string tol = e.substr(colon + 1);
      double t = std::strtod(tol.c_str(), &end);
      if (tol.empty() || *end != '\0' || !(t > 0 && t < 1)) return bad("tolerance must be in (0, 1)");
      p.tolerance = t;
    }
    out[e.substr(0, eq)] = p;
  }
  return out;
}

Consensus Decide(const std::vector<WorkerOpinion>& opinions, const RedundancyPolicy& policy) {
  Consensus c;
  if (opinions.empty()) return c;
  std::vector<double> all;
  for (const WorkerOpinion& o : opinions) all.push_back(o.median_ms);
  const double center = Median(all);
  std::vector<double> agreeing;
  for (const WorkerOpinion& o : opinions) {
    if (std::fabs(o.median_ms - center) <= policy.tolerance * center) {
      c.agree.push_back(o.worker_id);
      agreeing.push_back(o.median_ms);
    } else {
      c.disagree.push_back(o.worker_id);
    }
  }
  c.settled = static_cast<int>(c.agree.size()) >= policy.replicas;
  if (!agreeing.empty()) c.latency_ms = Median(agreeing);
  return c;
}

}  // namespace edgenas
