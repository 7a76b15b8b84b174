// Datasets of small labelled images, as the trainer consumes them.
//
// Images stay as raw uint8 pixels in memory (Fashion-MNIST's 60000 training
// images are 47 MB this way, four times that as floats); BatchStream turns
// them into normalized floats one batch at a time. Loaders treat every file
// as untrusted: a bad header yields a Status naming the file, never a crash
// or an allocation sized by the header alone.
#ifndef EDGENAS_RUNTIME_DATA_DATASET_H_
#define EDGENAS_RUNTIME_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace edgenas {

struct Dataset {
  int channels = 0;
  int height = 0;
  int width = 0;
  int num_classes = 0;
  std::vector<uint8_t> images;  // size() * channels * height * width, NCHW, raw pixels
  std::vector<uint8_t> labels;  // one per image, each < num_classes

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_bytes() const { return int64_t{channels} * height * width; }
};

// Per-channel statistics of pixels scaled to [0, 1].
struct Normalization {
  std::vector<float> mean;
  std::vector<float> stddev;
};

struct DatasetSplits {
  Dataset train;
  Dataset validation;  // carved from the training files; never trained on
  Dataset test;        // the dataset's own test files, untouched
  Normalization norm;  // computed on `train` only, so no other split leaks into it
};

// Reads an IDX image file (magic 0x00000803: uint8, N x H x W) and its IDX
// label file (magic 0x00000801: uint8, N), each gzip-compressed or raw.
// The result has one channel. NotFound for a missing file, InvalidArgument
// for a bad magic, absurd or disagreeing dimensions, or a label outside
// [0, num_classes); DataLoss for a truncated, corrupt or overlong file.
absl::StatusOr<Dataset> LoadIdx(const std::string& images_path, const std::string& labels_path,
                                int num_classes = 10);

// The images of an IDX image file alone, without labels: `count` images of
// height x width bytes, one channel, as LoadIdx reads them.
struct IdxImages {
  int64_t count = 0;
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;
};

// Reads the first `max_images` images of an IDX image file (all when 0),
// gzip-compressed or raw, with LoadIdx's checks and errors.
absl::StatusOr<IdxImages> LoadIdxImages(const std::string& path, int64_t max_images = 0);

// Reads CIFAR-10 binary batch files: records of 1 label byte and 3072 pixel
// bytes (3 x 32 x 32, CHW), concatenated in the order of `batch_files`.
absl::StatusOr<Dataset> LoadCifar10(const std::vector<std::string>& batch_files);

// Mean and population standard deviation of each channel over every pixel of
// `data`, in [0, 1] units. A constant channel reports stddev 1 rather than 0
// so that normalizing by it stays finite.
Normalization ComputeNormalization(const Dataset& data);

// The names LoadNamedDataset accepts.
std::vector<std::string> KnownDatasets();

// Loads a dataset by name ("fashion-mnist", "mnist", "cifar10") from `dir`,
// or from the name's default directory when `dir` is empty (cifar10 has
// none). A seeded shuffle moves round(validation_fraction * N) training
// images, validation_fraction in [0, 0.5], into the validation split; then,
// if max_train_images > 0, a seeded subsample of that many remaining
// training images is kept, for quick runs. The test split is never sampled.
// The same seed gives the same splits; each split keeps file order.
absl::StatusOr<DatasetSplits> LoadNamedDataset(const std::string& name, const std::string& dir,
                                               double validation_fraction, uint64_t seed,
                                               int64_t max_train_images = 0);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_DATA_DATASET_H_
