#include "runtime/train/loss.h"

#include <algorithm>
#include <cmath>

namespace edgenas {

float SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int batch, int classes,
                          float* dlogits) {
  double total = 0;
  for (int i = 0; i < batch; ++i) {
    const float* z = logits + int64_t(i) * classes;
    const float mx = *std::max_element(z, z + classes);
    double sum = 0;
    for (int k = 0; k < classes; ++k) sum += std::exp(double(z[k]) - mx);
    const double log_sum = std::log(sum) + mx;
    total += log_sum - z[labels[i]];
    if (dlogits != nullptr) {
      float* d = dlogits + int64_t(i) * classes;
      for (int k = 0; k < classes; ++k)
        d[k] = static_cast<float>((std::exp(double(z[k]) - log_sum) - (k == labels[i])) / batch);
    }
  }
  return static_cast<float>(total / batch);
}

int CountCorrect(const float* logits, const int32_t* labels, int batch, int classes) {
  int correct = 0;
  for (int i = 0; i < batch; ++i) {
    const float* z = logits + int64_t(i) * classes;
    correct += int(std::max_element(z, z + classes) - z) == labels[i];
  }
  return correct;
}

}  // namespace edgenas
