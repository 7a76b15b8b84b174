// The public inference API (edgenas/classifier.h) over the engine: a model
// file read whole, its preprocessing, and one inference net for batch 1.
#include "edgenas/classifier.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "runtime/api/image_file.h"
#include "runtime/data/preprocessing.h"
#include "runtime/exec/net.h"
#include "runtime/model_file/model_file.h"

namespace edgenas {
namespace {

// Larger image files are not photographs of one thing to classify.
constexpr size_t kMaxImageFileBytes = size_t{256} << 20;

Status FromAbsl(const absl::Status& s) {
  using C = Status::Code;
  C code;
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return Status();
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      code = C::kInvalidArgument;
      break;
    case absl::StatusCode::kNotFound:
      code = C::kNotFound;
      break;
    case absl::StatusCode::kDataLoss:
      code = C::kDataLoss;
      break;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnimplemented:
      code = C::kFailedPrecondition;
      break;
    case absl::StatusCode::kResourceExhausted:
      code = C::kResourceExhausted;
      break;
    default:
      code = C::kInternal;
  }
  return Status(code, std::string(s.message()));
}

// OpenMP's thread count of the calling thread, set for one call.
class CallThreads {
 public:
  explicit CallThreads(int threads) : before_(omp_get_max_threads()), set_(threads > 0) {
    if (set_) omp_set_num_threads(threads);
  }
  ~CallThreads() {
    if (set_) omp_set_num_threads(before_);
  }

 private:
  const int before_;
  const bool set_;
};

// What a model expects, for the application: class names filled in with
// numbers where the file has none.
ModelInfo DescribeModel(const Graph& graph, const Preprocessing& p, const ModelMetadata& m) {
  ModelInfo info;
  info.channels = graph.input.channels;
  info.height = graph.input.height;
  info.width = graph.input.width;
  info.num_classes = graph.num_classes;
  info.class_names = p.class_names;
  for (int c = static_cast<int>(info.class_names.size()); c < graph.num_classes; ++c)
    info.class_names.push_back(std::to_string(c));
  info.color = ColorFormatName(p.color);
  info.resize = ResizeMethodName(p.resize);
  info.pixel_max = p.pixel_max;
  info.mean = p.norm.mean;
  info.stddev = p.norm.stddev;
  info.metrics = m.metrics;
  return info;
}

}  // namespace

std::string Status::ToString() const {
  static constexpr const char* kNames[] = {"OK",        "INVALID_ARGUMENT",    "NOT_FOUND",
                                           "DATA_LOSS", "FAILED_PRECONDITION", "RESOURCE_EXHAUSTED",
                                           "INTERNAL"};
  if (ok()) return "OK";
  return absl::StrCat(kNames[static_cast<int>(code_)], ": ", message_);
}

namespace internal {
void DieOfBadAccess(const Status& status) {
  std::fprintf(stderr, "edgenas: the value of a StatusOr that holds none was read: %s\n",
               status.ToString().c_str());
  std::abort();
}
}  // namespace internal

StatusOr<Image> ReadImage(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(path, kMaxImageFileBytes);
  if (!bytes.ok()) return FromAbsl(bytes.status());
  absl::StatusOr<Image> image = DecodeImageBytes(bytes->data(), bytes->size(), path);
  if (!image.ok()) return FromAbsl(image.status());
  return *std::move(image);
}

StatusOr<Image> DecodeImage(const void* data, size_t size, const std::string& name) {
  absl::StatusOr<Image> image = DecodeImageBytes(data, size, name);
  if (!image.ok()) return FromAbsl(image.status());
  return *std::move(image);
}

struct Classifier::Rep {
  Model model;  // the net reads its weights from model.params
  std::unique_ptr<CompiledNet> net;
  std::optional<ImagePreparer> preparer;
  std::vector<float> input;  // the prepared image, C x H x W
  std::vector<int> order;    // classes, ranked by Classify
  bool ends_in_softmax = false;
  int threads = 0;
  ModelInfo info;
};

