#include "runtime/data/preprocessing.h"

#include <cstring>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/data/batch_stream.h"

namespace edgenas {
namespace {

using ::testing::HasSubstr;

Preprocessing Grey(float mean, float stddev) {
  Preprocessing p;
  p.color = ColorFormat::kGrayscale;
  p.norm = {{mean}, {stddev}};
  return p;
}

std::vector<uint8_t> RandomPixels(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> pixels(n);
  for (uint8_t& v : pixels) v = static_cast<uint8_t>(rng() & 0xff);
  return pixels;
}

std::vector<float> Prepare(const ImagePreparer& preparer, const ImageView& image) {
  std::vector<float> out(preparer.input().elements(), -1e9f);
  absl::Status s = preparer.Prepare(image, out.data());
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(PreprocessingTest, ImagesOfTheInputsShapeGiveWhatTrainingGaveBitForBit) {
  // Three 3 x 4 x 5 RGB images through BatchStream (training's path) and
  // through the preparer (an image as a decoder gives it: interleaved).
  const Shape3 shape{3, 4, 5};
  Dataset data{3, 4, 5, 2, RandomPixels(3 * 60, 1), {0, 1, 0}};
  const Normalization norm = ComputeNormalization(data);
  BatchStream stream(data, norm, 3, /*shuffle=*/false, /*drop_last=*/false, {}, 0);
  Batch batch;
  ASSERT_TRUE(stream.Next(&batch));
  Preprocessing p;
  p.color = ColorFormat::kRgb;
  p.norm = norm;
  absl::StatusOr<ImagePreparer> preparer = ImagePreparer::Create(p, shape, 2);
  ASSERT_TRUE(preparer.ok()) << preparer.status();
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> interleaved(60);
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 20; ++k) interleaved[k * 3 + c] = data.images[i * 60 + c * 20 + k];
    const std::vector<float> got = Prepare(*preparer, {interleaved.data(), 5, 4, 3});
    EXPECT_EQ(std::memcmp(got.data(), batch.images.data() + i * 60, 60 * sizeof(float)), 0)
        << "image " << i;
  }
}

TEST(PreprocessingTest, ConvertsColourAndCompositesAlphaOverBlack) {
  absl::StatusOr<ImagePreparer> grey = ImagePreparer::Create(Grey(0.5f, 0.25f), {1, 1, 2}, 10);
  ASSERT_TRUE(grey.ok());
  // RGB to luma: (255, 0, 0) -> 0.299; (0, 0, 255) -> 0.114.
  const uint8_t rgb[] = {255, 0, 0, 0, 0, 255};
  std::vector<float> out = Prepare(*grey, {rgb, 2, 1, 3});
  EXPECT_NEAR(out[0], (0.299f - 0.5f) / 0.25f, 1e-5);
  EXPECT_NEAR(out[1], (0.114f - 0.5f) / 0.25f, 1e-5);
  // Grey with alpha: 200 at alpha 255 stays, 200 at alpha 51 is 40.
  const uint8_t ga[] = {200, 255, 200, 51};
  out = Prepare(*grey, {ga, 2, 1, 2});
  EXPECT_NEAR(out[0], (200 / 255.0f - 0.5f) / 0.25f, 1e-5);
  EXPECT_NEAR(out[1], (40 / 255.0f - 0.5f) / 0.25f, 1e-5);

  Preprocessing p;
  p.color = ColorFormat::kRgb;
  p.norm = {{0.f, 0.5f, 1.f}, {1.f, 1.f, 2.f}};
  absl::StatusOr<ImagePreparer> colour = ImagePreparer::Create(p, {3, 1, 1}, 10);
  ASSERT_TRUE(colour.ok());
  // A grey pixel becomes the same value in every channel.
  const uint8_t g[] = {51};
  out = Prepare(*colour, {g, 1, 1, 1});
  EXPECT_NEAR(out[0], 0.2f, 1e-6);
  EXPECT_NEAR(out[1], 0.2f - 0.5f, 1e-6);
  EXPECT_NEAR(out[2], (0.2f - 1.f) / 2.f, 1e-6);
  // RGBA: every colour channel times alpha / 255.
  const uint8_t rgba[] = {255, 102, 0, 102};
  out = Prepare(*colour, {rgba, 1, 1, 4});
  EXPECT_NEAR(out[0], 0.4f, 1e-6);
  EXPECT_NEAR(out[1], 0.16f - 0.5f, 1e-6);
  EXPECT_NEAR(out[2], (0.f - 1.f) / 2.f, 1e-6);
}

TEST(PreprocessingTest, AreaResizeAveragesTheAreaEachPixelCovers) {
  // Identity normalization (mean 0, stddev 1, pixel_max 1): outputs are the
  // averaged pixel values themselves.
  Preprocessing p = Grey(0.f, 1.f);
  p.pixel_max = 1.f;
  absl::StatusOr<ImagePreparer> to2x2 = ImagePreparer::Create(p, {1, 2, 2}, 10);
  ASSERT_TRUE(to2x2.ok());
  // 4 x 4 -> 2 x 2: each output is the mean of a 2 x 2 block.
  const uint8_t blocks[] = {0, 2, 10,  10,   //
                            4, 6, 10,  10,   //
                            1, 1, 0,   100,  //
                            1, 1, 100, 0};
  EXPECT_THAT(Prepare(*to2x2, {blocks, 4, 4, 1}), ::testing::ElementsAre(3, 10, 1, 50));
  // 3 x 1 -> 2 x 1: the middle pixel is split half and half.
  absl::StatusOr<ImagePreparer> to2x1 = ImagePreparer::Create(p, {1, 1, 2}, 10);
  ASSERT_TRUE(to2x1.ok());
  const uint8_t row[] = {30, 60, 90};
  std::vector<float> out = Prepare(*to2x1, {row, 3, 1, 1});
  EXPECT_NEAR(out[0], (30 + 0.5 * 60) / 1.5, 1e-4);
  EXPECT_NEAR(out[1], (0.5 * 60 + 90) / 1.5, 1e-4);
  // 1 x 1 -> 2 x 2: enlarging repeats the pixel.
  const uint8_t one[] = {77};
  EXPECT_THAT(Prepare(*to2x2, {one, 1, 1, 1}), ::testing::ElementsAre(77, 77, 77, 77));
  // A constant image of any size stays constant.
  std::vector<uint8_t> flat(37 * 23 * 3, 120);
  for (float v : Prepare(*to2x2, {flat.data(), 37, 23, 3})) EXPECT_NEAR(v, 120, 1e-3);
}

TEST(PreprocessingTest, RefusesImagesItCannotPrepare) {
  Preprocessing p = Grey(0.5f, 0.5f);
  absl::StatusOr<ImagePreparer> preparer = ImagePreparer::Create(p, {1, 28, 28}, 10);
  ASSERT_TRUE(preparer.ok());
  std::vector<float> out(28 * 28);
  const uint8_t pixel[4] = {};
  auto error = [&](const ImageView& image) {
    absl::Status s = preparer->Prepare(image, out.data());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_THAT(error({nullptr, 28, 28, 1}), HasSubstr("empty"));
  EXPECT_THAT(error({pixel, 0, 28, 1}), HasSubstr("empty"));
  EXPECT_THAT(error({pixel, 20000, 1, 1}), HasSubstr("more than 16384 a side"));
  EXPECT_THAT(error({pixel, 1, 1, 5}), HasSubstr("5 channels per pixel"));

  p.resize = ResizeMethod::kNone;
  absl::StatusOr<ImagePreparer> exact = ImagePreparer::Create(p, {1, 28, 28}, 10);
  ASSERT_TRUE(exact.ok());
  std::vector<uint8_t> big(32 * 32);
  absl::Status s = exact->Prepare({big.data(), 32, 32, 1}, out.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("32 x 32 pixels, the model takes 28 x 28"));
  EXPECT_THAT(s.message(), HasSubstr("allows no resizing"));
}

TEST(PreprocessingTest, CheckNamesTheFieldThatDoesNotFitTheGraph) {
  auto message = [](const Preprocessing& p, Shape3 input, int classes) {
    absl::Status s = CheckPreprocessing(p, input, classes);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_TRUE(CheckPreprocessing(Grey(0.3f, 0.2f), {1, 28, 28}, 10).ok());
  EXPECT_THAT(message(Grey(0.3f, 0.2f), {3, 28, 28}, 10), HasSubstr("preprocessing.color"));
  Preprocessing p = Grey(0.3f, 0.f);
  EXPECT_THAT(message(p, {1, 28, 28}, 10), HasSubstr("preprocessing.stddev[0]"));
  p = Grey(0.3f, 0.2f);
  p.norm.mean.push_back(0.1f);
  EXPECT_THAT(message(p, {1, 28, 28}, 10), HasSubstr("preprocessing.mean: has 2 values"));
  p = Grey(0.3f, 0.2f);
  p.pixel_max = 0;
  EXPECT_THAT(message(p, {1, 28, 28}, 10), HasSubstr("preprocessing.pixel_max"));
  p = Grey(0.3f, 0.2f);
  p.class_names = {"a", "b"};
  EXPECT_THAT(message(p, {1, 28, 28}, 10), HasSubstr("preprocessing.class_names: has 2 names"));
}

TEST(PreprocessingTest, ForADatasetTakesItsTrainingNormalizationAndClassNames) {
  DatasetSplits splits;
  splits.train = Dataset{1, 2, 2, 10, {0, 51, 102, 153}, {3}};
  splits.norm = ComputeNormalization(splits.train);
  Preprocessing p = PreprocessingForDataset("fashion-mnist", splits);
  EXPECT_EQ(p.color, ColorFormat::kGrayscale);
  EXPECT_EQ(p.pixel_max, 255.f);
  EXPECT_EQ(p.norm.mean, splits.norm.mean);
  EXPECT_EQ(p.norm.stddev, splits.norm.stddev);
  ASSERT_EQ(p.class_names.size(), 10u);
  EXPECT_EQ(p.class_names[0], "T-shirt/top");
  EXPECT_EQ(p.class_names[9], "Ankle boot");
  EXPECT_TRUE(CheckPreprocessing(p, {1, 2, 2}, 10).ok());
  // A name it does not know: no class names rather than wrong ones.
  EXPECT_TRUE(PreprocessingForDataset("my-data", splits).class_names.empty());
  EXPECT_EQ(DatasetClassNames("cifar10")[3], "cat");
}

}  // namespace
}  // namespace edgenas
