#include "runtime/supernet/supernet_trainer.h"

#include <random>

#include "gtest/gtest.h"
#include "runtime/supernet/macro_space.h"

namespace edgenas {
namespace supernet {
namespace {

TEST(SupernetTrainerTest, SharedWeightsLearnFromChildrenAndScoreThemAboveChance) {
  absl::StatusOr<DatasetSplits> data = LoadNamedDataset("fashion-mnist", "", 0.1, 1, 4000);
  if (!data.ok()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  MacroSpaceConfig space;
  space.layers = 4;
  space.filters = 8;
  absl::StatusOr<ParamStore> shared = MacroSharedParams(space, 1);
  ASSERT_TRUE(shared.ok()) << shared.status();
  SupernetOptions o;
  o.batch_size = 32;
  o.schedule.base_lr = 0.05f;
  o.net_cache = 4;  // fewer than the children: some come back compiled, some not
  SupernetTrainer trainer([&](const std::vector<int>& d) { return MacroChild(space, d); }, &*shared, o);
  // Six children, drawn again and again.
  std::mt19937_64 rng(2);
  std::vector<std::vector<int>> pool;
  for (int i = 0; i < 6; ++i) {
    std::vector<int> d;
    for (int n : MacroDecisionChoices(space)) d.push_back(static_cast<int>(rng() % n));
    pool.push_back(d);
  }
  absl::StatusOr<std::vector<double>> before = trainer.Score(data->validation, data->norm, pool, 5);
  ASSERT_TRUE(before.ok()) << before.status();
  std::vector<std::vector<int>> children;
  for (int k = 0; k < 300; ++k) children.push_back(pool[rng() % pool.size()]);
  absl::StatusOr<PhaseReport> phase = trainer.Train(data->train, data->norm, children, 0, 300, 3);
  ASSERT_TRUE(phase.ok()) << phase.status();
  EXPECT_EQ(phase->steps, 300);
  absl::StatusOr<std::vector<double>> after = trainer.Score(data->validation, data->norm, pool, 5);
  ASSERT_TRUE(after.ok()) << after.status();
  double mean_before = 0, mean_after = 0;
  for (size_t i = 0; i < pool.size(); ++i) mean_before += (*before)[i] / pool.size(), mean_after += (*after)[i] / pool.size();
  RecordProperty("mean_accuracy_before", std::to_string(mean_before));
  RecordProperty("mean_accuracy_after", std::to_string(mean_after));
  EXPECT_GT(mean_after, 0.5);  // ten classes: chance is 0.1
  EXPECT_GT(mean_after, mean_before + 0.2);
  // Every child compiled at most once per stay in the cache; most steps reuse.
  EXPECT_GT(trainer.stats().reuses, trainer.stats().compiles);
  RecordProperty("compiles", std::to_string(trainer.stats().compiles));
  RecordProperty("compile_seconds", std::to_string(trainer.stats().compile_seconds));
}

}  // namespace
}  // namespace supernet
}  // namespace edgenas
