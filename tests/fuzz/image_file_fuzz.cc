// libFuzzer target: image file bytes through DecodeImageBytes (libpng's
// simplified reader, libjpeg-turbo), and every image that decodes through
// ImagePreparer into a grey 28 x 28 input and a colour 32 x 32 one. Nothing
// may crash, leak or trip a sanitizer; a decoded image has the size it
// claims, and every prepared value is finite.
//
// An input whose first byte is 'P' is given PNG's signature, one whose first
// byte is 'J' JPEG's, so that most mutations reach a decoder.
//
// Not built by CMake. From the repository root, after the protos are generated:
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     -Iruntime/api/include tests/fuzz/image_file_fuzz.cc runtime/api/image_file.cc \
//     runtime/data/preprocessing.cc $(pkg-config --cflags --libs absl_status absl_statusor \
//     absl_strings libpng libjpeg) -o image_file_fuzz
//   ./image_file_fuzz -max_len=65536 corpus/
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/api/image_file.h"
#include "runtime/data/preprocessing.h"

namespace {

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

std::string WithSignature(const uint8_t* data, size_t size) {
  static const std::string kPng("\x89PNG\r\n\x1a\n", 8), kJpeg("\xff\xd8\xff", 3);
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] == 'P') return kPng + bytes.substr(1);
  if (size > 0 && data[0] == 'J') return kJpeg + bytes.substr(1);
  return bytes;
}

void PrepareAs(const edgenas::Image& image, edgenas::ColorFormat color, edgenas::Shape3 input) {
  edgenas::Preprocessing p;
  p.color = color;
  p.norm.mean.assign(input.channels, 0.5f);
  p.norm.stddev.assign(input.channels, 0.25f);
  absl::StatusOr<edgenas::ImagePreparer> preparer = edgenas::ImagePreparer::Create(p, input, 10);
  Require(preparer.ok());
  std::vector<float> out(input.elements());
  absl::Status s = preparer->Prepare(
      {image.pixels.data(), image.width, image.height, image.channels}, out.data());
  Require(s.ok());
  for (float v : out) Require(std::isfinite(v) && v >= -2.01f && v <= 2.01f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = WithSignature(data, size);
  absl::StatusOr<edgenas::Image> image =
      edgenas::DecodeImageBytes(bytes.data(), bytes.size(), "fuzz");
  if (!image.ok()) return 0;
  Require(image->width >= 1 && image->height >= 1 && image->channels >= 1 && image->channels <= 4);
  Require(image->pixels.size() == size_t(image->width) * image->height * image->channels);
  PrepareAs(*image, edgenas::ColorFormat::kGrayscale, {1, 28, 28});
  PrepareAs(*image, edgenas::ColorFormat::kRgb, {3, 32, 32});
  return 0;
}
