// model_tool: model files as tests need them and the CLI cannot make them.
//   model_tool strip-preprocessing IN OUT   a copy of IN without its
//       preprocessing, as files were written before they carried it
//   model_tool wide-png OUT WIDTH HEIGHT    a grey PNG of that size
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/api/image_file.h"
#include "runtime/model_file/model_file.h"

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "strip-preprocessing") == 0) {
    absl::StatusOr<edgenas::Model> model = edgenas::ReadModelFile(argv[2]);
    if (!model.ok()) {
      std::fprintf(stderr, "model_tool: %s\n", std::string(model.status().message()).c_str());
      return 1;
    }
    model->metadata.preprocessing.reset();
    absl::Status s = edgenas::WriteModelFile(argv[3], *model);
    if (!s.ok()) std::fprintf(stderr, "model_tool: %s\n", std::string(s.message()).c_str());
    return s.ok() ? 0 : 1;
  }
  if (argc == 5 && std::strcmp(argv[1], "wide-png") == 0) {
    const int width = std::atoi(argv[3]), height = std::atoi(argv[4]);
    edgenas::Image image{width, height, 1, std::vector<uint8_t>(size_t(width) * height, 128)};
    absl::Status s = edgenas::WritePng(argv[2], image);
    if (!s.ok()) std::fprintf(stderr, "model_tool: %s\n", std::string(s.message()).c_str());
    return s.ok() ? 0 : 1;
  }
  std::fprintf(stderr,
               "usage: model_tool strip-preprocessing IN OUT | model_tool wide-png OUT W H\n");
  return 2;
}
