// predict: the most probable classes of images (PNG, JPEG, or the images of
// an IDX file) under a model, through the public inference API, so that the
// CLI classifies exactly as a device's application does.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "edgenas/classifier.h"
#include "nlohmann/json.hpp"
#include "runtime/api/image_file.h"
#include "runtime/data/dataset.h"
#include "runtime/util/flags.h"
#include "server/cli/commands.h"
#include "server/cli/local_command_util.h"

namespace edgenas {
namespace {

using cli_internal::UsageLocal;
using nlohmann::json;

// What a file holds, from its first bytes.
enum class InputKind { kImage, kIdx, kUnknown };

absl::StatusOr<InputKind> Sniff(const std::string& path, std::string* head) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open it"));
  unsigned char bytes[8] = {};
  in.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  const size_t got = static_cast<size_t>(in.gcount());
  *head = DescribeFirstBytes(bytes, got);
  if (SniffImageFormat(bytes, got) != ImageFormat::kUnknown) return InputKind::kImage;
  // IDX images (00 00 08 03), raw or gzip-compressed (1f 8b).
  if (got >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && bytes[3] == 0x03)
    return InputKind::kIdx;
  if (got >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return InputKind::kIdx;
  return InputKind::kUnknown;
}

struct Printer {
  bool as_json;
  json results = json::array();

  void Print(const std::string& what, const std::vector<ClassScore>& top) {
    if (as_json) {
      json classes = json::array();
      for (const ClassScore& c : top)
        classes.push_back({{"class", c.index}, {"name", c.name}, {"probability", c.probability}});
      results.push_back({{"input", what}, {"top", classes}});
      return;
    }
    std::string line = what + ":";
    for (size_t i = 0; i < top.size(); ++i)
      absl::StrAppend(&line, i == 0 ? " " : ", ", top[i].name, " (", top[i].index, ") ",
                      absl::StrFormat("%.4f", top[i].probability));
    std::printf("%s\n", line.c_str());
  }
};

}  // namespace

int RunPredict(int argc, char** argv) {
  int top = 3, threads = 2;
  int64_t first = 0;
  bool as_json = false;
  Flags f("edgenas predict MODEL IMAGE... [--top K] [--json]",
          "Classifies images with a model file: PNG or JPEG images (converted, resized and\n"
          "normalized as the model's preprocessing says) and IDX image files (each image in\n"
          "it). Prints the K most probable classes of each with their probabilities.");
  f.Int("top", &top, "classes to print per image");
  f.Int("threads", &threads, "compute threads");
  f.Int64("first", &first, "of an IDX file, only its first N images (0: all)");
  f.Bool("json", &as_json, "print one JSON document");
  if (absl::Status s = f.Parse(argc, argv, 2); !s.ok()) return UsageLocal(f, s);
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (f.positional().size() < 2)
    return UsageLocal(f, absl::InvalidArgumentError("give a model file and at least one image"));
  if (top < 1) return UsageLocal(f, absl::InvalidArgumentError("--top: must be at least 1"));
  if (threads < 1 || threads > 256)
    return UsageLocal(f, absl::InvalidArgumentError("--threads: must be in [1, 256]"));
  if (first < 0) return UsageLocal(f, absl::InvalidArgumentError("--first: must be >= 0"));

  StatusOr<Classifier> classifier =
      Classifier::Open(f.positional()[0], Classifier::Options{threads});
  if (!classifier.ok()) {
    std::fprintf(stderr, "edgenas: %s\n", classifier.status().message().c_str());
    return 1;
  }
  Printer printer{as_json};
  int failures = 0;
  auto fail = [&failures](const std::string& message) {
    std::fprintf(stderr, "edgenas: %s\n", message.c_str());
    ++failures;
  };
  for (size_t i = 1; i < f.positional().size(); ++i) {
    const std::string& path = f.positional()[i];
    std::string head;
    absl::StatusOr<InputKind> kind = Sniff(path, &head);
    if (!kind.ok()) {
      fail(std::string(kind.status().message()));
      continue;
    }
    switch (*kind) {
      case InputKind::kImage: {
        StatusOr<Image> image = ReadImage(path);
        if (!image.ok()) {
          fail(image.status().message());
          break;
        }
        StatusOr<std::vector<ClassScore>> scores = classifier->Classify(*image, top);
        if (!scores.ok()) {
          fail(absl::StrCat(path, ": ", scores.status().message()));
          break;
        }
        printer.Print(path, *scores);
        break;
      }
      case InputKind::kIdx: {
        absl::StatusOr<IdxImages> idx = LoadIdxImages(path, first);
        if (!idx.ok()) {
          fail(std::string(idx.status().message()));
          break;
        }
        const size_t bytes = size_t(idx->height) * idx->width;
        for (int64_t n = 0; n < idx->count; ++n) {
          StatusOr<std::vector<ClassScore>> scores =
              classifier->Classify(idx->pixels.data() + n * bytes, idx->width, idx->height, 1, top);
          if (!scores.ok()) {
            fail(absl::StrCat(path, "[", n, "]: ", scores.status().message()));
            break;
          }
          printer.Print(absl::StrCat(path, "[", n, "]"), *scores);
        }
        break;
      }
      case InputKind::kUnknown:
        fail(absl::StrCat(path, ": not a PNG, JPEG or IDX image file (", head, ")"));
        break;
    }
  }
  if (as_json)
    std::printf(
        "%s\n",
        json{{"model", f.positional()[0]}, {"predictions", printer.results}}.dump().c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace edgenas
