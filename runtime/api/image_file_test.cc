#include "runtime/api/image_file.h"

// jpeglib.h uses size_t and FILE without including their headers.
// clang-format off
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>
// clang-format on
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/api/testing/random_image.h"

namespace edgenas {
namespace {

using testing::RandomImage;

using ::testing::HasSubstr;

class ImageFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "edgenas_image_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& bytes) const {
    std::ofstream(Path(name), std::ios::binary) << bytes;
    return Path(name);
  }
  std::string Read(const std::string& path) const { return *ReadFileBytes(path, 1 << 30); }

  std::string dir_;
};

// A baseline JPEG of `image` (1 or 3 channels) at quality 100.
std::string EncodeJpeg(const Image& image) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = image.width;
  cinfo.image_height = image.height;
  cinfo.input_components = image.channels;
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 100, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.pixels.data()) +
                   size_t(cinfo.next_scanline) * image.width * image.channels;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string bytes(reinterpret_cast<char*>(buffer), size);
  std::free(buffer);
  return bytes;
}

TEST_F(ImageFileTest, PngRoundTripsEveryChannelCountExactly) {
  for (int channels = 1; channels <= 4; ++channels) {
    const Image image = RandomImage(13, 7, channels, channels);
    const std::string path = Path("image" + std::to_string(channels) + ".png");
    ASSERT_TRUE(WritePng(path, image).ok());
    const std::string bytes = Read(path);
    EXPECT_EQ(SniffImageFormat(bytes.data(), bytes.size()), ImageFormat::kPng);
    absl::StatusOr<Image> back = DecodeImageBytes(bytes.data(), bytes.size(), path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->width, 13);
    EXPECT_EQ(back->height, 7);
    EXPECT_EQ(back->channels, channels);
    // With alpha, libpng's simplified reader keeps colour where alpha is 0
    // only up to its own rounding: compare opaque images exactly.
    if (channels == 1 || channels == 3) {
      EXPECT_EQ(back->pixels, image.pixels);
    }
  }
}

TEST_F(ImageFileTest, JpegDecodesGreyAndColourCloseToWhatWasEncoded) {
  Image grey{16, 8, 1, std::vector<uint8_t>(128, 0)};
  for (int i = 0; i < 128; ++i) grey.pixels[i] = static_cast<uint8_t>(i < 64 ? 40 : 200);
  std::string bytes = EncodeJpeg(grey);
  EXPECT_EQ(SniffImageFormat(bytes.data(), bytes.size()), ImageFormat::kJpeg);
  absl::StatusOr<Image> back = DecodeImageBytes(bytes.data(), bytes.size(), "grey.jpg");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->channels, 1);
  ASSERT_EQ(back->pixels.size(), 128u);
  for (int i = 0; i < 128; ++i) EXPECT_NEAR(back->pixels[i], grey.pixels[i], 3) << i;

  Image colour{8, 8, 3, std::vector<uint8_t>(192)};
  for (int i = 0; i < 64; ++i) colour.pixels[3 * i] = 250, colour.pixels[3 * i + 2] = 10;
  bytes = EncodeJpeg(colour);
  back = DecodeImageBytes(bytes.data(), bytes.size(), "red.jpg");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->channels, 3);
  for (int i = 0; i < 192; ++i) EXPECT_NEAR(back->pixels[i], colour.pixels[i], 6) << i;
}

TEST_F(ImageFileTest, DamageIsAnErrorNamingTheFileAndTheProblem) {
  ASSERT_TRUE(WritePng(Path("whole.png"), RandomImage(40, 30, 3, 9)).ok());
  const std::string png = Read(Path("whole.png"));
  const std::string jpeg = EncodeJpeg(RandomImage(40, 30, 3, 9));
  for (size_t cut : {size_t{9}, size_t{40}, png.size() / 2, png.size() - 13}) {
    absl::StatusOr<Image> image = DecodeImageBytes(png.data(), cut, "cut.png");
    EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss) << cut;
    EXPECT_THAT(image.status().message(), HasSubstr("cut.png: damaged PNG")) << cut;
  }
  for (size_t cut : {size_t{3}, size_t{100}, jpeg.size() / 2, jpeg.size() - 2}) {
    absl::StatusOr<Image> image = DecodeImageBytes(jpeg.data(), cut, "cut.jpg");
    EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss) << cut;
    EXPECT_THAT(image.status().message(), HasSubstr("cut.jpg: damaged JPEG")) << cut;
  }
  const std::string text = "index,label\n0,9\n";
  absl::StatusOr<Image> image = DecodeImageBytes(text.data(), text.size(), "labels.csv");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(image.status().message(),
              HasSubstr("labels.csv: not a PNG or JPEG image (it starts with bytes 69 6e 64"));
  image = DecodeImageBytes("", 0, "empty.png");
  EXPECT_THAT(image.status().message(), HasSubstr("the file is empty"));
}

TEST_F(ImageFileTest, RefusesImagesLargerThanTheLimitBeforeDecodingThem) {
  ASSERT_TRUE(WritePng(Path("wide.png"), Image{20000, 1, 1, std::vector<uint8_t>(20000, 7)}).ok());
  const std::string bytes = Read(Path("wide.png"));
  absl::StatusOr<Image> image = DecodeImageBytes(bytes.data(), bytes.size(), "wide.png");
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(image.status().message(),
              HasSubstr("wide.png: the image is 20000 x 1 pixels, more than 16384 a side"));
}

TEST_F(ImageFileTest, ReadFileBytesNamesMissingDirectoriesAndLargeFiles) {
  EXPECT_EQ(ReadFileBytes(Path("nothing.png"), 100).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ReadFileBytes(dir_, 100).status().message(), HasSubstr("not a regular file"));
  const std::string path = Write("big.bin", std::string(101, 'x'));
  EXPECT_THAT(ReadFileBytes(path, 100).status().message(), HasSubstr("101 bytes, more than"));
  EXPECT_EQ(*ReadFileBytes(path, 101), std::string(101, 'x'));
}

}  // namespace
}  // namespace edgenas
