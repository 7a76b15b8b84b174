#include "runtime/data/dataset.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/data/data_file.h"
#include "runtime/data/seeded_shuffle.h"

namespace edgenas {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // uint8, 3 dimensions
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // uint8, 1 dimension

// Far above any dataset this service trains on (Fashion-MNIST is 47 MB,
// CIFAR-10 184 MB): a header beyond it is damage, not data.
constexpr uint64_t kMaxDatasetBytes = uint64_t{1} << 31;
constexpr uint32_t kMaxImageSide = 1u << 14;

constexpr int kCifarChannels = 3;
constexpr int kCifarSide = 32;
constexpr int kCifarClasses = 10;
constexpr uint64_t kCifarImageBytes = kCifarChannels * kCifarSide * kCifarSide;
constexpr uint64_t kCifarRecordBytes = 1 + kCifarImageBytes;

uint32_t BigEndian32(const unsigned char* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

// Reads an IDX magic number and `ndims` big-endian dimensions.
absl::StatusOr<std::vector<uint32_t>> ReadIdxHeader(DataFile* file, uint32_t magic, int ndims,
                                                    const char* kind) {
  unsigned char raw[4];
  absl::Status status = file->ReadExact(raw, sizeof(raw), "the IDX magic number");
  if (!status.ok()) return status;
  uint32_t found = BigEndian32(raw);
  if (found != magic) {
    return absl::InvalidArgumentError(absl::StrCat(
        file->path(), ": bad magic 0x", absl::Hex(found, absl::kZeroPad8), ", expected 0x",
        absl::Hex(magic, absl::kZeroPad8), " (IDX ", kind, ": uint8, ", ndims, " dimensions)"));
  }
  std::vector<uint32_t> dims(ndims);
  for (uint32_t& dim : dims) {
    status = file->ReadExact(raw, sizeof(raw), "the IDX dimensions");
    if (!status.ok()) return status;
    dim = BigEndian32(raw);
  }
  return dims;
}

// Checks the image header of an IDX file before anything is allocated for it.
absl::Status CheckIdxImageDims(const std::string& path, uint32_t count, uint32_t height,
                               uint32_t width) {
  std::string shape = absl::StrCat(count, " x ", height, " x ", width);
  if (count == 0 || height == 0 || width == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header declares an empty image set (", shape, ")"));
  }
  uint64_t pixels = uint64_t{height} * width;
  if (height > kMaxImageSide || width > kMaxImageSide || count > kMaxDatasetBytes / pixels) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header declares ", shape, " images, beyond the limits of ",
                     kMaxImageSide, " pixels a side and ", kMaxDatasetBytes, " bytes in all"));
  }
  return absl::OkStatus();
}

// InvalidArgument naming the first of `count` labels that is >= num_classes.
absl::Status CheckLabels(const uint8_t* labels, size_t count, int num_classes,
                         const std::string& path) {
  for (size_t i = 0; i < count; ++i) {
    if (labels[i] >= num_classes) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": label ", int{labels[i]},
                                                     " of example ", i, " is outside [0, ",
                                                     num_classes, ")"));
    }
  }
  return absl::OkStatus();
}

enum class DatasetFormat { kIdx, kCifar10 };

struct NamedDataset {
  const char* name;
  const char* default_dir;  // empty: the caller must say where the files are
  DatasetFormat format;
};

constexpr NamedDataset kNamedDatasets[] = {
    {"cifar10", "", DatasetFormat::kCifar10},
    {"fashion-mnist", "/usr/share/datasets/fashion-mnist", DatasetFormat::kIdx},
    {"mnist", "/usr/share/datasets/mnist", DatasetFormat::kIdx},
};

bool IsRegularFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

// The raw file if it is there (it reads faster), else its gzip twin.
absl::StatusOr<std::string> FindIdxFile(const std::string& dir, const std::string& stem) {
  std::string raw = absl::StrCat(dir, "/", stem);
  if (IsRegularFile(raw)) return raw;
  std::string gzip = absl::StrCat(raw, ".gz");
  if (IsRegularFile(gzip)) return gzip;
  return absl::NotFoundError(absl::StrCat("neither ", raw, " nor ", gzip, " exists"));
}

// Loads the "train" or "t10k" half of an MNIST-style directory.
absl::StatusOr<Dataset> LoadIdxPart(const std::string& dir, const std::string& part) {
  absl::StatusOr<std::string> images = FindIdxFile(dir, part + "-images-idx3-ubyte");
  if (!images.ok()) return images.status();
  absl::StatusOr<std::string> labels = FindIdxFile(dir, part + "-labels-idx1-ubyte");
  if (!labels.ok()) return labels.status();
  return LoadIdx(*images, *labels);
}

// The examples of `from` at `indices`, in that order.
Dataset Subset(const Dataset& from, const std::vector<int64_t>& indices) {
  Dataset to;
  to.channels = from.channels;
  to.height = from.height;
  to.width = from.width;
  to.num_classes = from.num_classes;
  const size_t bytes = static_cast<size_t>(from.image_bytes());
  to.images.reserve(indices.size() * bytes);
  to.labels.reserve(indices.size());
  for (int64_t i : indices) {
    const uint8_t* image = from.images.data() + static_cast<size_t>(i) * bytes;
    to.images.insert(to.images.end(), image, image + bytes);
    to.labels.push_back(from.labels[i]);
  }
  return to;
}

}  // namespace

