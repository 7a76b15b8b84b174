// Reference architectures for 1x28x28 inputs and 10 classes (Fashion-MNIST).
#ifndef EDGENAS_RUNTIME_GRAPH_PRESETS_H_
#define EDGENAS_RUNTIME_GRAPH_PRESETS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph/graph.h"

namespace edgenas {

// "lenet-300-100", "lenet5", "cnn-bn", "mobile-tiny".
std::vector<std::string> PresetNames();
absl::StatusOr<Graph> Preset(const std::string& name);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_GRAPH_PRESETS_H_
