// DeepNEAT's node gene: one layer of a convolutional network and its
// hyperparameters (Miikkulainen et al., "Evolving Deep Neural Networks",
// 2017). A layer carries only the fields its type reads; the others keep
// their canonical values, so two genes that build the same layers are equal.
//
//   conv          width, kernel, stride       conv kxk + BN + relu6
//   dw_separable  width, kernel, stride       MobileNet's depthwise kxk + pointwise 1x1
//   mbconv        width, kernel, stride,      MobileNetV2's inverted residual, optional
//                 expand, se                  squeeze-and-excite
//   fire          width, squeeze, stride      SqueezeNet's Fire (a 3x3/2 max pool first
//                                             when it downsamples)
//   max_pool,     stride                      3x3, padding 1
//   avg_pool
//   dense         width                       dense + relu
#ifndef EDGENAS_SEARCH_DEEPNEAT_LAYER_GENE_H_
#define EDGENAS_SEARCH_DEEPNEAT_LAYER_GENE_H_

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace edgenas {
namespace deepneat {

enum class LayerType { kConv, kDwSeparable, kMBConv, kFire, kMaxPool, kAvgPool, kDense };
inline constexpr LayerType kAllLayerTypes[] = {
    LayerType::kConv,    LayerType::kDwSeparable, LayerType::kMBConv, LayerType::kFire,
    LayerType::kMaxPool, LayerType::kAvgPool,     LayerType::kDense};

const char* LayerTypeName(LayerType type);
std::optional<LayerType> LayerTypeFromName(const std::string& name);

// What a layer may be: part of a DeepNEAT or CoDeepNEAT config.
struct LayerChoices {
  std::vector<LayerType> types = {LayerType::kConv, LayerType::kDwSeparable, LayerType::kMBConv,
                                  LayerType::kFire, LayerType::kMaxPool, LayerType::kAvgPool};
  std::vector<int> widths = {16, 24, 32, 48, 64, 96};
  std::vector<int> kernels = {3, 5};
  std::vector<int> expands = {1, 3, 6};
  std::vector<double> se_ratios = {0.0, 0.25};
  std::vector<double> squeeze_ratios = {0.125, 0.25, 0.5};
  // A new layer downsamples (stride 2) with this probability.
  double stride2_rate = 0.25;

  absl::Status Validate(const std::string& path) const;
  // Absent keys keep the defaults above; unknown keys and bad values are
  // errors naming the field ("layers.widths[2]").
  static absl::StatusOr<LayerChoices> FromJson(const nlohmann::json& j, const std::string& path);
  nlohmann::json ToJson() const;
};

struct LayerGene {
  LayerType type = LayerType::kConv;
  int width = 16;             // output channels (units for dense); 0 for pooling
  int kernel = 3;             // conv, dw_separable, mbconv
  int stride = 1;             // 1 or 2; not dense
  int expand = 1;             // mbconv
  double se_ratio = 0.0;      // mbconv
  double squeeze_ratio = 0.0; // fire

  bool operator==(const LayerGene& o) const;
  bool operator!=(const LayerGene& o) const { return !(*this == o); }
  // The gene with every field its type does not read at its canonical value.
  LayerGene Canonical() const;

  nlohmann::json ToJson() const;
  static absl::StatusOr<LayerGene> FromJson(const nlohmann::json& j, const std::string& path);
};

// A layer drawn uniformly from the choices (stride 2 at stride2_rate).
LayerGene RandomLayer(const LayerChoices& choices, std::mt19937_64& rng);
// One hyperparameter changed: the type, the width to a neighbouring choice,
// the kernel, the stride, the expand ratio, squeeze-excite, the squeeze
// ratio (whichever the type reads and the choices allow). Unchanged only
// when the choices leave nothing to change.
LayerGene MutateLayer(const LayerGene& layer, const LayerChoices& choices, std::mt19937_64& rng);
// How different two layers are, for the compatibility distance: 1 for
// another type; else half the |log2| width ratio plus 0.5 for another
// kernel or stride and 0.25 for another expand, se or squeeze ratio.
double LayerDistance(const LayerGene& a, const LayerGene& b);

}  // namespace deepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_DEEPNEAT_LAYER_GENE_H_
