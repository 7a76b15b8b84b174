#include "runtime/train/evaluate.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/blocks.h"
#include "runtime/train/trainer.h"

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

Graph SmallNet() {
  Graph g;
  g.input = Shape3{1, 8, 8};
  g.num_classes = 4;
  GraphBuilder b(&g);
  std::string x = b.Act("r", b.BatchNorm("bn", b.Conv("c", "input", 4, 3, 1, 1)), OpKind::kRelu);
  b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 2, 2), 4);
  return g;
}

TEST(EvaluateTest, ConfusionPredictionsAndAccuracyAgree) {
  DatasetSplits data;
  data.train = Quadrants(512, 1);
  data.test = Quadrants(203, 3);  // not a multiple of the batch: the last one is padded
  data.norm = ComputeNormalization(data.train);
  ParamStore params;
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 32;
  o.schedule.base_lr = 0.05f;
  absl::StatusOr<TrainReport> r = Train(SmallNet(), &params, data, o);
  ASSERT_TRUE(r.ok()) << r.status();

  // At the trainer's batch size, the trainer's figure to the image.
  absl::StatusOr<Evaluation> as_trained =
      EvaluateModel(SmallNet(), &params, data.test, data.norm, o.eval_batch_size);
  ASSERT_TRUE(as_trained.ok()) << as_trained.status();
  EXPECT_EQ(as_trained->accuracy, r->test_accuracy);

  absl::StatusOr<Evaluation> e = EvaluateModel(SmallNet(), &params, data.test, data.norm, 64);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->classes, 4);
  ASSERT_EQ(e->predicted.size(), 203u);
  std::vector<int64_t> counted(16, 0);
  int64_t correct = 0;
  for (size_t i = 0; i < e->predicted.size(); ++i) {
    ++counted[data.test.labels[i] * 4 + e->predicted[i]];
    correct += e->predicted[i] == data.test.labels[i];
  }
  EXPECT_EQ(counted, e->confusion);
  EXPECT_DOUBLE_EQ(e->accuracy, double(correct) / 203);
  EXPECT_GT(e->accuracy, 0.9);
  int64_t images = 0;
  for (int c = 0; c < 4; ++c) {
    images += e->ClassImages(c);
    EXPECT_GT(e->ClassAccuracy(c), 0.8) << c;
    EXPECT_DOUBLE_EQ(e->ClassAccuracy(c),
                     double(e->confusion[c * 5]) / std::max<int64_t>(1, e->ClassImages(c)));
  }
  EXPECT_EQ(images, 203);
  absl::StatusOr<double> accuracy = EvaluateAccuracy(SmallNet(), &params, data.test, data.norm, 64);
  ASSERT_TRUE(accuracy.ok());
  EXPECT_EQ(*accuracy, e->accuracy);
}

TEST(EvaluateTest, RefusesADatasetOfAnotherShapeOrClassCount) {
  ParamStore params;
  Dataset other = Quadrants(10, 1);
  other.num_classes = 5;
  absl::StatusOr<Evaluation> e =
      EvaluateModel(SmallNet(), &params, other, ComputeNormalization(other), 8);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), ::testing::HasSubstr("graph has 4 classes, the dataset 5"));
  Dataset wide{1, 8, 9, 4, std::vector<uint8_t>(72, 0), {0}};
  e = EvaluateModel(SmallNet(), &params, wide, ComputeNormalization(wide), 8);
  EXPECT_THAT(e.status().message(),
              ::testing::HasSubstr("does not match the dataset's images (1, 8, 9)"));
}

}  // namespace
}  // namespace edgenas