absl::StatusOr<Dataset> LoadIdx(const std::string& images_path, const std::string& labels_path,
                                int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_classes must be in [1, 256] for uint8 labels, got ", num_classes));
  }
  absl::StatusOr<DataFile> images = DataFile::Open(images_path);
  if (!images.ok()) return images.status();
  absl::StatusOr<DataFile> labels = DataFile::Open(labels_path);
  if (!labels.ok()) return labels.status();

  // Both headers are checked against each other before either payload is
  // read, so a mismatched pair fails in microseconds rather than after
  // decompressing 47 MB of images.
  absl::StatusOr<std::vector<uint32_t>> image_dims =
      ReadIdxHeader(&*images, kIdxImagesMagic, 3, "images");
  if (!image_dims.ok()) return image_dims.status();
  absl::StatusOr<std::vector<uint32_t>> label_dims =
      ReadIdxHeader(&*labels, kIdxLabelsMagic, 1, "labels");
  if (!label_dims.ok()) return label_dims.status();
  uint32_t count = (*image_dims)[0];
  uint32_t height = (*image_dims)[1];
  uint32_t width = (*image_dims)[2];
  absl::Status status = CheckIdxImageDims(images_path, count, height, width);
  if (!status.ok()) return status;
  if ((*label_dims)[0] != count) {
    return absl::InvalidArgumentError(absl::StrCat(images_path, " holds ", count, " images but ",
                                                   labels_path, " holds ", (*label_dims)[0],
                                                   " labels"));
  }

  Dataset data;
  data.channels = 1;
  data.height = static_cast<int>(height);
  data.width = static_cast<int>(width);
  data.num_classes = num_classes;
  status = images->Append(uint64_t{count} * height * width,
                          absl::StrCat(count, " images of ", height, " x ", width), &data.images);
  if (!status.ok()) return status;
  status = images->ExpectEnd();
  if (!status.ok()) return status;
  status = labels->Append(count, absl::StrCat(count, " labels"), &data.labels);
  if (!status.ok()) return status;
  status = labels->ExpectEnd();
  if (!status.ok()) return status;
  status = CheckLabels(data.labels.data(), count, num_classes, labels_path);
  if (!status.ok()) return status;
  return data;
}

absl::StatusOr<IdxImages> LoadIdxImages(const std::string& path, int64_t max_images) {
  absl::StatusOr<DataFile> file = DataFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::vector<uint32_t>> dims = ReadIdxHeader(&*file, kIdxImagesMagic, 3, "images");
  if (!dims.ok()) return dims.status();
  const uint32_t count = (*dims)[0], height = (*dims)[1], width = (*dims)[2];
  if (absl::Status s = CheckIdxImageDims(path, count, height, width); !s.ok()) return s;
  IdxImages images;
  images.count = max_images > 0 ? std::min<int64_t>(max_images, count) : count;
  images.height = static_cast<int>(height);
  images.width = static_cast<int>(width);
  absl::Status status =
      file->Append(uint64_t(images.count) * height * width,
                   absl::StrCat(images.count, " images of ", height, " x ", width), &images.pixels);
  if (!status.ok()) return status;
  // Only a file read to its end can be checked for trailing bytes.
  if (images.count == count) {
    status = file->ExpectEnd();
    if (!status.ok()) return status;
  }
  return images;
}

absl::StatusOr<Dataset> LoadCifar10(const std::vector<std::string>& batch_files) {
  if (batch_files.empty()) {
    return absl::InvalidArgumentError("LoadCifar10 needs at least one batch file");
  }
  Dataset data;
  data.channels = kCifarChannels;
  data.height = kCifarSide;
  data.width = kCifarSide;
  data.num_classes = kCifarClasses;
  uint64_t total_bytes = 0;
  std::vector<uint8_t> records;
  for (const std::string& path : batch_files) {
    absl::StatusOr<DataFile> file = DataFile::Open(path);
    if (!file.ok()) return file.status();
    records.clear();
    absl::Status status = file->AppendRest(kMaxDatasetBytes - total_bytes, &records);
    if (!status.ok()) return status;
    if (records.empty() || records.size() % kCifarRecordBytes != 0) {
      return absl::DataLossError(absl::StrCat(path, ": size ", records.size(),
                                              " is not a positive multiple of the ",
                                              kCifarRecordBytes, "-byte CIFAR-10 record"));
    }
    total_bytes += records.size();

    size_t count = records.size() / kCifarRecordBytes;
    size_t first = data.labels.size();
    data.labels.reserve(first + count);
    data.images.reserve(data.images.size() + count * kCifarImageBytes);
    for (size_t r = 0; r < count; ++r) {
      const uint8_t* record = records.data() + r * kCifarRecordBytes;
      data.labels.push_back(record[0]);
      data.images.insert(data.images.end(), record + 1, record + kCifarRecordBytes);
    }
    status = CheckLabels(data.labels.data() + first, count, kCifarClasses, path);
    if (!status.ok()) return status;
  }
  return data;
}

