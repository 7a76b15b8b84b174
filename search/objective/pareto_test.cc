#include "search/objective/pareto.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

std::vector<int64_t> Ids(const std::vector<ObjectivePoint>& points) {
  std::vector<int64_t> ids;
  for (const ObjectivePoint& p : points) ids.push_back(p.id);
  return ids;
}

// The definition, checked pair by pair: a point is on the front when nothing
// dominates it and no identical point has a lower id.
std::vector<ObjectivePoint> BruteForceFront(const std::vector<ObjectivePoint>& points) {
  std::vector<ObjectivePoint> front;
  for (const ObjectivePoint& p : points) {
    bool keep = true;
    for (const ObjectivePoint& q : points) {
      const bool identical = q.accuracy == p.accuracy && q.latency_ms == p.latency_ms;
      if (Dominates(q, p) || (identical && q.id < p.id)) {
        keep = false;
        break;
      }
    }
    if (keep) front.push_back(p);
  }
  std::sort(front.begin(), front.end(), [](const ObjectivePoint& a, const ObjectivePoint& b) {
    return a.latency_ms < b.latency_ms;
  });
  return front;
}

// Coarse grids force ties in latency, in accuracy and exact duplicates.
std::vector<ObjectivePoint> RandomPoints(uint32_t seed, int n, int grid) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // A grid cell in [0, grid); for grid 0 the raw unit value.
  const auto draw = [&] { return grid > 0 ? std::floor(unit(rng) * grid) : unit(rng); };
  std::vector<ObjectivePoint> points;
  for (int i = 0; i < n; ++i) {
    ObjectivePoint p;
    p.accuracy = grid > 0 ? draw() / grid : draw();
    p.latency_ms = grid > 0 ? 1.0 + draw() : 1.0 + 99.0 * draw();
    p.id = 1000 + (i * 7919) % n;  // distinct ids, not in input order
    points.push_back(p);
  }
  return points;
}

TEST(DominatesTest, NeedsOneStrictImprovement) {
  const ObjectivePoint a{0.9, 10.0, 1};
  EXPECT_TRUE(Dominates(a, {0.8, 10.0, 2}));
  EXPECT_TRUE(Dominates(a, {0.9, 11.0, 2}));
  EXPECT_TRUE(Dominates(a, {0.8, 11.0, 2}));
  EXPECT_FALSE(Dominates(a, {0.9, 10.0, 2}));   // identical objectives
  EXPECT_FALSE(Dominates(a, {0.95, 11.0, 2}));  // a trade-off
  EXPECT_FALSE(Dominates(a, {0.8, 9.0, 2}));
}

TEST(ParetoFrontTest, HandMadeSetWithTies) {
  const std::vector<ObjectivePoint> points = {
      {0.70, 20.0, 5},  // dominated by id 3: same latency, less accurate
      {0.80, 20.0, 3},  // front
      {0.80, 25.0, 9},  // dominated by id 3: same accuracy, slower
      {0.60, 10.0, 8},  // identical to id 2, higher id: dropped
      {0.60, 10.0, 2},  // front
      {0.90, 40.0, 7},  // front
      {0.50, 30.0, 4},  // dominated by id 3
  };
  const std::vector<ObjectivePoint> front = ParetoFront(points);
  EXPECT_EQ(Ids(front), (std::vector<int64_t>{2, 3, 7}));
  EXPECT_EQ(front[1].accuracy, 0.80);
  EXPECT_EQ(front[1].latency_ms, 20.0);
}

TEST(ParetoFrontTest, EmptyAndNanInputs) {
  EXPECT_TRUE(ParetoFront({}).empty());
  const double kNan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<ObjectivePoint> front =
      ParetoFront({{kNan, 1.0, 1}, {0.5, kNan, 2}, {0.4, 5.0, 3}});
  EXPECT_EQ(Ids(front), (std::vector<int64_t>{3}));
}

TEST(ParetoFrontTest, IndependentOfInputOrder) {
  std::vector<ObjectivePoint> points = RandomPoints(7, 300, 12);
  const std::vector<int64_t> expected = Ids(ParetoFront(points));
  std::mt19937 rng(11);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(points.begin(), points.end(), rng);
    EXPECT_EQ(Ids(ParetoFront(points)), expected);
  }
}

