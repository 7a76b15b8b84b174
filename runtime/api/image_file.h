// Image files: PNG and JPEG decoded into 8-bit pixels (libpng's simplified
// API, libjpeg-turbo), and PNG written, for tests and tools. Every file is
// untrusted: sizes are checked before anything is allocated for them, and
// damage is an error naming the file, never a crash.
#ifndef EDGENAS_RUNTIME_API_IMAGE_FILE_H_
#define EDGENAS_RUNTIME_API_IMAGE_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "edgenas/classifier.h"

namespace edgenas {

enum class ImageFormat { kUnknown, kPng, kJpeg };

// The format the first bytes announce (PNG's or JPEG's signature).
ImageFormat SniffImageFormat(const void* data, size_t size);

// "the file is empty", or "it starts with bytes 69 6e 64 ..." (at most 8):
// what an error says of a file that is not what it should be.
std::string DescribeFirstBytes(const void* data, size_t size);

// Decodes PNG or JPEG bytes; `name` stands for them in errors.
// InvalidArgument for bytes of neither format or an image larger than
// kMaxImageSide a side; DataLoss for a damaged or truncated image.
absl::StatusOr<Image> DecodeImageBytes(const void* data, size_t size, const std::string& name);

// Reads a whole file of at most `max_bytes` (NotFound when missing,
// InvalidArgument when not a regular file or larger).
absl::StatusOr<std::string> ReadFileBytes(const std::string& path, size_t max_bytes);

// Writes `image` (1 to 4 channels) as an 8-bit PNG.
absl::Status WritePng(const std::string& path, const Image& image);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_API_IMAGE_FILE_H_