Normalization ComputeNormalization(const Dataset& data) {
  Normalization norm;
  norm.mean.assign(data.channels, 0.0f);
  norm.stddev.assign(data.channels, 1.0f);
  const int64_t plane = int64_t{data.height} * data.width;
  assert(data.images.size() == static_cast<size_t>(data.size() * data.image_bytes()));
  if (data.size() == 0 || plane == 0) return norm;

  // Pixels are bytes, so a histogram per channel gives exact two-pass
  // statistics in one sweep over the images.
  std::vector<std::array<uint64_t, 256>> histograms(data.channels);
  for (auto& histogram : histograms) histogram.fill(0);
  const uint8_t* pixel = data.images.data();
  for (int64_t i = 0; i < data.size(); ++i) {
    for (int c = 0; c < data.channels; ++c) {
      std::array<uint64_t, 256>& histogram = histograms[c];
      for (int64_t k = 0; k < plane; ++k) ++histogram[*pixel++];
    }
  }
  const double count = static_cast<double>(data.size()) * static_cast<double>(plane);
  for (int c = 0; c < data.channels; ++c) {
    double sum = 0;
    for (int v = 0; v < 256; ++v) sum += histograms[c][v] * (v / 255.0);
    double mean = sum / count;
    double squares = 0;
    for (int v = 0; v < 256; ++v) {
      double deviation = v / 255.0 - mean;
      squares += histograms[c][v] * deviation * deviation;
    }
    double stddev = std::sqrt(squares / count);
    norm.mean[c] = static_cast<float>(mean);
    norm.stddev[c] = stddev > 0 ? static_cast<float>(stddev) : 1.0f;
  }
  return norm;
}

std::vector<std::string> KnownDatasets() {
  std::vector<std::string> names;
  for (const NamedDataset& known : kNamedDatasets) names.push_back(known.name);
  return names;
}

absl::StatusOr<DatasetSplits> LoadNamedDataset(const std::string& name, const std::string& dir,
                                               double validation_fraction, uint64_t seed,
                                               int64_t max_train_images) {
  const NamedDataset* known = nullptr;
  for (const NamedDataset& candidate : kNamedDatasets) {
    if (name == candidate.name) known = &candidate;
  }
  if (known == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown dataset '", name, "'; known: ", absl::StrJoin(KnownDatasets(), ", ")));
  }
  // Written so that NaN fails too.
  if (!(validation_fraction >= 0.0 && validation_fraction <= 0.5)) {
    return absl::InvalidArgumentError(
        absl::StrCat("validation_fraction must be in [0, 0.5], got ", validation_fraction));
  }
  if (max_train_images < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_train_images must be >= 0 (0: all), got ", max_train_images));
  }
  std::string where = dir.empty() ? known->default_dir : dir;
  if (where.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset '", name, "' has no default directory; pass the one holding it"));
  }

  absl::StatusOr<Dataset> full_train;
  absl::StatusOr<Dataset> test;
  if (known->format == DatasetFormat::kIdx) {
    full_train = LoadIdxPart(where, "train");
    if (full_train.ok()) test = LoadIdxPart(where, "t10k");
  } else {
    std::vector<std::string> batches;
    for (int i = 1; i <= 5; ++i) batches.push_back(absl::StrCat(where, "/data_batch_", i, ".bin"));
    full_train = LoadCifar10(batches);
    if (full_train.ok()) test = LoadCifar10({where + "/test_batch.bin"});
  }
  if (!full_train.ok()) return full_train.status();
  if (!test.ok()) return test.status();
  if (test->channels != full_train->channels || test->height != full_train->height ||
      test->width != full_train->width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset '", name, "' in ", where, ": training images are ", full_train->channels, " x ",
        full_train->height, " x ", full_train->width, " but test images are ", test->channels,
        " x ", test->height, " x ", test->width));
  }

  // One permutation decides both splits: its head is the validation set and
  // its tail, already in random order, yields the training subsample as a
  // prefix. Each split is then put back in file order.
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order = SeededPermutation(full_train->size(), &rng);
  auto validation_count = static_cast<int64_t>(
      std::llround(validation_fraction * static_cast<double>(full_train->size())));
  std::vector<int64_t> validation(order.begin(), order.begin() + validation_count);
  std::vector<int64_t> train(order.begin() + validation_count, order.end());
  if (max_train_images > 0 && max_train_images < static_cast<int64_t>(train.size())) {
    train.resize(static_cast<size_t>(max_train_images));
  }
  std::sort(validation.begin(), validation.end());
  std::sort(train.begin(), train.end());

  DatasetSplits splits;
  splits.train = Subset(*full_train, train);
  splits.validation = Subset(*full_train, validation);
  splits.test = *std::move(test);
  splits.norm = ComputeNormalization(splits.train);
  return splits;
}

}  // namespace edgenas
