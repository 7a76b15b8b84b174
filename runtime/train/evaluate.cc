#include "runtime/train/evaluate.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/data/batch_stream.h"
#include "runtime/exec/net.h"
#include "runtime/train/loss.h"

namespace edgenas {

double Evaluation::ClassAccuracy(int label) const {
  const int64_t images = ClassImages(label);
  return images == 0 ? 0 : double(confusion[size_t(label) * classes + label]) / images;
}

int64_t Evaluation::ClassImages(int label) const {
  int64_t images = 0;
  for (int p = 0; p < classes; ++p) images += confusion[size_t(label) * classes + p];
  return images;
}

absl::Status CheckDataFitsGraph(const Graph& graph, const Dataset& d) {
  const Shape3& in = graph.input;
  if (in.channels != d.channels || in.height != d.height || in.width != d.width)
    return absl::InvalidArgumentError(absl::StrCat(
        "graph input (", in.channels, ", ", in.height, ", ", in.width,
        ") does not match the dataset's images (", d.channels, ", ", d.height, ", ", d.width, ")"));
  if (graph.num_classes != d.num_classes)
    return absl::InvalidArgumentError(
        absl::StrCat("graph has ", graph.num_classes, " classes, the dataset ", d.num_classes));
  return absl::OkStatus();
}

absl::StatusOr<double> EvaluateAccuracy(const Graph& graph, ParamStore* params, const Dataset& data,
                                        const Normalization& norm, int batch_size) {
  absl::StatusOr<Evaluation> e = EvaluateModel(graph, params, data, norm, batch_size);
  if (!e.ok()) return e.status();
  return e->accuracy;
}

absl::StatusOr<Evaluation> EvaluateModel(const Graph& graph, ParamStore* params,
                                         const Dataset& data, const Normalization& norm,
                                         int batch_size) {
  if (absl::Status s = CheckDataFitsGraph(graph, data); !s.ok()) return s;
  const int classes = graph.num_classes;
  Evaluation e;
  e.classes = classes;
  e.confusion.assign(size_t(classes) * classes, 0);
  if (data.size() == 0) return e;
  batch_size = static_cast<int>(std::min<int64_t>(batch_size, data.size()));
  absl::StatusOr<std::unique_ptr<CompiledNet>> net =
      CompiledNet::Create(graph, params, NetOptions{NetMode::kInference, batch_size, 1, false});
  if (!net.ok()) return net.status();
  BatchStream stream(data, norm, batch_size, /*shuffle=*/false, /*drop_last=*/false, {}, 0);
  if (!stream.status().ok()) return stream.status();
  const size_t image = size_t(data.channels) * data.height * data.width;
  std::vector<float> padded(image * batch_size, 0.0f);
  e.predicted.reserve(data.size());
  int64_t correct = 0;
  double loss_sum = 0;
  Batch batch;
  while (stream.Next(&batch)) {
    const float* input = batch.images.data();
    if (batch.count < batch_size) {  // the net has a fixed batch: pad the last one
      std::memcpy(padded.data(), input, sizeof(float) * image * batch.count);
      input = padded.data();
    }
    (*net)->Forward(input);
    const float* logits = (*net)->Logits();
    correct += CountCorrect(logits, batch.labels.data(), batch.count, classes);
    loss_sum +=
        double(SoftmaxCrossEntropy(logits, batch.labels.data(), batch.count, classes, nullptr)) *
        batch.count;
    for (int i = 0; i < batch.count; ++i) {
      const float* z = logits + int64_t(i) * classes;
      const int32_t p = static_cast<int32_t>(std::max_element(z, z + classes) - z);
      e.predicted.push_back(p);
      ++e.confusion[size_t(batch.labels[i]) * classes + p];
    }
  }
  e.accuracy = double(correct) / data.size();
  e.loss = loss_sum / data.size();
  return e;
}

}  // namespace edgenas
