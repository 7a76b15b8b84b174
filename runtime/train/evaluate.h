// Evaluating a trained graph on a dataset through the inference path (batch
// norm folded, activations fused): the trainer's validation and test
// figures, the score task's, and `edgenas eval`'s, all from one loop.
#ifndef EDGENAS_RUNTIME_TRAIN_EVALUATE_H_
#define EDGENAS_RUNTIME_TRAIN_EVALUATE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/data/dataset.h"
#include "runtime/exec/params.h"
#include "runtime/graph/graph.h"

namespace edgenas {

struct Evaluation {
  double accuracy = 0;
  double loss = 0;  // mean softmax cross-entropy
  int classes = 0;
  // confusion[label * classes + predicted]: images of class `label` the
  // model called `predicted`.
  std::vector<int64_t> confusion;
  // The predicted class of each image, in the data's order.
  std::vector<int32_t> predicted;

  // Accuracy on the images labelled `label` (0 when there are none).
  double ClassAccuracy(int label) const;
  int64_t ClassImages(int label) const;
};

// OK when `data`'s images have the graph's input shape and its class count;
// otherwise InvalidArgument saying both.
absl::Status CheckDataFitsGraph(const Graph& graph, const Dataset& data);

// Accuracy, loss, confusion matrix and predictions of the inference path on
// `data`, normalized by `norm`, `batch_size` images at a time (the last batch
// padded). A prediction is the first class of highest output, as
// CountCorrect counts it.
absl::StatusOr<Evaluation> EvaluateModel(const Graph& graph, ParamStore* params,
                                         const Dataset& data, const Normalization& norm,
                                         int batch_size);
// EvaluateModel's accuracy.
absl::StatusOr<double> EvaluateAccuracy(const Graph& graph, ParamStore* params, const Dataset& data,
                                        const Normalization& norm, int batch_size);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TRAIN_EVALUATE_H_
