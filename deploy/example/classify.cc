// classify MODEL IMAGE [K]: the K most probable classes of a PNG or JPEG
// picture under a model file edgenas trained, one per line:
// class number, probability, class name.
#include <edgenas/classifier.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: classify MODEL IMAGE [K]\n");
    return 2;
  }
  const int k = argc == 4 ? std::atoi(argv[3]) : 3;

  edgenas::StatusOr<edgenas::Classifier> model = edgenas::Classifier::Open(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "classify: %s\n", model.status().ToString().c_str());
    return 1;
  }
  edgenas::StatusOr<edgenas::Image> image = edgenas::ReadImage(argv[2]);
  if (!image.ok()) {
    std::fprintf(stderr, "classify: %s\n", image.status().ToString().c_str());
    return 1;
  }
  edgenas::StatusOr<std::vector<edgenas::ClassScore>> top = model->Classify(*image, k);
  if (!top.ok()) {
    std::fprintf(stderr, "classify: %s\n", top.status().ToString().c_str());
    return 1;
  }
  for (const edgenas::ClassScore& c : *top)
    std::printf("%d\t%.7f\t%s\n", c.index, c.probability, c.name.c_str());
  return 0;
}
