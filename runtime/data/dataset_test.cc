#include "runtime/data/dataset.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgenas {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

std::string BigEndian(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

std::string Idx(uint32_t magic, const std::vector<uint32_t>& dims, const std::string& payload) {
  std::string bytes = BigEndian(magic);
  for (uint32_t dim : dims) bytes += BigEndian(dim);
  return bytes + payload;
}

// Image i of `count` is unique: its first two pixels spell i in base 256.
std::string UniqueImages(int count, int pixels_per_image) {
  std::string bytes;
  for (int i = 0; i < count; ++i) {
    for (int k = 0; k < pixels_per_image; ++k) {
      int value = k == 0 ? i % 256 : k == 1 ? i / 256 : (i * 7 + k * 13) % 256;
      bytes.push_back(static_cast<char>(value));
    }
  }
  return bytes;
}

// Inverse of UniqueImages for one image of `data`.
int ImageId(const Dataset& data, int64_t index) {
  const uint8_t* image = data.images.data() + index * data.image_bytes();
  return image[0] + 256 * image[1];
}

std::string Labels(int count, int num_classes) {
  std::string bytes;
  for (int i = 0; i < count; ++i) bytes.push_back(static_cast<char>(i % num_classes));
  return bytes;
}

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "edgenas_dataset_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::string WriteGzip(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    gzFile file = gzopen(path.c_str(), "wb");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return path;
  }

  // Writes an MNIST-style directory: `train` and `test` unique 2 x 3 images.
  void WriteMnistDir(int train, int test, bool gzip) {
    auto write = [&](const std::string& name, const std::string& bytes) {
      gzip ? WriteGzip(name + ".gz", bytes) : Write(name, bytes);
    };
    write("train-images-idx3-ubyte",
          Idx(kImagesMagic, {uint32_t(train), 2, 3}, UniqueImages(train, 6)));
    write("train-labels-idx1-ubyte", Idx(kLabelsMagic, {uint32_t(train)}, Labels(train, 10)));
    write("t10k-images-idx3-ubyte",
          Idx(kImagesMagic, {uint32_t(test), 2, 3}, UniqueImages(test, 6)));
    write("t10k-labels-idx1-ubyte", Idx(kLabelsMagic, {uint32_t(test)}, Labels(test, 10)));
  }

  std::string dir_;
};

TEST_F(DatasetTest, LoadsRawIdx) {
  std::string pixels = UniqueImages(3, 6);
  std::string images = Write("images", Idx(kImagesMagic, {3, 2, 3}, pixels));
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, std::string("\x00\x09\x04", 3)));
  absl::StatusOr<Dataset> data = LoadIdx(images, labels);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->channels, 1);
  EXPECT_EQ(data->height, 2);
  EXPECT_EQ(data->width, 3);
  EXPECT_EQ(data->num_classes, 10);
  EXPECT_EQ(data->size(), 3);
  EXPECT_EQ(data->labels, (std::vector<uint8_t>{0, 9, 4}));
  EXPECT_EQ(data->images, std::vector<uint8_t>(pixels.begin(), pixels.end()));
}

TEST_F(DatasetTest, LoadsGzipIdxAndMixedCompression) {
  std::string pixels = UniqueImages(300, 6);
  std::string images = WriteGzip("images.gz", Idx(kImagesMagic, {300, 2, 3}, pixels));
  std::string labels = Write("labels", Idx(kLabelsMagic, {300}, Labels(300, 7)));
  absl::StatusOr<Dataset> data = LoadIdx(images, labels, 7);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->size(), 300);
  EXPECT_EQ(data->num_classes, 7);
  EXPECT_EQ(data->images, std::vector<uint8_t>(pixels.begin(), pixels.end()));
  EXPECT_EQ(data->labels[299], 299 % 7);
  EXPECT_EQ(ImageId(*data, 299), 299);
}

