#include "runtime/train/loss.h"

#include <algorithm>
#include <cmath>

namespace edgenas {

// One exp per logit, in float: the gradient divides the exponentials by
// their sum, and the loss takes the log of the sum (in double). Two
// double exps per logit took 6 us of a 0.33 ms training step at batch 64.
float SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int batch, int classes,
                          float* dlogits) {
  double total = 0;
  for (int i = 0; i < batch; ++i) {
    const float* z = logits + int64_t(i) * classes;
    const float mx = *std::max_element(z, z + classes);
    float* d = dlogits != nullptr ? dlogits + int64_t(i) * classes : nullptr;
    float sum = 0;
    for (int k = 0; k < classes; ++k) {
      const float e = std::exp(z[k] - mx);
      sum += e;
      if (d != nullptr) d[k] = e;
    }
    total += std::log(double(sum)) + mx - z[labels[i]];
    if (d != nullptr) {
      const float scale = 1.0f / (sum * batch);
      for (int k = 0; k < classes; ++k) d[k] *= scale;
      d[labels[i]] -= 1.0f / batch;
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
