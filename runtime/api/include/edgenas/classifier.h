// edgenas: classify images with a model file that edgenas trained.
//
//   #include <edgenas/classifier.h>
//
//   edgenas::StatusOr<edgenas::Classifier> model = edgenas::Classifier::Open("best.model");
//   if (!model.ok()) { std::cerr << model.status().ToString() << "\n"; return 1; }
//   edgenas::StatusOr<edgenas::Image> image = edgenas::ReadImage("shoe.png");
//   if (!image.ok()) { ... }
//   edgenas::StatusOr<std::vector<edgenas::ClassScore>> top = model->Classify(*image, 3);
//   for (const edgenas::ClassScore& c : *top) std::cout << c.name << " " << c.probability;
//
// A model file carries its preprocessing (colour format, input size, pixel
// range, per-channel mean and standard deviation, class names): Classify
// converts, resizes and normalizes an image the way training did, so the
// caller hands it pixels as they come from a decoder or a camera.
//
// Errors are returned, never thrown: every call that can fail returns a
// Status, or a StatusOr holding a value or a Status, whose message names the
// file, field or value at fault.
//
// Thread safety: ReadImage, DecodeImage and Classifier::Open may be called
// from any number of threads at once. A Classifier is not thread-safe: it
// owns one prepared network whose buffers every call reuses, and the engine
// runs a network on the thread that prepared it (its rule: one compute
// thread owns a network), so call a Classifier only from the thread that
// opened it. To classify in parallel, open one Classifier per thread;
// Classifiers share nothing.
//
// This header needs only the C++17 standard library; link the `edgenas`
// library (CMake: find_package(edgenas) and target edgenas::edgenas).
#ifndef EDGENAS_CLASSIFIER_H_
#define EDGENAS_CLASSIFIER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The names the shared library exports; everything else in it is hidden.
#if defined(__GNUC__)
#define EDGENAS_EXPORT __attribute__((visibility("default")))
#else
#define EDGENAS_EXPORT
#endif

namespace edgenas {

// The outcome of a call: OK, or an error code and a message.
class EDGENAS_EXPORT Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // the caller's value is wrong (image size, channels, k)
    kNotFound,            // no such file
    kDataLoss,            // the file is corrupt or truncated
    kFailedPrecondition,  // the file is whole but cannot be used (no preprocessing)
    kResourceExhausted,   // out of memory or threads
    kInternal,            // a bug of edgenas
  };

  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK", or "INVALID_ARGUMENT: " followed by the message.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

namespace internal {
// Prints `status` and aborts: a StatusOr's value was read when it held none.
[[noreturn]] EDGENAS_EXPORT void DieOfBadAccess(const Status& status);
}  // namespace internal

// A value of type T, or the Status saying why there is none.
template <typename T>
class StatusOr {
 public:
  // `status` must not be OK (an OK status becomes kInternal).
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(Status::Code::kInternal, "StatusOr made of an OK status");
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Reading the value of a StatusOr that holds none prints its status and
  // aborts the process.
  T& value() & { return Check(), *value_; }
  const T& value() const& { return Check(), *value_; }
  T&& value() && { return Check(), std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Check() const {
    if (!value_) internal::DieOfBadAccess(status_);
  }

  Status status_;
  std::optional<T> value_;
};

// An image in memory: `height` rows of `width` pixels, top row first, each
// pixel `channels` bytes: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels bytes
};

// Reads a PNG (any colour type and bit depth; 16-bit samples are reduced to
// 8) or a JPEG (grey, colour or CMYK) file. The result owns its pixels.
// kNotFound for a missing file; kInvalidArgument for a file that is neither,
// or an image larger than 16384 pixels a side; kDataLoss for a damaged one.
EDGENAS_EXPORT StatusOr<Image> ReadImage(const std::string& path);
// The same for file bytes already in memory; `name` stands for them in
// errors. `data` is only read during the call.
EDGENAS_EXPORT StatusOr<Image> DecodeImage(const void* data, size_t size,
                                           const std::string& name = "image");

// One class of a classification.
struct ClassScore {
  int index = 0;          // the class's number, as the dataset's labels count them
  std::string name;       // its name in the model file ("Ankle boot"), or the number as text
  float probability = 0;  // softmax over the model's outputs
};

// What a model expects, as its file says.
struct ModelInfo {
  int channels = 0, height = 0, width = 0;  // the input tensor: C x H x W floats
  int num_classes = 0;
  std::vector<std::string> class_names;   // one per class (numbers when the file names none)
  std::string color;                      // "grayscale" or "rgb"
  std::string resize;                     // "area" (any image size) or "none" (H x W only)
  float pixel_max = 255;                  // pixels in [0, pixel_max] are divided by it
  std::vector<float> mean, stddev;        // then (x - mean[c]) / stddev[c]
  std::map<std::string, double> metrics;  // test_accuracy, val_accuracy, ... when recorded
};

struct ClassifierOptions {
  // OpenMP threads of each call; the calling thread's setting is restored
  // after it. 0: OpenMP's default (OMP_NUM_THREADS, else one per core).
  int threads = 0;
};

class EDGENAS_EXPORT Classifier {
 public:
  using Options = ClassifierOptions;

  // Reads the model file at `path`, checks it whole, and prepares its
  // network for one image at a time. The Classifier owns everything it needs:
  // the file may change or go away afterwards. kNotFound for a missing file,
  // kDataLoss for a corrupt one, kFailedPrecondition for a model whose file
  // carries no preprocessing (written before files did).
  static StatusOr<Classifier> Open(const std::string& path, const Options& options = Options());

  // A moved-from Classifier may only be destroyed or assigned to (its calls
  // return kFailedPrecondition).
  Classifier(Classifier&& other) noexcept;
  Classifier& operator=(Classifier&& other) noexcept;
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;
  ~Classifier();

  // The `k` most probable classes (k is clipped to the class count), most
  // probable first. The image is converted, resized and normalized as the
  // model's preprocessing says; it is only read during the call and stays
  // the caller's. kInvalidArgument for an empty or oversized image, a
  // channel count outside [1, 4], a size the preprocessing cannot resize
  // from, or k < 1.
  StatusOr<std::vector<ClassScore>> Classify(const Image& image, int k = 5);
  // The same for pixels the caller holds elsewhere (a camera frame), laid out
  // as in Image: `height * width * channels` bytes, read only during the call.
  StatusOr<std::vector<ClassScore>> Classify(const uint8_t* pixels, int width, int height,
                                             int channels, int k = 5);

  // Runs the network on one input tensor that is already preprocessed:
  // C x H x W floats (info() says which). Returns its num_classes outputs:
  // logits, or probabilities when the network ends in a softmax. `input` is
  // only read during the call. kInvalidArgument when its size is not C x H x W.
  StatusOr<std::vector<float>> Run(const std::vector<float>& input);

  // Valid as long as the Classifier is (and not moved from).
  const ModelInfo& info() const;

 private:
  struct Rep;
  explicit Classifier(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace edgenas

#endif  // EDGENAS_CLASSIFIER_H_