// Each malformed pair must fail with `code` and a message holding `path` and
// `problem`.
void ExpectError(const absl::StatusOr<Dataset>& result, absl::StatusCode code,
                 const std::string& path, const std::string& problem) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(problem));
}

TEST_F(DatasetTest, RejectsBadMagic) {
  std::string images = Write("images", Idx(kLabelsMagic, {3}, "abc"));
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, Labels(3, 10)));
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kInvalidArgument, images,
              "bad magic 0x00000801, expected 0x00000803");
}

TEST_F(DatasetTest, RejectsTruncatedImages) {
  std::string images = Write("images", Idx(kImagesMagic, {3, 2, 3}, UniqueImages(3, 6).substr(1)));
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, Labels(3, 10)));
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kDataLoss, images,
              "truncated: 3 images of 2 x 3 needs 18 bytes but only 17 remain");
}

TEST_F(DatasetTest, RejectsTruncatedLabels) {
  std::string images = Write("images", Idx(kImagesMagic, {3, 2, 3}, UniqueImages(3, 6)));
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, Labels(2, 10)));
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kDataLoss, labels, "truncated: 3 labels");
}

TEST_F(DatasetTest, RejectsTruncatedHeader) {
  std::string images = Write("images", Idx(kImagesMagic, {3, 2}, ""));
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, Labels(3, 10)));
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kDataLoss, images,
              "truncated: the IDX dimensions");
}

TEST_F(DatasetTest, RejectsTrailingBytes) {
  std::string images = Write("images", Idx(kImagesMagic, {3, 2, 3}, UniqueImages(3, 6) + "x"));
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, Labels(3, 10)));
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kDataLoss, images, "trailing bytes");
}

TEST_F(DatasetTest, RejectsCountMismatch) {
  std::string images = Write("images", Idx(kImagesMagic, {3, 2, 3}, UniqueImages(3, 6)));
  std::string labels = Write("labels", Idx(kLabelsMagic, {2}, Labels(2, 10)));
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kInvalidArgument, labels,
              "holds 3 images but");
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kInvalidArgument, images, "2 labels");
}

TEST_F(DatasetTest, RejectsLabelOutOfRange) {
  std::string images = Write("images", Idx(kImagesMagic, {3, 2, 3}, UniqueImages(3, 6)));
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, std::string("\x01\x0a\x02", 3)));
  ExpectError(LoadIdx(images, labels), absl::StatusCode::kInvalidArgument, labels,
              "label 10 of example 1 is outside [0, 10)");
  // The same labels are fine for an 11-class dataset.
  EXPECT_TRUE(LoadIdx(images, labels, 11).ok());
}

TEST_F(DatasetTest, RejectsEmptyAndMissingFiles) {
  std::string empty = Write("empty", "");
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, Labels(3, 10)));
  ExpectError(LoadIdx(empty, labels), absl::StatusCode::kDataLoss, empty, "file is empty");
  std::string missing = dir_ + "/missing";
  ExpectError(LoadIdx(missing, labels), absl::StatusCode::kNotFound, missing, "cannot open");
  ExpectError(LoadIdx(dir_, labels), absl::StatusCode::kInvalidArgument, dir_,
              "not a regular file");
}

TEST_F(DatasetTest, RejectsAbsurdDimensionsWithoutReadingThem) {
  std::string labels = Write("labels", Idx(kLabelsMagic, {3}, Labels(3, 10)));
  // 2^31 / (1000 * 1000) < 3000: the header claims more than the limit.
  std::string huge = Write("huge", Idx(kImagesMagic, {3000, 1000, 1000}, "tiny"));
  ExpectError(LoadIdx(huge, labels), absl::StatusCode::kInvalidArgument, huge,
              "3000 x 1000 x 1000 images, beyond the limits");
  std::string huge_gz = WriteGzip("huge.gz", Idx(kImagesMagic, {4294967295u, 4294967295u, 1}, ""));
  ExpectError(LoadIdx(huge_gz, labels), absl::StatusCode::kInvalidArgument, huge_gz,
              "beyond the limits");
  std::string zero = Write("zero", Idx(kImagesMagic, {3, 0, 3}, ""));
  ExpectError(LoadIdx(zero, labels), absl::StatusCode::kInvalidArgument, zero,
              "empty image set (3 x 0 x 3)");
}

