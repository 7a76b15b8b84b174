// Pareto sets of (accuracy up, latency down), the answer a user asks for
// per device class, and the 2-D hypervolume that scores a whole front.
#ifndef EDGENAS_SEARCH_OBJECTIVE_PARETO_H_
#define EDGENAS_SEARCH_OBJECTIVE_PARETO_H_

#include <cstdint>
#include <vector>

namespace edgenas {

struct ObjectivePoint {
  double accuracy = 0.0;    // higher is better
  double latency_ms = 0.0;  // lower is better
  int64_t id = 0;           // the caller's handle (a candidate or trial id)
};

// True when a is at least as good as b in both objectives and better in one.
bool Dominates(const ObjectivePoint& a, const ObjectivePoint& b);

// The non-dominated subset of points, sorted by latency ascending (so
// accuracy is strictly ascending too). Of identical (accuracy, latency)
// points only the one with the lowest id is kept, so the answer does not
// depend on input order. Points with a NaN objective are dropped: they
// cannot be compared. O(n log n).
std::vector<ObjectivePoint> ParetoFront(std::vector<ObjectivePoint> points);

// Area of the region dominated by points and bounded by the reference point:
// accuracy in [ref_accuracy, point accuracy], latency in [point latency,
// ref_latency_ms]. Points need not form a front (dominated ones add nothing);
// points outside the reference box add nothing. O(n log n).
double Hypervolume2D(const std::vector<ObjectivePoint>& points, double ref_accuracy,
                     double ref_latency_ms);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_OBJECTIVE_PARETO_H_
