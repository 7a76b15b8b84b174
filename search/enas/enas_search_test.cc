#include "search/enas/enas_search.h"

#include "gtest/gtest.h"

namespace edgenas {
namespace enas {
namespace {

// A supernet whose child accuracy is the share of decisions that match a
// target, a little noisy: what ENAS's loop must find.
class ToySupernet : public SupernetBackend {
 public:
  explicit ToySupernet(std::vector<int> target) : target_(std::move(target)) {}
  int64_t StepsPerEpoch() const override { return 10; }
  absl::StatusOr<supernet::PhaseReport> Train(const std::vector<std::vector<int>>& children,
                                              int64_t first_step, int64_t total_steps,
                                              uint64_t) override {
    trained += children.size();
    last_first_step = first_step;
    last_total_steps = total_steps;
    supernet::PhaseReport r;
    r.steps = static_cast<int>(children.size());
    return r;
  }
  absl::StatusOr<std::vector<double>> Score(const std::vector<std::vector<int>>& children,
                                            uint64_t seed) override {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0, 0.02);
    std::vector<double> out;
    for (const auto& c : children) {
      double right = 0;
      for (size_t i = 0; i < c.size(); ++i) right += c[i] == target_[i];
      out.push_back(right / c.size() + noise(rng));
    }
    return out;
  }
  size_t trained = 0;
  int64_t last_first_step = -1, last_total_steps = -1;

 private:
  std::vector<int> target_;
};

EnasSearchParams FastParams() {
  EnasSearchParams p;
  p.epochs = 30;
  p.controller_steps = 10;
  p.controller_batch = 10;
  p.derive_samples = 20;
  p.controller.hidden = 16;
  p.controller.learning_rate = 0.02;
  return p;
}

const RewardFunction kAccuracy = [](const std::vector<int>&, double a) -> absl::StatusOr<double> { return a; };

TEST(EnasSearchTest, TheControllerFindsTheBestChildThroughTheLoop) {
  const std::vector<int> choices = {6, 6, 2, 6, 2, 2, 6, 2, 2, 2};
  const std::vector<int> target = {4, 1, 1, 2, 0, 1, 5, 1, 0, 1};
  ToySupernet backend(target);
  EnasSearch search(choices, FastParams(), 7);
  double first_reward = 0, last_reward = 0, first_entropy = 0, last_entropy = 0;
  for (int e = 0; e < 30; ++e) {
    absl::StatusOr<EpochReport> r = search.RunEpoch(backend, kAccuracy);
    ASSERT_TRUE(r.ok()) << r.status();
    if (e == 0) first_reward = r->mean_reward, first_entropy = r->controller_entropy;
    last_reward = r->mean_reward;
    last_entropy = r->controller_entropy;
  }
  EXPECT_EQ(backend.trained, 300u);
  EXPECT_EQ(backend.last_first_step, 290);  // the schedule runs over all epochs
  EXPECT_EQ(backend.last_total_steps, 300);
  EXPECT_GT(last_reward, first_reward + 0.3);
  EXPECT_LT(last_entropy, first_entropy);
  absl::StatusOr<std::vector<int>> derived = search.Derive(backend, kAccuracy);
  ASSERT_TRUE(derived.ok()) << derived.status();
  int right = 0;
  for (size_t i = 0; i < target.size(); ++i) right += (*derived)[i] == target[i];
  EXPECT_GE(right, 9);
}

TEST(EnasSearchTest, ARestoredSearchContinuesIdentically) {
  const std::vector<int> choices = {3, 2, 3, 2};
  const std::vector<int> target = {2, 1, 0, 1};
  ToySupernet a(target), b(target);
  EnasSearch whole(choices, FastParams(), 9), first(choices, FastParams(), 9);
  for (int e = 0; e < 3; ++e) {
    ASSERT_TRUE(whole.RunEpoch(a, kAccuracy).ok());
    ASSERT_TRUE(first.RunEpoch(b, kAccuracy).ok());
  }
  EnasSearch resumed(choices, FastParams(), 1234);
  ASSERT_TRUE(resumed.Restore(first.StateJson(), first.ControllerBytes()).ok());
  EXPECT_EQ(resumed.epochs_done(), 3);
  for (int e = 0; e < 3; ++e) {
    absl::StatusOr<EpochReport> x = whole.RunEpoch(a, kAccuracy), y = resumed.RunEpoch(b, kAccuracy);
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(x->mean_reward, y->mean_reward);
    EXPECT_EQ(x->best_child, y->best_child);
  }
  EXPECT_FALSE(resumed.Restore({{"epoch", 99}, {"rng", "x"}}, first.ControllerBytes()).ok());
}

}  // namespace
}  // namespace enas
}  // namespace edgenas