TEST_F(DatasetTest, RejectsTruncatedGzip) {
  std::string whole = Idx(kImagesMagic, {500, 28, 28}, UniqueImages(500, 784));
  std::string path = WriteGzip("images.gz", whole);
  std::string labels = Write("labels", Idx(kLabelsMagic, {500}, Labels(500, 10)));
  ASSERT_TRUE(LoadIdx(path, labels).ok());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  ExpectError(LoadIdx(path, labels), absl::StatusCode::kDataLoss, path, "gzip stream");
  // Cut inside the 8-byte trailer: all pixels decompress, the check fails.
  path = WriteGzip("images.gz", whole);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  ExpectError(LoadIdx(path, labels), absl::StatusCode::kDataLoss, path, "gzip stream");
}

TEST_F(DatasetTest, RejectsCorruptGzip) {
  std::string path =
      WriteGzip("images.gz", Idx(kImagesMagic, {500, 28, 28}, UniqueImages(500, 784)));
  std::string labels = Write("labels", Idx(kLabelsMagic, {500}, Labels(500, 10)));
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
  file.put('\xff').put('\x00').put('\xff');
  file.close();
  ExpectError(LoadIdx(path, labels), absl::StatusCode::kDataLoss, path, "gzip stream");
}

std::string CifarRecord(uint8_t label, uint8_t seed) {
  std::string record(1, static_cast<char>(label));
  for (int k = 0; k < 3072; ++k) record.push_back(static_cast<char>((seed + k) % 251));
  return record;
}

TEST_F(DatasetTest, LoadsCifar10Batches) {
  std::string first = Write("a.bin", CifarRecord(3, 0) + CifarRecord(9, 1));
  std::string second = WriteGzip("b.bin", CifarRecord(0, 2));
  absl::StatusOr<Dataset> data = LoadCifar10({first, second});
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->channels, 3);
  EXPECT_EQ(data->height, 32);
  EXPECT_EQ(data->width, 32);
  EXPECT_EQ(data->num_classes, 10);
  EXPECT_EQ(data->labels, (std::vector<uint8_t>{3, 9, 0}));
  ASSERT_EQ(data->images.size(), 3u * 3072);
  // Record r's pixel k (CHW order kept) is (r + k) % 251.
  EXPECT_EQ(data->images[0], 0);
  EXPECT_EQ(data->images[1024 + 5], (1024 + 5) % 251);
  EXPECT_EQ(data->images[3072 + 3071], (1 + 3071) % 251);
  EXPECT_EQ(data->images[2 * 3072 + 2048], (2 + 2048) % 251);
}

