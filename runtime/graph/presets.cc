#include "runtime/graph/presets.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/graph/blocks.h"

namespace edgenas {
namespace {

Graph Empty() {
  Graph g;
  g.input = Shape3{1, 28, 28};
  g.num_classes = 10;
  return g;
}

Graph Lenet300100() {
  Graph g = Empty();
  GraphBuilder b(&g);
  std::string x = b.Op("flatten", OpKind::kFlatten, {"input"});
  x = b.Act("relu1", b.Dense("fc1", x, 300), OpKind::kRelu);
  x = b.Act("relu2", b.Dense("fc2", x, 100), OpKind::kRelu);
  b.Dense("fc3", x, 10);
  return g;
}

Graph Lenet5() {
  Graph g = Empty();
  GraphBuilder b(&g);
  std::string x = b.Conv("conv1", "input", 20, 5, 1, 0);
  x = b.Pool("pool1", x, OpKind::kMaxPool, 2, 2);
  x = b.Conv("conv2", x, 50, 5, 1, 0);
  x = b.Pool("pool2", x, OpKind::kMaxPool, 2, 2);
  x = b.Act("relu3", b.Dense("fc1", x, 500), OpKind::kRelu);
  b.Dense("fc2", x, 10);
  return g;
}

Graph CnnBn() {
  Graph g = Empty();
  GraphBuilder b(&g);
  std::string x = b.Conv("conv1", "input", 32, 3, 1, 1);
  x = b.Act("relu1", b.BatchNorm("bn1", x), OpKind::kRelu);
  x = b.Pool("pool1", x, OpKind::kMaxPool, 2, 2);
  x = b.Conv("conv2", x, 64, 3, 1, 1);
  x = b.Act("relu2", b.BatchNorm("bn2", x), OpKind::kRelu);
  x = b.Pool("pool2", x, OpKind::kMaxPool, 2, 2);
  x = b.Act("relu3", b.Dense("fc1", x, 128), OpKind::kRelu);
  b.Dense("fc2", x, 10);
  return g;
}

Graph MobileTiny() {
  Graph g = Empty();
  GraphBuilder b(&g);
  std::string x = b.ConvBnAct("stem", "input", 1, 16, 3, 1, 1, OpKind::kRelu6);
  x = b.DepthwiseSeparable("ds1", x, 16, 32, 3, 2);
  x = b.DepthwiseSeparable("ds2", x, 32, 64, 3, 2);
  x = b.DepthwiseSeparable("ds3", x, 64, 128, 3, 1);
  x = b.MBConv("mb1", x, 128, 128, 4, 3, 1);
  x = b.Op("pool", OpKind::kGlobalAvgPool, {x});
  b.Dense("fc", x, 10);
  return g;
}

}  // namespace

std::vector<std::string> PresetNames() {
  return {"lenet-300-100", "lenet5", "cnn-bn", "mobile-tiny"};
}

absl::StatusOr<Graph> Preset(const std::string& name) {
  if (name == "lenet-300-100") return Lenet300100();
  if (name == "lenet5") return Lenet5();
  if (name == "cnn-bn") return CnnBn();
  if (name == "mobile-tiny") return MobileTiny();
  return absl::InvalidArgumentError(
      absl::StrCat("preset: unknown '", name, "'; known: ", absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace edgenas