TEST(ParetoFrontTest, AgreesWithBruteForceOnRandomSets) {
  // grid 0 = continuous values; small grids = many ties and duplicates.
  for (int grid : {0, 10, 40}) {
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      const std::vector<ObjectivePoint> points = RandomPoints(seed, 1000, grid);
      const std::vector<ObjectivePoint> front = ParetoFront(points);
      EXPECT_EQ(Ids(front), Ids(BruteForceFront(points))) << "grid " << grid << " seed " << seed;
      ASSERT_FALSE(front.empty());
      for (size_t i = 1; i < front.size(); ++i) {
        EXPECT_LT(front[i - 1].latency_ms, front[i].latency_ms);
        EXPECT_LT(front[i - 1].accuracy, front[i].accuracy);
      }
    }
  }
}

TEST(Hypervolume2DTest, OnePoint) {
  EXPECT_DOUBLE_EQ(Hypervolume2D({{0.8, 10.0, 1}}, 0.0, 100.0), 0.8 * 90.0);
  EXPECT_DOUBLE_EQ(Hypervolume2D({{0.8, 10.0, 1}}, 0.5, 20.0), 0.3 * 10.0);
  EXPECT_EQ(Hypervolume2D({}, 0.0, 100.0), 0.0);
}

TEST(Hypervolume2DTest, ThreePointStaircase) {
  const std::vector<ObjectivePoint> front = {{0.5, 10.0, 1}, {0.7, 20.0, 2}, {0.9, 40.0, 3}};
  // Strips from the reference accuracy 0.3 up: 0.2*40 + 0.2*30 + 0.2*10.
  EXPECT_NEAR(Hypervolume2D(front, 0.3, 50.0), 16.0, 1e-12);
  // Input order and dominated extras do not matter.
  const std::vector<ObjectivePoint> messy = {
      {0.9, 40.0, 3}, {0.6, 30.0, 4}, {0.5, 10.0, 1}, {0.7, 20.0, 2}, {0.5, 10.0, 5}};
  EXPECT_NEAR(Hypervolume2D(messy, 0.3, 50.0), 16.0, 1e-12);
}

TEST(Hypervolume2DTest, PointsOutsideTheReferenceBoxAddNothing) {
  std::vector<ObjectivePoint> front = {{0.5, 10.0, 1}, {0.7, 20.0, 2}, {0.9, 40.0, 3}};
  front.push_back({0.99, 60.0, 4});  // slower than the reference latency
  front.push_back({0.20, 1.0, 5});   // less accurate than the reference accuracy
  front.push_back({0.95, 50.0, 6});  // on the latency bound: zero width
  front.push_back({0.30, 2.0, 7});   // on the accuracy bound: zero height
  EXPECT_NEAR(Hypervolume2D(front, 0.3, 50.0), 16.0, 1e-12);
  EXPECT_EQ(Hypervolume2D({{0.99, 60.0, 1}, {0.1, 1.0, 2}}, 0.3, 50.0), 0.0);
}

TEST(Hypervolume2DTest, MonotoneUnderAddedPoints) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<ObjectivePoint> points = RandomPoints(100 + trial, 20, 0);
    const std::vector<ObjectivePoint> front = ParetoFront(points);
    const double before = Hypervolume2D(points, 0.0, 100.0);
    ASSERT_GT(before, 0.0);

    // A point dominated by a front member changes nothing.
    const ObjectivePoint& anchor = front[trial % front.size()];
    std::vector<ObjectivePoint> with_dominated = points;
    with_dominated.push_back({anchor.accuracy * unit(rng), anchor.latency_ms + 1.0, -1});
    EXPECT_EQ(Hypervolume2D(with_dominated, 0.0, 100.0), before);

    // A point strictly better than a front member in both objectives (hence
    // undominated by it and inside the box) adds area.
    std::vector<ObjectivePoint> with_better = points;
    with_better.push_back({anchor.accuracy + 0.01, anchor.latency_ms * 0.9, -2});
    EXPECT_GT(Hypervolume2D(with_better, 0.0, 100.0), before);

    // A trade-off point in the gap between two neighbours on the front is
    // dominated by neither, and fills part of the step between them.
    if (front.size() >= 2) {
      const ObjectivePoint& lo = front[trial % (front.size() - 1)];
      const ObjectivePoint& hi = front[trial % (front.size() - 1) + 1];
      std::vector<ObjectivePoint> with_gap = points;
      with_gap.push_back(
          {(lo.accuracy + hi.accuracy) / 2, (lo.latency_ms + hi.latency_ms) / 2, -3});
      ASSERT_EQ(ParetoFront(with_gap).size(), front.size() + 1);
      EXPECT_GT(Hypervolume2D(with_gap, 0.0, 100.0), before);
    }
  }
}

}  // namespace
}  // namespace edgenas
