// BatchStream: one epoch of normalized, optionally augmented batches.
//
// Normalizing and augmenting a batch is time the trainer would otherwise
// spend waiting, so a background thread prepares the next batch while the
// caller trains on the current one. Batches are handed over by swapping
// buffers, never by copying, and the caller's spent buffers are reused.
//
// All randomness comes from one std::mt19937_64 seeded at construction: the
// order is drawn there, then the augmentation on the producer thread alone,
// example by example, so the same seed gives the same batches however the
// two threads happen to interleave.
#ifndef EDGENAS_RUNTIME_DATA_BATCH_STREAM_H_
#define EDGENAS_RUNTIME_DATA_BATCH_STREAM_H_

#include <array>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "runtime/data/dataset.h"

namespace edgenas {

struct AugmentOptions {
  // Pad each side by this many pixels of raw value 0 (black: the usual CIFAR
  // recipe pads before normalizing), then crop a random window of the
  // original size.
  int pad_crop = 0;
  // Mirror left-right with probability 1/2 (after the crop).
  bool horizontal_flip = false;
};

struct Batch {
  int count = 0;              // examples in this batch; the last may be short
  std::vector<float> images;  // count * C * H * W, NCHW, (x/255 - mean) / stddev
  std::vector<int32_t> labels;
};

class BatchStream {
 public:
  // Starts preparing the first batch at once. `data` is held by reference and
  // must outlive the stream and stay unchanged; `norm` is copied. With
  // `shuffle` the order is a seeded permutation, else file order. With
  // `drop_last` a final partial batch is skipped. Invalid arguments (batch
  // size < 1, pixels that disagree with the dataset's shape, a normalization
  // for another channel count or with a stddev <= 0, pad_crop outside
  // [0, min(height, width)]) leave the stream empty with status() saying why.
  BatchStream(const Dataset& data, const Normalization& norm, int batch_size, bool shuffle,
              bool drop_last, AugmentOptions augment, uint64_t seed);

  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  // Stops the producer and joins it, even in the middle of the epoch.
  ~BatchStream();

  // Swaps the next batch into `*out` and returns true, or returns false at
  // the end of the epoch (or at once if status() is not OK). The previous
  // contents of `*out` are taken back as a buffer for a later batch.
  // Call from one thread at a time.
  bool Next(Batch* out);

  // Why the stream is empty when its arguments were invalid; OK otherwise.
  const absl::Status& status() const { return status_; }

  // Batches in the epoch, counting a final partial one unless drop_last.
  int64_t num_batches() const { return num_batches_; }

 private:
  absl::Status Validate(const Normalization& norm) const;
  void Produce();
  void Fill(int64_t batch_index, Batch* batch);
  void WriteExample(const uint8_t* image, float* out);

  const Dataset& data_;
  const int batch_size_;
  const AugmentOptions augment_;
  absl::Status status_;
  int64_t num_batches_ = 0;
  // lut_[c][v] is the normalized value of pixel v in channel c.
  std::vector<std::array<float, 256>> lut_;
  std::vector<int64_t> order_;
  std::mt19937_64 rng_;  // after construction, touched only by the producer

  std::mutex mu_;
  std::condition_variable cv_;
  Batch ready_;              // guarded by mu_: the batch Next hands out next
  bool ready_full_ = false;  // guarded by mu_
  bool finished_ = false;    // guarded by mu_: the producer has made every batch
  bool stop_ = false;        // guarded by mu_: the destructor wants the producer gone
  std::thread producer_;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_DATA_BATCH_STREAM_H_
