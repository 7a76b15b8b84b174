#include "runtime/api/image_file.h"

// jpeglib.h uses size_t and FILE without including their headers.
// clang-format off
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>
// clang-format on
#include <png.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "runtime/data/preprocessing.h"

namespace edgenas {
namespace {

constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
constexpr unsigned char kJpegSignature[3] = {0xff, 0xd8, 0xff};

absl::Status TooLarge(const std::string& name, uint64_t width, uint64_t height) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": the image is ", width, " x ", height,
                                                 " pixels, more than ", kMaxImageSide, " a side"));
}

absl::StatusOr<Image> DecodePng(const void* data, size_t size, const std::string& name) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, data, size))
    return absl::DataLossError(absl::StrCat(name, ": damaged PNG: ", png.message));
  if (png.width > uint32_t{kMaxImageSide} || png.height > uint32_t{kMaxImageSide}) {
    png_image_free(&png);
    return TooLarge(name, png.width, png.height);
  }
  // 8-bit samples in the file's own colour type, alpha kept: the model's
  // preprocessing decides what becomes of colour and transparency.
  const bool color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  const bool alpha = (png.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  png.format = color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB)
                     : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
  Image image;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  image.channels = static_cast<int>(PNG_IMAGE_PIXEL_CHANNELS(png.format));
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr))
    return absl::DataLossError(absl::StrCat(name, ": damaged PNG: ", png.message));
  return image;
}

// libjpeg reports errors by calling error_exit, which must not return: it
// jumps back to RunJpeg's setjmp with the message kept here.
struct JpegErrors {
  jpeg_error_mgr manager;  // first, so that libjpeg's pointer to it is one to this
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  JpegErrors* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  cinfo->err->format_message(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// libjpeg's warnings are damage it papers over (a truncated file decodes as
// grey below the cut): an image that is not what its author saved is refused.
void JpegEmitMessage(j_common_ptr cinfo, int level) {
  if (level < 0) JpegErrorExit(cinfo);
}

enum class JpegOutcome { kOk, kDamaged, kTooLarge, kCmyk };

// libjpeg leaves this frame by longjmp on an error: nothing in it has a
// destructor, and what must survive lives behind the pointers it is given.
JpegOutcome RunJpeg(jpeg_decompress_struct* cinfo, JpegErrors* errors, const unsigned char* data,
                    size_t size, Image* out) {
  if (setjmp(errors->jump)) return JpegOutcome::kDamaged;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  out->width = static_cast<int>(std::min<JDIMENSION>(cinfo->image_width, INT32_MAX));
  out->height = static_cast<int>(std::min<JDIMENSION>(cinfo->image_height, INT32_MAX));
  if (cinfo->image_width > JDIMENSION{kMaxImageSide} ||
      cinfo->image_height > JDIMENSION{kMaxImageSide})
    return JpegOutcome::kTooLarge;
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
    return JpegOutcome::kCmyk;
  cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(cinfo);
  out->channels = cinfo->output_components;
  const size_t row = size_t{cinfo->output_width} * cinfo->output_components;
  out->pixels.resize(row * cinfo->output_height);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW line = out->pixels.data() + row * cinfo->output_scanline;
    jpeg_read_scanlines(cinfo, &line, 1);
  }
  jpeg_finish_decompress(cinfo);
  return JpegOutcome::kOk;
}

absl::StatusOr<Image> DecodeJpeg(const void* data, size_t size, const std::string& name) {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  errors.message[0] = '\0';
  cinfo.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = JpegErrorExit;
  errors.manager.emit_message = JpegEmitMessage;
  jpeg_create_decompress(&cinfo);
  Image image;
  const JpegOutcome outcome =
      RunJpeg(&cinfo, &errors, static_cast<const unsigned char*>(data), size, &image);
  jpeg_destroy_decompress(&cinfo);
  switch (outcome) {
    case JpegOutcome::kOk:
      return image;
    case JpegOutcome::kDamaged:
      return absl::DataLossError(absl::StrCat(name, ": damaged JPEG: ", errors.message));
    case JpegOutcome::kTooLarge:
      return TooLarge(name, image.width, image.height);
    case JpegOutcome::kCmyk:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": a CMYK JPEG; only grey and colour (YCbCr, RGB) JPEGs are read"));
}

}  // namespace

ImageFormat SniffImageFormat(const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (size >= sizeof kPngSignature && std::memcmp(bytes, kPngSignature, sizeof kPngSignature) == 0)
    return ImageFormat::kPng;
  if (size >= sizeof kJpegSignature &&
      std::memcmp(bytes, kJpegSignature, sizeof kJpegSignature) == 0)
    return ImageFormat::kJpeg;
  return ImageFormat::kUnknown;
}

absl::StatusOr<Image> DecodeImageBytes(const void* data, size_t size, const std::string& name) {
  switch (SniffImageFormat(data, size)) {
    case ImageFormat::kPng:
      return DecodePng(data, size, name);
    case ImageFormat::kJpeg:
      return DecodeJpeg(data, size, name);
    case ImageFormat::kUnknown:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": not a PNG or JPEG image (", DescribeFirstBytes(data, size), ")"));
}

std::string DescribeFirstBytes(const void* data, size_t size) {
  if (size == 0) return "the file is empty";
  std::string head = "it starts with bytes";
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i)
    absl::StrAppend(&head, " ", absl::Hex(bytes[i], absl::kZeroPad2));
  return head;
}

absl::StatusOr<std::string> ReadFileBytes(const std::string& path, size_t max_bytes) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0)
    return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  if (!S_ISREG(info.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  if (static_cast<uint64_t>(info.st_size) > max_bytes)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", info.st_size, " bytes, more than the ", max_bytes, " this reads"));
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    return absl::DataLossError(absl::StrCat(path, ": cannot read it"));
  return bytes;
}

absl::Status WritePng(const std::string& path, const Image& image) {
  static constexpr png_uint_32 kFormats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                             PNG_FORMAT_RGBA};
  if (image.channels < 1 || image.channels > 4 || image.width < 1 || image.height < 1 ||
      image.pixels.size() != size_t(image.width) * image.height * image.channels)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write a ", image.width, " x ",
                                                   image.height, " x ", image.channels,
                                                   " image of ", image.pixels.size(), " bytes"));
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = kFormats[image.channels - 1];
  if (!png_image_write_to_file(&png, path.c_str(), 0, image.pixels.data(), 0, nullptr))
    return absl::InternalError(absl::StrCat(path, ": cannot write the PNG: ", png.message));
  return absl::OkStatus();
}

}  // namespace edgenas
