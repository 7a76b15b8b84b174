// idx_to_png IDX_IMAGES FIRST COUNT OUT_DIR: writes images FIRST ..
// FIRST + COUNT - 1 of an IDX image file (gzip or raw) as OUT_DIR/N.png, so
// that tests can hand dataset images to programs that read picture files.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/api/image_file.h"
#include "runtime/data/dataset.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: idx_to_png IDX_IMAGES FIRST COUNT OUT_DIR\n");
    return 2;
  }
  const long first = std::atol(argv[2]), count = std::atol(argv[3]);
  if (first < 0 || count < 1) {
    std::fprintf(stderr, "idx_to_png: FIRST must be >= 0 and COUNT >= 1\n");
    return 2;
  }
  absl::StatusOr<edgenas::IdxImages> idx = edgenas::LoadIdxImages(argv[1], first + count);
  if (!idx.ok()) {
    std::fprintf(stderr, "idx_to_png: %s\n", std::string(idx.status().message()).c_str());
    return 1;
  }
  if (idx->count < first + count) {
    std::fprintf(stderr, "idx_to_png: %s holds %lld images\n", argv[1],
                 static_cast<long long>(idx->count));
    return 1;
  }
  const size_t bytes = size_t(idx->height) * idx->width;
  for (long n = first; n < first + count; ++n) {
    edgenas::Image image{idx->width, idx->height, 1,
                         std::vector<uint8_t>(idx->pixels.begin() + n * bytes,
                                              idx->pixels.begin() + (n + 1) * bytes)};
    const std::string path = std::string(argv[4]) + "/" + std::to_string(n) + ".png";
    if (absl::Status s = edgenas::WritePng(path, image); !s.ok()) {
      std::fprintf(stderr, "idx_to_png: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  return 0;
}
