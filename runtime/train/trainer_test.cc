#include "runtime/train/trainer.h"

#include <random>

#include "gtest/gtest.h"
#include "runtime/graph/blocks.h"

namespace edgenas {
namespace {

// Four classes: a bright 4x4 square in one quadrant of an 8x8 image, on noise.
Dataset Quadrants(int n, uint64_t seed) {
  Dataset d;
  d.channels = 1, d.height = 8, d.width = 8, d.num_classes = 4;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % 4);
    d.labels.push_back(static_cast<uint8_t>(label));
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) {
        const bool on = (y / 4) * 2 + (x / 4) == label;
        d.images.push_back(static_cast<uint8_t>((on ? 150 : 0) + rng() % 100));
      }
  }
  return d;
}

DatasetSplits Splits() {
  DatasetSplits s;
  s.train = Quadrants(512, 1);
  s.validation = Quadrants(128, 2);
  s.test = Quadrants(128, 3);
  s.norm = ComputeNormalization(s.train);
  return s;
}

Graph SmallNet() {
  Graph g;
  g.input = Shape3{1, 8, 8};
  g.num_classes = 4;
  GraphBuilder b(&g);
  std::string x = b.Act("r", b.BatchNorm("bn", b.Conv("c", "input", 4, 3, 1, 1)), OpKind::kRelu);
  b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 2, 2), 4);
  return g;
}

TEST(TrainerTest, LearnsASimpleTaskAndReportsEveryEpoch) {
  DatasetSplits data = Splits();
  ParamStore params;
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 32;
  o.schedule.base_lr = 0.05f;
  int calls = 0;
  absl::StatusOr<TrainReport> r =
      Train(SmallNet(), &params, data, o, [&](const EpochReport& e) { EXPECT_EQ(e.epoch, ++calls); });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(r->epochs.size(), 3u);
  EXPECT_LT(r->epochs.back().train_loss, r->epochs.front().train_loss);
  EXPECT_GT(r->best_val_accuracy, 0.95);
  EXPECT_GT(r->test_accuracy, 0.95);
  EXPECT_GT(r->train_images_per_s, 0);
  // The returned weights are the best epoch's: evaluating them again agrees.
  absl::StatusOr<double> again = EvaluateAccuracy(SmallNet(), &params, data.validation, data.norm, 50);
  ASSERT_TRUE(again.ok());
  EXPECT_DOUBLE_EQ(*again, r->best_val_accuracy);
}

TEST(TrainerTest, SameSeedSameResult) {
  DatasetSplits data = Splits();
  TrainOptions o;
  o.epochs = 1;
  o.batch_size = 16;
  ParamStore a, b;
  auto ra = Train(SmallNet(), &a, data, o);
  auto rb = Train(SmallNet(), &b, data, o);
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
  auto r = Train(SmallNet(), &params, data, o, nullptr, [&] { return ++checks > 10; });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->epochs.size(), 1u);
  EXPECT_EQ(r->test_accuracy, -1);
}

TEST(TrainerTest, RefusesAMismatchedGraph) {
  DatasetSplits data = Splits();
  Graph g = SmallNet();
  g.num_classes = 3;
  g.nodes.back().dense.units = 3;
  ParamStore params;
  auto r = Train(g, &params, data, TrainOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("classes"), absl::string_view::npos);
}

}  // namespace
}  // namespace edgenas