TEST_F(DatasetTest, RejectsMalformedCifar10) {
  std::string ragged = Write("ragged.bin", CifarRecord(1, 0) + "xyz");
  ExpectError(LoadCifar10({ragged}), absl::StatusCode::kDataLoss, ragged,
              "size 3076 is not a positive multiple of the 3073-byte");
  std::string empty = Write("empty.bin", "");
  ExpectError(LoadCifar10({empty}), absl::StatusCode::kDataLoss, empty, "size 0");
  std::string bad_label = Write("label.bin", CifarRecord(1, 0) + CifarRecord(10, 0));
  ExpectError(LoadCifar10({bad_label}), absl::StatusCode::kInvalidArgument, bad_label,
              "label 10 of example 1");
  EXPECT_EQ(LoadCifar10({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NormalizationTest, MatchesHandComputedStatistics) {
  // Channel 0 sees {0, 255, 0, 255}: mean 0.5, stddev 0.5. Channel 1 sees
  // {0, 51, 102, 153} = {0, .2, .4, .6}: mean 0.3, variance 0.05.
  // channels, height, width, num_classes, pixels, labels
  Dataset data{2, 1, 2, 2, {0, 255, 0, 51, 0, 255, 102, 153}, {0, 1}};
  Normalization norm = ComputeNormalization(data);
  ASSERT_EQ(norm.mean.size(), 2u);
  ASSERT_EQ(norm.stddev.size(), 2u);
  EXPECT_NEAR(norm.mean[0], 0.5, 1e-6);
  EXPECT_NEAR(norm.stddev[0], 0.5, 1e-6);
  EXPECT_NEAR(norm.mean[1], 0.3, 1e-6);
  EXPECT_NEAR(norm.stddev[1], std::sqrt(0.05), 1e-6);
}

TEST(NormalizationTest, ConstantChannelGetsUnitStddev) {
  Dataset data{1, 2, 2, 1, std::vector<uint8_t>(8, 51), {0, 0}};
  Normalization norm = ComputeNormalization(data);
  EXPECT_NEAR(norm.mean[0], 0.2, 1e-6);
  EXPECT_EQ(norm.stddev[0], 1.0f);
}

std::set<int> ImageIds(const Dataset& data) {
  std::set<int> ids;
  for (int64_t i = 0; i < data.size(); ++i) ids.insert(ImageId(data, i));
  return ids;
}

TEST_F(DatasetTest, NamedDatasetSplitsAreDisjointAndSeeded) {
  WriteMnistDir(100, 20, /*gzip=*/false);
  absl::StatusOr<DatasetSplits> splits = LoadNamedDataset("mnist", dir_, 0.2, 7);
  ASSERT_TRUE(splits.ok()) << splits.status();
  EXPECT_EQ(splits->train.size(), 80);
  EXPECT_EQ(splits->validation.size(), 20);
  EXPECT_EQ(splits->test.size(), 20);

  std::set<int> train = ImageIds(splits->train);
  std::set<int> validation = ImageIds(splits->validation);
  EXPECT_EQ(train.size(), 80u);
  EXPECT_EQ(validation.size(), 20u);
  std::set<int> all = train;
  all.insert(validation.begin(), validation.end());
  EXPECT_EQ(all.size(), 100u);  // disjoint, and together every training image
  EXPECT_EQ(*all.rbegin(), 99);
  // Labels travel with their images: image i was written with label i % 10.
  for (int64_t i = 0; i < splits->validation.size(); ++i) {
    EXPECT_EQ(splits->validation.labels[i], ImageId(splits->validation, i) % 10);
  }
  for (int64_t i = 0; i < splits->test.size(); ++i) EXPECT_EQ(ImageId(splits->test, i), i);
  // Each split keeps file order.
  for (const Dataset* split : {&splits->train, &splits->validation}) {
    for (int64_t i = 1; i < split->size(); ++i) {
      EXPECT_LT(ImageId(*split, i - 1), ImageId(*split, i));
    }
  }

  Normalization expected = ComputeNormalization(splits->train);
  EXPECT_EQ(splits->norm.mean, expected.mean);
  EXPECT_EQ(splits->norm.stddev, expected.stddev);

  absl::StatusOr<DatasetSplits> again = LoadNamedDataset("mnist", dir_, 0.2, 7);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->validation.images, splits->validation.images);
  absl::StatusOr<DatasetSplits> other = LoadNamedDataset("mnist", dir_, 0.2, 8);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(ImageIds(other->validation), validation);
}

TEST_F(DatasetTest, MaxTrainImagesSubsamplesOnlyTraining) {
  WriteMnistDir(100, 20, /*gzip=*/true);
  absl::StatusOr<DatasetSplits> full = LoadNamedDataset("fashion-mnist", dir_, 0.1, 3);
  absl::StatusOr<DatasetSplits> quick = LoadNamedDataset("fashion-mnist", dir_, 0.1, 3, 30);
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_TRUE(quick.ok()) << quick.status();
  EXPECT_EQ(full->train.size(), 90);
  EXPECT_EQ(quick->train.size(), 30);
  EXPECT_EQ(quick->validation.images, full->validation.images);
  EXPECT_EQ(quick->test.images, full->test.images);
  std::set<int> full_train = ImageIds(full->train);
  for (int id : ImageIds(quick->train)) EXPECT_EQ(full_train.count(id), 1u) << id;
  // A cap above the split size keeps everything.
  absl::StatusOr<DatasetSplits> capped = LoadNamedDataset("fashion-mnist", dir_, 0.1, 3, 1000);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->train.size(), 90);
}

TEST_F(DatasetTest, NamedDatasetRejectsBadArguments) {
  WriteMnistDir(10, 5, /*gzip=*/false);
  absl::Status status = LoadNamedDataset("imagenet", dir_, 0.1, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("unknown dataset 'imagenet'; known: cifar10, fashion-mnist, mnist"));
  for (double fraction : {-0.1, 0.6, std::nan("")}) {
    status = LoadNamedDataset("mnist", dir_, fraction, 1).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << fraction;
    EXPECT_THAT(std::string(status.message()), HasSubstr("validation_fraction"));
  }
  status = LoadNamedDataset("mnist", dir_, 0.1, 1, -5).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_train_images"));
  status = LoadNamedDataset("cifar10", "", 0.1, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("no default directory"));
  std::filesystem::remove(dir_ + "/t10k-labels-idx1-ubyte");
  status = LoadNamedDataset("mnist", dir_, 0.1, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("t10k-labels-idx1-ubyte.gz"));
}

TEST_F(DatasetTest, NamedCifar10ReadsAllBatches) {
  for (int i = 1; i <= 5; ++i) {
    Write("data_batch_" + std::to_string(i) + ".bin",
          CifarRecord(i, i) + CifarRecord(i + 1, i + 10));
  }
  Write("test_batch.bin", CifarRecord(0, 0));
  absl::StatusOr<DatasetSplits> splits = LoadNamedDataset("cifar10", dir_, 0.2, 5);
  ASSERT_TRUE(splits.ok()) << splits.status();
  EXPECT_EQ(splits->train.size(), 8);
  EXPECT_EQ(splits->validation.size(), 2);
  EXPECT_EQ(splits->test.size(), 1);
  EXPECT_EQ(splits->norm.mean.size(), 3u);
}

TEST(KnownDatasetsTest, ListsEveryName) {
  EXPECT_EQ(KnownDatasets(), (std::vector<std::string>{"cifar10", "fashion-mnist", "mnist"}));
}

TEST(FashionMnistTest, LoadsTheInstalledDataset) {
  struct stat info;
  if (stat("/usr/share/datasets/fashion-mnist", &info) != 0) {
    GTEST_SKIP() << "/usr/share/datasets/fashion-mnist is not installed";
  }
  absl::StatusOr<DatasetSplits> splits = LoadNamedDataset("fashion-mnist", "", 0.1, 42);
  ASSERT_TRUE(splits.ok()) << splits.status();
  EXPECT_EQ(splits->train.size() + splits->validation.size(), 60000);
  EXPECT_EQ(splits->validation.size(), 6000);
  EXPECT_EQ(splits->test.size(), 10000);
  for (const Dataset* data : {&splits->train, &splits->validation, &splits->test}) {
    EXPECT_EQ(data->channels, 1);
    EXPECT_EQ(data->height, 28);
    EXPECT_EQ(data->width, 28);
    EXPECT_EQ(data->num_classes, 10);
  }
  std::set<uint8_t> classes(splits->test.labels.begin(), splits->test.labels.end());
  EXPECT_EQ(classes.size(), 10u);
  // Fashion-MNIST's pixel mean is about 0.286 and its stddev about 0.353.
  EXPECT_NEAR(splits->norm.mean[0], 0.286, 0.01);
  EXPECT_NEAR(splits->norm.stddev[0], 0.353, 0.01);
}

}  // namespace
}  // namespace edgenas
