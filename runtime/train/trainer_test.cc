#include "runtime/train/trainer.h"

#include "gtest/gtest.h"
#include "runtime/testing/quadrants.h"

namespace edgenas {
namespace {

using testing::QuadrantsDataset;
using testing::QuadrantsNet;

DatasetSplits Splits() {
  DatasetSplits s;
  s.train = QuadrantsDataset(512, 1);
  s.validation = QuadrantsDataset(128, 2);
  s.test = QuadrantsDataset(128, 3);
  s.norm = ComputeNormalization(s.train);
  return s;
}

TEST(TrainerTest, LearnsASimpleTaskAndReportsEveryEpoch) {
  DatasetSplits data = Splits();
  ParamStore params;
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 32;
  o.schedule.base_lr = 0.05f;
  int calls = 0;
  absl::StatusOr<TrainReport> r = Train(QuadrantsNet(), &params, data, o,
                                        [&](const EpochReport& e) { EXPECT_EQ(e.epoch, ++calls); });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(r->epochs.size(), 3u);
  EXPECT_LT(r->epochs.back().train_loss, r->epochs.front().train_loss);
  EXPECT_GT(r->best_val_accuracy, 0.95);
  EXPECT_GT(r->test_accuracy, 0.95);
  EXPECT_GT(r->train_images_per_s, 0);
  // The returned weights are the best epoch's: evaluating them again agrees.
  absl::StatusOr<double> again =
      EvaluateAccuracy(QuadrantsNet(), &params, data.validation, data.norm, 50);
  ASSERT_TRUE(again.ok());
  EXPECT_DOUBLE_EQ(*again, r->best_val_accuracy);
}

TEST(TrainerTest, SameSeedSameResult) {
  DatasetSplits data = Splits();
  TrainOptions o;
  o.epochs = 1;
  o.batch_size = 16;
  ParamStore a, b;
  auto ra = Train(QuadrantsNet(), &a, data, o);
  auto rb = Train(QuadrantsNet(), &b, data, o);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(ra->epochs[0].train_loss, rb->epochs[0].train_loss);
  EXPECT_EQ(a.Find("fc/weight")->values, b.Find("fc/weight")->values);
}

TEST(TrainerTest, StopsWhenAskedAndSkipsTheTestSplit) {
  DatasetSplits data = Splits();
  TrainOptions o;
  o.epochs = 5;
  o.batch_size = 16;
  ParamStore params;
  int checks = 0;
  auto r = Train(QuadrantsNet(), &params, data, o, nullptr, [&] { return ++checks > 10; });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->epochs.size(), 1u);
  EXPECT_EQ(r->test_accuracy, -1);
}

TEST(TrainerTest, RefusesAMismatchedGraph) {
  DatasetSplits data = Splits();
  Graph g = QuadrantsNet();
  g.num_classes = 3;
  g.nodes.back().dense.units = 3;
  ParamStore params;
  auto r = Train(g, &params, data, TrainOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("classes"), absl::string_view::npos);
}

}  // namespace
}  // namespace edgenas
