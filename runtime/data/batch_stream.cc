#include "runtime/data/batch_stream.h"

#include <algorithm>
#include <cmath>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/data/seeded_shuffle.h"

namespace edgenas {

BatchStream::BatchStream(const Dataset& data, const Normalization& norm, int batch_size,
                         bool shuffle, bool drop_last, AugmentOptions augment, uint64_t seed)
    : data_(data), batch_size_(batch_size), augment_(augment), rng_(seed) {
  status_ = Validate(norm);
  if (!status_.ok()) return;

  lut_.resize(data_.channels);
  for (int c = 0; c < data_.channels; ++c) {
    for (int v = 0; v < 256; ++v) {
      lut_[c][v] = (static_cast<float>(v) / 255.0f - norm.mean[c]) / norm.stddev[c];
    }
  }
  const int64_t size = data_.size();
  num_batches_ = drop_last ? size / batch_size_ : (size + batch_size_ - 1) / batch_size_;
  if (shuffle) {
    order_ = SeededPermutation(size, &rng_);
  } else {
    order_.resize(static_cast<size_t>(size));
    for (int64_t i = 0; i < size; ++i) order_[i] = i;
  }

  // std::thread reports failure by throwing; it must not escape this module.
  try {
    producer_ = std::thread(&BatchStream::Produce, this);
  } catch (const std::system_error& error) {
    status_ = absl::ResourceExhaustedError(
        absl::StrCat("BatchStream cannot start its producer thread: ", error.what()));
    num_batches_ = 0;
  }
}

BatchStream::~BatchStream() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (producer_.joinable()) producer_.join();
}

absl::Status BatchStream::Validate(const Normalization& norm) const {
  if (batch_size_ < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size must be >= 1, got ", batch_size_));
  }
  if (data_.channels < 1 || data_.height < 1 || data_.width < 1 ||
      data_.images.size() != static_cast<size_t>(data_.size() * data_.image_bytes())) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset of ", data_.size(), " labels, ", data_.channels, " x ", data_.height,
                     " x ", data_.width, " images, holds ", data_.images.size(), " pixel bytes"));
  }
  if (norm.mean.size() != static_cast<size_t>(data_.channels) ||
      norm.stddev.size() != static_cast<size_t>(data_.channels)) {
    return absl::InvalidArgumentError(
        absl::StrCat("normalization has ", norm.mean.size(), " means and ", norm.stddev.size(),
                     " stddevs for a dataset of ", data_.channels, " channels"));
  }
  for (int c = 0; c < data_.channels; ++c) {
    if (!std::isfinite(norm.mean[c]) || !std::isfinite(norm.stddev[c]) || norm.stddev[c] <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("normalization of channel ", c, ": mean ",
                                                     norm.mean[c], ", stddev ", norm.stddev[c],
                                                     "; need finite values and stddev > 0"));
    }
  }
  if (augment_.pad_crop < 0 || augment_.pad_crop > std::min(data_.height, data_.width)) {
    return absl::InvalidArgumentError(absl::StrCat("pad_crop must be in [0, ",
                                                   std::min(data_.height, data_.width),
                                                   "] for these images, got ", augment_.pad_crop));
  }
  return absl::OkStatus();
}

bool BatchStream::Next(Batch* out) {
  if (!status_.ok()) return false;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return ready_full_ || finished_; });
  if (!ready_full_) return false;
  std::swap(*out, ready_);
  ready_full_ = false;
  lock.unlock();
  cv_.notify_all();
  return true;
}

void BatchStream::Produce() {
  Batch work;
  for (int64_t b = 0; b < num_batches_; ++b) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    // Built outside the lock: this is the work that overlaps training.
    Fill(b, &work);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !ready_full_ || stop_; });
    if (stop_) return;
    std::swap(ready_, work);
    ready_full_ = true;
    lock.unlock();
    cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
  }
  cv_.notify_all();
}

void BatchStream::Fill(int64_t batch_index, Batch* batch) {
  const int64_t begin = batch_index * batch_size_;
  const int count = static_cast<int>(std::min<int64_t>(batch_size_, data_.size() - begin));
  const size_t bytes = static_cast<size_t>(data_.image_bytes());
  batch->count = count;
  batch->images.resize(count * bytes);
  batch->labels.resize(count);
  for (int i = 0; i < count; ++i) {
    const auto index = static_cast<size_t>(order_[begin + i]);
    batch->labels[i] = data_.labels[index];
    WriteExample(data_.images.data() + index * bytes, batch->images.data() + i * bytes);
  }
}

void BatchStream::WriteExample(const uint8_t* image, float* out) {
  const int height = data_.height;
  const int width = data_.width;
  // (shift_y, shift_x) is where the crop window starts relative to the
  // unpadded image; both lie in [-pad, pad].
  int shift_y = 0;
  int shift_x = 0;
  if (augment_.pad_crop > 0) {
    const uint64_t positions = 2 * static_cast<uint64_t>(augment_.pad_crop) + 1;
    shift_y = static_cast<int>(UniformBelow(positions, &rng_)) - augment_.pad_crop;
    shift_x = static_cast<int>(UniformBelow(positions, &rng_)) - augment_.pad_crop;
  }
  const bool flip = augment_.horizontal_flip && UniformBelow(2, &rng_) == 1;

  for (int c = 0; c < data_.channels; ++c) {
    const std::array<float, 256>& lut = lut_[c];
    const uint8_t* plane = image + static_cast<size_t>(c) * height * width;
    for (int y = 0; y < height; ++y, out += width) {
      const int source_y = y + shift_y;
      if (source_y < 0 || source_y >= height) {
        std::fill(out, out + width, lut[0]);
        continue;
      }
      const uint8_t* row = plane + static_cast<size_t>(source_y) * width;
      for (int x = 0; x < width; ++x) {
        // The flip mirrors the cropped window, so it applies before the shift.
        const int source_x = (flip ? width - 1 - x : x) + shift_x;
        out[x] = source_x >= 0 && source_x < width ? lut[row[source_x]] : lut[0];
      }
    }
  }
}

}  // namespace edgenas