StatusOr<Classifier> Classifier::Open(const std::string& path, const Options& options) {
  if (options.threads < 0 || options.threads > 1024)
    return Status(Status::Code::kInvalidArgument,
                  absl::StrCat("Options.threads: ", options.threads, " is outside [0, 1024]"));
  auto rep = std::make_unique<Rep>();
  absl::StatusOr<Model> model = ReadModelFile(path);
  if (!model.ok()) return FromAbsl(model.status());
  rep->model = *std::move(model);
  const Graph& graph = rep->model.graph;
  if (!rep->model.metadata.preprocessing)
    return Status(Status::Code::kFailedPrecondition,
                  absl::StrCat(path, ": ", kUnknownPreprocessing,
                               "; train the model again with this edgenas"));
  const Preprocessing& p = *rep->model.metadata.preprocessing;
  absl::StatusOr<ImagePreparer> preparer = ImagePreparer::Create(p, graph.input, graph.num_classes);
  if (!preparer.ok()) return FromAbsl(preparer.status());
  rep->preparer.emplace(*std::move(preparer));
  {
    CallThreads threads(options.threads);
    absl::StatusOr<std::unique_ptr<CompiledNet>> net = CompiledNet::Create(
        graph, &rep->model.params, NetOptions{NetMode::kInference, /*batch=*/1, 1, false});
    if (!net.ok()) return FromAbsl(net.status());
    rep->net = *std::move(net);
  }
  const int output = graph.Find(graph.OutputName());
  rep->ends_in_softmax = output >= 0 && graph.nodes[output].op == OpKind::kSoftmax;
  rep->threads = options.threads;
  rep->input.assign(graph.input.elements(), 0.0f);
  rep->order.resize(graph.num_classes);

  rep->info = DescribeModel(rep->model.graph, p, rep->model.metadata);
  return Classifier(std::move(rep));
}

Classifier::Classifier(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Classifier::Classifier(Classifier&& other) noexcept = default;
Classifier& Classifier::operator=(Classifier&& other) noexcept = default;
Classifier::~Classifier() = default;

const ModelInfo& Classifier::info() const { return rep_->info; }

StatusOr<std::vector<ClassScore>> Classifier::Classify(const Image& image, int k) {
  const size_t need = size_t(std::max(image.width, 0)) * size_t(std::max(image.height, 0)) *
                      size_t(std::max(image.channels, 0));
  if (image.pixels.size() != need)
    return Status(
        Status::Code::kInvalidArgument,
        absl::StrCat("image: ", image.pixels.size(), " bytes of pixels, but ", image.width, " x ",
                     image.height, " x ", image.channels, " needs ", need));
  return Classify(image.pixels.data(), image.width, image.height, image.channels, k);
}

StatusOr<std::vector<ClassScore>> Classifier::Classify(const uint8_t* pixels, int width, int height,
                                                       int channels, int k) {
  if (!rep_) return Status(Status::Code::kFailedPrecondition, "Classify: moved-from Classifier");
  Rep& r = *rep_;
  if (k < 1) return Status(Status::Code::kInvalidArgument, absl::StrCat("k: ", k, " is below 1"));
  k = std::min(k, r.info.num_classes);
  if (absl::Status s =
          r.preparer->Prepare(ImageView{pixels, width, height, channels}, r.input.data());
      !s.ok())
    return FromAbsl(s);
  {
    CallThreads threads(r.threads);
    r.net->Forward(r.input.data());
  }
  const float* out = r.net->Logits();
  const int classes = r.info.num_classes;
  // Ranked by the outputs themselves, ties to the lower class, so that the
  // first is the class evaluation counts (the first arg-max).
  std::iota(r.order.begin(), r.order.end(), 0);
  std::partial_sort(r.order.begin(), r.order.begin() + k, r.order.end(),
                    [out](int a, int b) { return out[a] > out[b] || (out[a] == out[b] && a < b); });
  // Softmax over the outputs, unless the net ends in one.
  const double top = out[r.order[0]];
  double sum = 0;
  if (!r.ends_in_softmax)
    for (int c = 0; c < classes; ++c) sum += std::exp(out[c] - top);
  std::vector<ClassScore> scores(k);
  for (int i = 0; i < k; ++i) {
    const int c = r.order[i];
    scores[i].index = c;
    scores[i].name = r.info.class_names[c];
    scores[i].probability =
        r.ends_in_softmax ? out[c] : static_cast<float>(std::exp(out[c] - top) / sum);
  }
  return scores;
}

StatusOr<std::vector<float>> Classifier::Run(const std::vector<float>& input) {
  if (!rep_) return Status(Status::Code::kFailedPrecondition, "Run: moved-from Classifier");
  Rep& r = *rep_;
  if (input.size() != r.input.size())
    return Status(
        Status::Code::kInvalidArgument,
        absl::StrCat("input: ", input.size(), " floats, the model takes ", r.info.channels, " x ",
                     r.info.height, " x ", r.info.width, " = ", r.input.size()));
  {
    CallThreads threads(r.threads);
    r.net->Forward(input.data());
  }
  const float* out = r.net->Logits();
  return std::vector<float>(out, out + r.info.num_classes);
}

}  // namespace edgenas
