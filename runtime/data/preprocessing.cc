#include "runtime/data/preprocessing.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgenas {
namespace {

// Longer names are damage, not names: they would flood every listing.
constexpr size_t kMaxClassNameBytes = 256;

// ITU-R BT.601 luma, the weights of every common grey conversion.
constexpr float kLumaRed = 0.299f, kLumaGreen = 0.587f, kLumaBlue = 0.114f;

// The source pixels one output pixel of an area resize averages, with the
// share of each: source pixels first, first + 1, ... along one axis.
struct AreaTap {
  int first = 0;
  std::vector<float> weights;
};

std::vector<AreaTap> AreaTaps(int source, int target) {
  const double scale = static_cast<double>(source) / target;
  std::vector<AreaTap> taps(target);
  for (int o = 0; o < target; ++o) {
    const double start = o * scale, end = (o + 1) * scale;
    const int first = static_cast<int>(std::floor(start));
    const int last = std::min(source, static_cast<int>(std::ceil(end)));
    taps[o].first = first;
    for (int s = first; s < last; ++s) {
      const double covered = std::min(end, s + 1.0) - std::max(start, static_cast<double>(s));
      taps[o].weights.push_back(static_cast<float>(covered / scale));
    }
  }
  return taps;
}

}  // namespace

const char* ColorFormatName(ColorFormat color) {
  return color == ColorFormat::kRgb ? "rgb" : "grayscale";
}

const char* ResizeMethodName(ResizeMethod resize) {
  return resize == ResizeMethod::kArea ? "area" : "none";
}

std::string DescribePreprocessing(const Preprocessing& p) {
  std::string names = "no class names";
  if (!p.class_names.empty())
    names = absl::StrCat(p.class_names.size(), " class names (", p.class_names.front(),
                         p.class_names.size() > 1 ? ", ...)" : ")");
  return absl::StrCat(ColorFormatName(p.color), " NCHW, pixels / ", p.pixel_max, ", mean [",
                      absl::StrJoin(p.norm.mean, ", "), "] stddev [",
                      absl::StrJoin(p.norm.stddev, ", "), "], ", ResizeMethodName(p.resize),
                      " resize, ", names);
}

std::vector<std::string> DatasetClassNames(const std::string& dataset) {
  if (dataset == "fashion-mnist")
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  if (dataset == "mnist") return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  if (dataset == "cifar10")
    return {"airplane", "automobile", "bird",  "cat",  "deer",
            "dog",      "frog",       "horse", "ship", "truck"};
  return {};
}

Preprocessing PreprocessingForDataset(const std::string& name, const DatasetSplits& splits) {
  Preprocessing p;
  p.color = splits.train.channels == 3 ? ColorFormat::kRgb : ColorFormat::kGrayscale;
  p.pixel_max = 255.0f;  // every dataset here is 8-bit, as BatchStream reads it
  p.norm = splits.norm;
  p.resize = ResizeMethod::kArea;
  std::vector<std::string> names = DatasetClassNames(name);
  if (static_cast<int>(names.size()) == splits.train.num_classes) p.class_names = std::move(names);
  return p;
}

absl::Status CheckPreprocessing(const Preprocessing& p, const Shape3& input, int num_classes) {
  auto bad = [](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("preprocessing.", parts...));
  };
  const int want = p.color == ColorFormat::kRgb ? 3 : 1;
  if (input.channels != want)
    return bad("color: ", ColorFormatName(p.color), " has ", want, " channel(s), the input ",
               input.channels);
  if (!(std::isfinite(p.pixel_max) && p.pixel_max > 0))
    return bad("pixel_max: must be finite and > 0, got ", p.pixel_max);
  if (static_cast<int>(p.norm.mean.size()) != input.channels)
    return bad("mean: has ", p.norm.mean.size(), " values, the input ", input.channels,
               " channel(s)");
  if (static_cast<int>(p.norm.stddev.size()) != input.channels)
    return bad("stddev: has ", p.norm.stddev.size(), " values, the input ", input.channels,
               " channel(s)");
  for (int c = 0; c < input.channels; ++c) {
    if (!std::isfinite(p.norm.mean[c])) return bad("mean[", c, "]: not finite");
    if (!(std::isfinite(p.norm.stddev[c]) && p.norm.stddev[c] > 0))
      return bad("stddev[", c, "]: must be finite and > 0, got ", p.norm.stddev[c]);
  }
  if (!p.class_names.empty() && static_cast<int>(p.class_names.size()) != num_classes)
    return bad("class_names: has ", p.class_names.size(), " names, the graph ", num_classes,
               " classes");
  for (size_t i = 0; i < p.class_names.size(); ++i)
    if (p.class_names[i].size() > kMaxClassNameBytes)
      return bad("class_names[", i, "]: longer than ", kMaxClassNameBytes, " bytes");
  return absl::OkStatus();
}

