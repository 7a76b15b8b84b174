#include "runtime/supernet/supernet_trainer.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/train/loss.h"

namespace edgenas {
namespace supernet {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Minibatches of shuffled passes over a dataset, a new pass when one ends.
class Passes {
 public:
  Passes(const Dataset& data, const Normalization& norm, int batch, AugmentOptions augment, uint64_t seed)
      : data_(data), norm_(norm), batch_(batch), augment_(augment), seed_(seed) {}

  absl::Status Next(Batch* out) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!stream_) {
        stream_ = std::make_unique<BatchStream>(data_, norm_, batch_, /*shuffle=*/true,
                                                /*drop_last=*/true, augment_, seed_ + pass_++);
        if (!stream_->status().ok()) return stream_->status();
      }
      if (stream_->Next(out)) return absl::OkStatus();
      stream_.reset();
    }
    return absl::InvalidArgumentError(absl::StrCat("supernet: a pass over ", data_.size(),
                                                   " images gives no minibatch of ", batch_));
  }

 private:
  const Dataset& data_;
  Normalization norm_;
  int batch_;
  AugmentOptions augment_;
  uint64_t seed_;
  uint64_t pass_ = 0;
  std::unique_ptr<BatchStream> stream_;
};

}  // namespace

SupernetTrainer::SupernetTrainer(ChildBuilder build, ParamStore* shared, SupernetOptions options)
    : build_(std::move(build)),
      shared_(shared),
      options_(std::move(options)),
      optimizer_(MakeOptimizer(options_.optimizer)) {}

absl::StatusOr<CompiledNet*> SupernetTrainer::Net(const std::vector<int>& decisions) {
  const std::string key = absl::StrJoin(decisions, ",");
  for (auto it = nets_.begin(); it != nets_.end(); ++it) {
    if (it->first == key) {
      nets_.splice(nets_.begin(), nets_, it);
      ++stats_.reuses;
      return nets_.front().second.get();
    }
  }
  const Clock::time_point start = Clock::now();
  absl::StatusOr<Graph> child = build_(decisions);
  if (!child.ok()) return child.status();
  absl::StatusOr<std::unique_ptr<CompiledNet>> net = CompiledNet::Create(
      *child, shared_, NetOptions{NetMode::kTrain, options_.batch_size, 1, false});
  if (!net.ok()) return net.status();
  ++stats_.compiles;
  stats_.compile_seconds += Since(start);
  nets_.emplace_front(key, *std::move(net));
  while (static_cast<int>(nets_.size()) > std::max(1, options_.net_cache)) nets_.pop_back();
  return nets_.front().second.get();
}

absl::StatusOr<PhaseReport> SupernetTrainer::Train(const Dataset& train, const Normalization& norm,
                                                   const std::vector<std::vector<int>>& children,
                                                   int64_t first_step, int64_t total_steps,
                                                   uint64_t seed) {
  const Clock::time_point start = Clock::now();
  PhaseReport report;
  Passes passes(train, norm, options_.batch_size, options_.augment, seed);
  Batch batch;
  int64_t correct = 0, seen = 0;
  for (size_t k = 0; k < children.size(); ++k) {
    if (absl::Status s = passes.Next(&batch); !s.ok()) return s;
    absl::StatusOr<CompiledNet*> net = Net(children[k]);
    if (!net.ok()) return net.status();
    const int classes = (*net)->graph().num_classes;
    std::vector<float> dlogits(static_cast<size_t>(batch.count) * classes);
    (*net)->Forward(batch.images.data());
    const float loss = SoftmaxCrossEntropy((*net)->Logits(), batch.labels.data(), batch.count,
                                           classes, dlogits.data());
    if (!std::isfinite(loss))
      return absl::FailedPreconditionError(absl::StrCat(
          "supernet: the loss is not finite at step ", first_step + static_cast<int64_t>(k),
          "; lower the learning rate"));
    correct += CountCorrect((*net)->Logits(), batch.labels.data(), batch.count, classes);
    seen += batch.count;
    report.mean_loss += loss / children.size();
    (*net)->Backward(dlogits.data());
    optimizer_->Step(shared_, (*net)->Grads(),
                     LearningRate(options_.schedule, first_step + static_cast<int64_t>(k), total_steps));
    ++report.steps;
  }
  report.train_accuracy = seen > 0 ? static_cast<double>(correct) / seen : 0;
  report.seconds = Since(start);
  return report;
}

absl::StatusOr<std::vector<double>> SupernetTrainer::Score(const Dataset& validation,
                                                           const Normalization& norm,
                                                           const std::vector<std::vector<int>>& children,
                                                           uint64_t seed) {
  Passes passes(validation, norm, options_.batch_size, AugmentOptions{}, seed);
  Batch batch;
  std::vector<double> accuracy;
  for (const std::vector<int>& child : children) {
    if (absl::Status s = passes.Next(&batch); !s.ok()) return s;
    absl::StatusOr<CompiledNet*> net = Net(child);
    if (!net.ok()) return net.status();
    (*net)->Forward(batch.images.data());
    accuracy.push_back(static_cast<double>(CountCorrect((*net)->Logits(), batch.labels.data(),
                                                        batch.count, (*net)->graph().num_classes)) /
                       batch.count);
  }
  return accuracy;
}

}  // namespace supernet
}  // namespace edgenas
