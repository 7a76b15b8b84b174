#include "runtime/train/evaluate.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/testing/quadrants.h"
#include "runtime/train/trainer.h"

namespace edgenas {
namespace {

using testing::QuadrantsDataset;
using testing::QuadrantsNet;

TEST(EvaluateTest, ConfusionPredictionsAndAccuracyAgree) {
  DatasetSplits data;
  data.train = QuadrantsDataset(512, 1);
  data.test = QuadrantsDataset(203, 3);  // not a multiple of the batch: the last one is padded
  data.norm = ComputeNormalization(data.train);
  ParamStore params;
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 32;
  o.schedule.base_lr = 0.05f;
  absl::StatusOr<TrainReport> r = Train(QuadrantsNet(), &params, data, o);
  ASSERT_TRUE(r.ok()) << r.status();

  // At the trainer's batch size, the trainer's figure to the image.
  absl::StatusOr<Evaluation> as_trained =
      EvaluateModel(QuadrantsNet(), &params, data.test, data.norm, o.eval_batch_size);
  ASSERT_TRUE(as_trained.ok()) << as_trained.status();
  EXPECT_EQ(as_trained->accuracy, r->test_accuracy);

  absl::StatusOr<Evaluation> e = EvaluateModel(QuadrantsNet(), &params, data.test, data.norm, 64);
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
  absl::StatusOr<double> accuracy =
      EvaluateAccuracy(QuadrantsNet(), &params, data.test, data.norm, 64);
  ASSERT_TRUE(accuracy.ok());
  EXPECT_EQ(*accuracy, e->accuracy);
}

TEST(EvaluateTest, RefusesADatasetOfAnotherShapeOrClassCount) {
  ParamStore params;
  Dataset other = QuadrantsDataset(10, 1);
  other.num_classes = 5;
  absl::StatusOr<Evaluation> e =
      EvaluateModel(QuadrantsNet(), &params, other, ComputeNormalization(other), 8);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), ::testing::HasSubstr("graph has 4 classes, the dataset 5"));
  Dataset wide{1, 8, 9, 4, std::vector<uint8_t>(72, 0), {0}};
  e = EvaluateModel(QuadrantsNet(), &params, wide, ComputeNormalization(wide), 8);
  EXPECT_THAT(e.status().message(),
              ::testing::HasSubstr("does not match the dataset's images (1, 8, 9)"));
}

}  // namespace
}  // namespace edgenas