ImagePreparer::ImagePreparer(Preprocessing p, Shape3 input)
    : p_(std::move(p)), input_(input), lut_(input.channels) {
  // The same expression as BatchStream's table, so that an image as training
  // read it gives bit for bit the input training gave.
  for (int c = 0; c < input_.channels; ++c)
    for (int v = 0; v < 256; ++v)
      lut_[c][v] = (static_cast<float>(v) / p_.pixel_max - p_.norm.mean[c]) / p_.norm.stddev[c];
}

absl::StatusOr<ImagePreparer> ImagePreparer::Create(const Preprocessing& p, const Shape3& input,
                                                    int num_classes) {
  if (absl::Status s = CheckPreprocessing(p, input, num_classes); !s.ok()) return s;
  return ImagePreparer(p, input);
}

std::vector<float> ImagePreparer::ResizedPlanes(const ImageView& image) const {
  const int colors = image.channels >= 3 ? 3 : 1;
  const bool alpha = image.channels == 2 || image.channels == 4;
  const int w = image.width, h = image.height, W = input_.width, H = input_.height;
  auto value = [&](int y, int x, int k) {
    const uint8_t* px = image.pixels + (static_cast<size_t>(y) * w + x) * image.channels;
    const float v = px[k];
    return alpha ? v * px[image.channels - 1] / 255.0f : v;
  };
  std::vector<float> planes(static_cast<size_t>(colors) * H * W);
  if (w == W && h == H) {
    for (int k = 0; k < colors; ++k)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
          planes[(static_cast<size_t>(k) * H + y) * W + x] = value(y, x, k);
    return planes;
  }
  // Separable: rows to the input's width first (h x W per colour), then
  // columns, so that memory grows with the image's height, not its area.
  const std::vector<AreaTap> across = AreaTaps(w, W), down = AreaTaps(h, H);
  std::vector<float> rows(static_cast<size_t>(colors) * h * W);
  for (int k = 0; k < colors; ++k)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < W; ++x) {
        const AreaTap& tap = across[x];
        float sum = 0;
        for (size_t i = 0; i < tap.weights.size(); ++i)
          sum += tap.weights[i] * value(y, tap.first + static_cast<int>(i), k);
        rows[(static_cast<size_t>(k) * h + y) * W + x] = sum;
      }
  for (int k = 0; k < colors; ++k)
    for (int y = 0; y < H; ++y) {
      const AreaTap& tap = down[y];
      for (int x = 0; x < W; ++x) {
        float sum = 0;
        for (size_t i = 0; i < tap.weights.size(); ++i)
          sum += tap.weights[i] * rows[(static_cast<size_t>(k) * h + tap.first + i) * W + x];
        planes[(static_cast<size_t>(k) * H + y) * W + x] = sum;
      }
    }
  return planes;
}

absl::Status ImagePreparer::Prepare(const ImageView& image, float* out) const {
  if (image.pixels == nullptr || image.width < 1 || image.height < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("image: empty (", image.width, " x ", image.height, " pixels)"));
  if (image.width > kMaxImageSide || image.height > kMaxImageSide)
    return absl::InvalidArgumentError(absl::StrCat("image: ", image.width, " x ", image.height,
                                                   " pixels, more than ", kMaxImageSide,
                                                   " a side"));
  if (image.channels < 1 || image.channels > 4)
    return absl::InvalidArgumentError(
        absl::StrCat("image: ", image.channels,
                     " channels per pixel; 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 "
                     "(RGBA) are read"));
  const int W = input_.width, H = input_.height, C = input_.channels;
  const bool same_size = image.width == W && image.height == H;
  if (!same_size && p_.resize == ResizeMethod::kNone)
    return absl::InvalidArgumentError(absl::StrCat("image: ", image.width, " x ", image.height,
                                                   " pixels, the model takes ", W, " x ", H,
                                                   " and its preprocessing allows no resizing"));
  const size_t plane = static_cast<size_t>(H) * W;
  if (same_size && image.channels == C) {
    for (int c = 0; c < C; ++c) {
      const std::array<float, 256>& lut = lut_[c];
      float* to = out + c * plane;
      for (size_t i = 0; i < plane; ++i) to[i] = lut[image.pixels[i * C + c]];
    }
    return absl::OkStatus();
  }
  const std::vector<float> planes = ResizedPlanes(image);
  const int colors = image.channels >= 3 ? 3 : 1;
  for (int c = 0; c < C; ++c) {
    const float mean = p_.norm.mean[c], stddev = p_.norm.stddev[c];
    float* to = out + c * plane;
    for (size_t i = 0; i < plane; ++i) {
      float x;
      if (colors == C) {
        x = planes[c * plane + i];
      } else if (C == 1) {  // colour image, grey model
        x = kLumaRed * planes[i] + kLumaGreen * planes[plane + i] +
            kLumaBlue * planes[2 * plane + i];
      } else {  // grey image, colour model
        x = planes[i];
      }
      to[i] = (x / p_.pixel_max - mean) / stddev;
    }
  }
  return absl::OkStatus();
}

}  // namespace edgenas
