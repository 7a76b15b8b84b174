#include "search/objective/pareto.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace edgenas {

bool Dominates(const ObjectivePoint& a, const ObjectivePoint& b) {
  return a.accuracy >= b.accuracy && a.latency_ms <= b.latency_ms &&
         (a.accuracy > b.accuracy || a.latency_ms < b.latency_ms);
}

std::vector<ObjectivePoint> ParetoFront(std::vector<ObjectivePoint> points) {
  // NaN would break the strict weak ordering std::sort relies on.
  points.erase(std::remove_if(points.begin(), points.end(),
                              [](const ObjectivePoint& p) {
                                return std::isnan(p.accuracy) || std::isnan(p.latency_ms);
                              }),
               points.end());
  // Fastest first; among equal latencies the most accurate, then lowest id,
  // so the first point of every tie group is the one worth keeping.
  std::sort(points.begin(), points.end(), [](const ObjectivePoint& a, const ObjectivePoint& b) {
    if (a.latency_ms != b.latency_ms) return a.latency_ms < b.latency_ms;
    if (a.accuracy != b.accuracy) return a.accuracy > b.accuracy;
    return a.id < b.id;
  });
  // A point survives only if it beats every faster (or equally fast, earlier)
  // point on accuracy; ties on accuracy mean it is dominated or a duplicate.
  std::vector<ObjectivePoint> front;
  for (const ObjectivePoint& p : points) {
    if (front.empty() || p.accuracy > front.back().accuracy) front.push_back(p);
  }
  return front;
}

double Hypervolume2D(const std::vector<ObjectivePoint>& points, double ref_accuracy,
                     double ref_latency_ms) {
  std::vector<ObjectivePoint> inside;
  for (const ObjectivePoint& p : points) {
    if (p.accuracy > ref_accuracy && p.latency_ms < ref_latency_ms) inside.push_back(p);
  }
  // Along the front accuracy rises with latency, so the dominated region is a
  // staircase: each point adds the strip between the previous accuracy and
  // its own, spanning from its latency to the reference latency.
  double area = 0.0;
  double covered_accuracy = ref_accuracy;
  for (const ObjectivePoint& p : ParetoFront(std::move(inside))) {
    area += (p.accuracy - covered_accuracy) * (ref_latency_ms - p.latency_ms);
    covered_accuracy = p.accuracy;
  }
  return area;
}

}  // namespace edgenas
