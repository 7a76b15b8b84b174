// Losses on logits (batch x classes, row-major). Each returns the mean loss
// over the batch and, when `dlogits` is not null, its gradient.
#ifndef EDGENAS_RUNTIME_TRAIN_LOSS_H_
#define EDGENAS_RUNTIME_TRAIN_LOSS_H_

#include <cstdint>

namespace edgenas {

// Softmax cross-entropy with integer labels.
float SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int batch, int classes,
                          float* dlogits);

// Rows whose arg-max equals the label.
int CountCorrect(const float* logits, const int32_t* labels, int batch, int classes);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TRAIN_LOSS_H_
