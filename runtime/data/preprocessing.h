// Preprocessing: what turns an image into a model's input, as it was done in
// training, so that every reader of a model (eval, predict, the public
// inference API, an exported graph) feeds it the same way.
//
// An image's raw pixels v in [0, pixel_max] become x = v / pixel_max, then
// channel c becomes (x - mean[c]) / stddev[c]; the tensor is C x H x W
// (NCHW with batch 1). An image of another size is resized by `resize`; one
// with other channels is converted by `color`.
#ifndef EDGENAS_RUNTIME_DATA_PREPROCESSING_H_
#define EDGENAS_RUNTIME_DATA_PREPROCESSING_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/data/dataset.h"
#include "runtime/graph/graph.h"

namespace edgenas {

enum class ColorFormat {
  kGrayscale,  // one channel; colour images become BT.601 luma
  kRgb,        // three channels: red, green, blue
};

enum class ResizeMethod {
  kNone,  // an image of another size is refused
  kArea,  // each input pixel is the mean of the image area it covers
};

struct Preprocessing {
  ColorFormat color = ColorFormat::kGrayscale;
  float pixel_max = 255.0f;
  Normalization norm;  // one mean and one stddev per input channel
  ResizeMethod resize = ResizeMethod::kArea;
  std::vector<std::string> class_names;  // one per class, or none
};

const char* ColorFormatName(ColorFormat color);
const char* ResizeMethodName(ResizeMethod resize);
// One line for people: "grayscale NCHW, pixels / 255, mean [0.286] stddev
// [0.353], area resize, 10 class names (T-shirt/top, ...)".
std::string DescribePreprocessing(const Preprocessing& p);

// The class names of a named dataset (see KnownDatasets), in label order;
// empty for a name it does not know.
std::vector<std::string> DatasetClassNames(const std::string& dataset);

// The preprocessing a model trained on `splits` of dataset `name` needs:
// 8-bit pixels, the colour format of its channel count, the training split's
// normalization, area resizing and the dataset's class names.
Preprocessing PreprocessingForDataset(const std::string& name, const DatasetSplits& splits);

// OK when `p` fits a graph of this input and class count: the colour format
// has the input's channel count, one finite mean and one finite stddev > 0
// per channel, a finite pixel_max > 0, no class names or one per class (each
// at most 256 bytes). Otherwise InvalidArgument naming the field.
absl::Status CheckPreprocessing(const Preprocessing& p, const Shape3& input, int num_classes);

// Images larger than this a side are refused before any pixel is read:
// 16384 x 16384 RGBA is already 1 GiB.
inline constexpr int kMaxImageSide = 16384;

// An image in memory: `height` rows of `width` pixels, top row first, each
// pixel `channels` bytes: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA.
// Not owned: the pixels stay the caller's.
struct ImageView {
  const uint8_t* pixels = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
};

// Turns images into a model's input as `Preprocessing` says. Made once per
// model (it keeps a table per channel, so that an image of the input's size
// and channels costs one look-up a pixel); Prepare may then be called from
// any number of threads.
class ImagePreparer {
 public:
  // InvalidArgument when CheckPreprocessing refuses `p` for this graph.
  static absl::StatusOr<ImagePreparer> Create(const Preprocessing& p, const Shape3& input,
                                              int num_classes);

  // Writes the model input for `image` (input.elements() floats, C x H x W)
  // into `out`: colour converted (alpha composited over black), resized and
  // normalized. InvalidArgument naming the problem for an empty or oversized
  // image, a channel count outside [1, 4], or a size other than the input's
  // when the preprocessing allows no resizing. An image that needs neither
  // resizing nor conversion gives exactly the values training saw.
  absl::Status Prepare(const ImageView& image, float* out) const;

  const Preprocessing& preprocessing() const { return p_; }
  const Shape3& input() const { return input_; }

 private:
  ImagePreparer(Preprocessing p, Shape3 input);
  // The image's colour channels at the input's size, alpha multiplied in:
  // one plane of H x W pixel values per colour channel of the image.
  std::vector<float> ResizedPlanes(const ImageView& image) const;

  Preprocessing p_;
  Shape3 input_;
  // lut_[c][v]: the normalized value of raw pixel v in channel c.
  std::vector<std::array<float, 256>> lut_;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_DATA_PREPROCESSING_H_
