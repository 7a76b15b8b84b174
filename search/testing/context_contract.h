// The contract every SearchContext keeps, as one suite of value-
// parameterized tests. A test binary includes this header once and
// instantiates the suite with a factory of harnesses for its context:
//
//   INSTANTIATE_TEST_SUITE_P(InMemory, ContextContractTest,
//                            ::testing::Values(HarnessFactory(&MakeMine)));
//
// The cases train for real, on a small seeded subset of Fashion-MNIST (they
// skip where Debian's dataset-fashion-mnist is not installed), so what they
// check is what a strategy will see: weights reaching the trainer, settings
// honoured, models loadable, artifacts kept, tasks run, stops honest.
#ifndef EDGENAS_SEARCH_TESTING_CONTEXT_CONTRACT_H_
#define EDGENAS_SEARCH_TESTING_CONTEXT_CONTRACT_H_

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/data/batch_stream.h"
#include "runtime/data/dataset.h"
#include "runtime/exec/net.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/tasks/task_kinds.h"
#include "runtime/train/loss.h"
#include "search/api/search_context.h"

namespace edgenas {

// One job of the context under test, and what the suite does to it from
// outside (as a crash, a damaged disk or a user would).
class ContractHarness {
 public:
  virtual ~ContractHarness() = default;
  // Opens a fresh job with `settings` and returns its context (owned by
  // the harness, valid until the next Open or Reopen).
  virtual SearchContext& Open(const SearchSettings& settings) = 0;
  // The same job after its process restarted: a new context on it.
  virtual SearchContext& Reopen() = 0;
  // Makes the job's stored checkpoint unreadable, as a damaged store would.
  virtual void CorruptCheckpoint() = 0;
  // Cancels the job, as a user would.
  virtual void Cancel() = 0;
};

using HarnessFactory = std::function<std::unique_ptr<ContractHarness>()>;

namespace contract {

// Small enough that every case trains in about a second.
inline SearchSettings Settings() {
  SearchSettings s;
  s.dataset.name = "fashion-mnist";
  s.dataset.validation_fraction = 0.05;
  s.dataset.max_train_images = 640;
  s.seed = 5;
  s.objective = SearchSettings::Objective::kMnas;
  s.mnas = MnasObjective::Soft(1.0);
  s.training.epochs = 1;
  s.training.batch_size = 32;
  s.training.learning_rate = 0.05;
  s.training.threads = 2;
  s.latency.warmup = 1;
  s.latency.repeat = 3;
  s.latency.min_repeat_ms = 1;
  s.max_trials = 50;
  s.max_minutes = 30;
  return s;
}

// conv(width) -> batch norm -> relu -> global pool -> dense 10.
inline Graph Net(int width) {
  Graph g;
  g.input = Shape3{1, 28, 28};
  g.num_classes = 10;
  GraphBuilder b(&g);
  std::string x = b.Conv("conv", kInputName, width, 3);
  x = b.BatchNorm("bn", x);
  x = b.Act("relu", x, OpKind::kRelu);
  x = b.Op("pool", OpKind::kGlobalAvgPool, {x});
  b.Dense("fc", x, 10);
  return g;
}

inline bool HaveFashionMnist() {
  return LoadNamedDataset("fashion-mnist", "", 0.5, 1, 100).ok();
}

// The loss of `model` on the first batch the trainer draws for `settings`:
// computed here, apart from the trainer, in training mode (batch norm on
// the batch's statistics) as its first step computes it.
inline double FirstBatchLoss(const SearchSettings& s, Model model) {
  absl::StatusOr<DatasetSplits> data =
      LoadNamedDataset(s.dataset.name, "", s.dataset.validation_fraction, s.seed,
                       s.dataset.max_train_images);
  EXPECT_TRUE(data.ok()) << data.status();
  AugmentOptions augment;
  augment.pad_crop = s.training.augment_pad_crop;
  augment.horizontal_flip = s.training.augment_flip;
  BatchStream stream(data->train, data->norm, s.training.batch_size, /*shuffle=*/true,
                     /*drop_last=*/true, augment, s.seed + 1);
  Batch batch;
  EXPECT_TRUE(stream.Next(&batch));
  absl::StatusOr<std::unique_ptr<CompiledNet>> net = CompiledNet::Create(
      model.graph, &model.params, NetOptions{NetMode::kTrain, s.training.batch_size, 1, false});
  EXPECT_TRUE(net.ok()) << net.status();
  (*net)->Forward(batch.images.data());
  return SoftmaxCrossEntropy((*net)->Logits(), batch.labels.data(), batch.count, 10, nullptr);
}

inline TrialResult One(SearchContext& ctx, const EvaluationRequest& request) {
  std::vector<std::optional<TrialResult>> r = WaitAll(ctx, ctx.Evaluate({request}));
  EXPECT_TRUE(r[0].has_value()) << "no result arrived";
  return r[0] ? *r[0] : TrialResult{};
}

inline std::optional<TaskResult> Await(SearchContext& ctx, const TaskRequest& request) {
  return WaitAll(ctx, std::vector<std::shared_future<TaskResult>>{ctx.Submit(request)})[0];
}

inline EvaluationRequest Scratch(int width) {
  EvaluationRequest r;
  r.graph = Net(width);
  return r;
}

inline double MaxAbsDifference(const ParamStore& a, const ParamStore& b) {
  double worst = 0;
  for (const auto& [name, t] : a.tensors()) {
    const ParamTensor* u = b.Find(name);
    if (u == nullptr || u->values.size() != t.values.size()) return INFINITY;
    for (size_t i = 0; i < t.values.size(); ++i)
      worst = std::max(worst, double(std::abs(t.values[i] - u->values[i])));
  }
  return worst;
}

}  // namespace contract

class ContextContractTest : public ::testing::TestWithParam<HarnessFactory> {
 protected:
  void SetUp() override {
    if (!contract::HaveFashionMnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    harness_ = GetParam()();
  }
  std::unique_ptr<ContractHarness> harness_;
};

TEST_P(ContextContractTest, InitialWeightsReachTheTrainerAndKeyTheResult) {
  const SearchSettings s = contract::Settings();
  SearchContext& ctx = harness_->Open(s);
  const TrialResult scratch = contract::One(ctx, contract::Scratch(8));
  ASSERT_TRUE(scratch.ok) << scratch.error;
  EXPECT_FALSE(scratch.candidate_id.empty());
  ASSERT_FALSE(scratch.model_id.empty());
  EXPECT_EQ(scratch.graph_hash, *CanonicalHash(contract::Net(8)));
  // A fresh initialization starts near ln(10) = 2.30.
  EXPECT_NEAR(scratch.initial_loss, std::log(10.0), 0.8);

  absl::StatusOr<Model> parent = ctx.LoadModel(scratch.model_id);
  ASSERT_TRUE(parent.ok()) << parent.status();
  EvaluationRequest child = contract::Scratch(8);
  child.initial_weights = std::make_shared<ParamStore>(parent->params);
  child.parent_model_id = scratch.model_id;
  const TrialResult inherited = contract::One(ctx, child);
  ASSERT_TRUE(inherited.ok) << inherited.error;
  // Not the from-scratch result: another candidate, trained again.
  EXPECT_FALSE(inherited.cached);
  EXPECT_NE(inherited.candidate_id, scratch.candidate_id);
  EXPECT_NE(inherited.model_id, scratch.model_id);
  // Its first step's loss is the loaded model's loss on that batch.
  const double want = contract::FirstBatchLoss(s, *parent);
  EXPECT_NEAR(inherited.initial_loss, want, 1e-4 * std::max(1.0, want));
  EXPECT_LT(inherited.initial_loss, scratch.initial_loss - 0.2);

  // The same requests again are served from the cache, each its own.
  EXPECT_TRUE(contract::One(ctx, child).cached);
  const TrialResult again = contract::One(ctx, contract::Scratch(8));
  EXPECT_TRUE(again.cached);
  EXPECT_EQ(again.candidate_id, scratch.candidate_id);
  EXPECT_EQ(again.val_accuracy, scratch.val_accuracy);

  // Weights that are not the graph's parameters fail the request.
  EvaluationRequest wrong = contract::Scratch(16);
  wrong.initial_weights = std::make_shared<ParamStore>(parent->params);
  const TrialResult refused = contract::One(ctx, wrong);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("conv/"), std::string::npos) << refused.error;
}

TEST_P(ContextContractTest, PerRequestTrainingSettingsAreHonouredAndKeyTheResult) {
  SearchContext& ctx = harness_->Open(contract::Settings());
  const TrialResult base = contract::One(ctx, contract::Scratch(8));
  ASSERT_TRUE(base.ok) << base.error;
  absl::StatusOr<Model> start = ctx.LoadModel(base.model_id);
  ASSERT_TRUE(start.ok()) << start.status();

  // From the same weights, a learning rate of 1e-7 leaves them where they
  // were; the job's 0.05 moves them. So the request's rate reached the trainer.
  EvaluationRequest still = contract::Scratch(8);
  still.initial_weights = std::make_shared<ParamStore>(start->params);
  still.training = ctx.settings().training;
  still.training->learning_rate = 1e-7;
  still.training->momentum = 0;
  still.training->weight_decay = 0;
  EvaluationRequest moving = still;
  moving.training->learning_rate = 0.05;
  const TrialResult a = contract::One(ctx, still);
  const TrialResult b = contract::One(ctx, moving);
  ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
  EXPECT_NE(a.candidate_id, b.candidate_id);
  EXPECT_FALSE(a.cached || b.cached);
  absl::StatusOr<Model> ma = ctx.LoadModel(a.model_id), mb = ctx.LoadModel(b.model_id);
  ASSERT_TRUE(ma.ok() && mb.ok());
  // Trainable weights only: batch norm's running statistics follow the data.
  ParamStore trainable_a, trainable_b, trainable_start;
  for (const auto& [name, t] : start->params.tensors()) {
    if (!t.trainable) continue;
    trainable_start.Set(name, t);
    trainable_a.Set(name, *ma->params.Find(name));
    trainable_b.Set(name, *mb->params.Find(name));
  }
  EXPECT_LT(contract::MaxAbsDifference(trainable_start, trainable_a), 1e-4);
  EXPECT_GT(contract::MaxAbsDifference(trainable_start, trainable_b), 1e-2);

  // Two epochs are another key than one; a request equal to the job's
  // default is the job's.
  EvaluationRequest two = contract::Scratch(8);
  two.training = ctx.settings().training;
  two.training->epochs = 2;
  const TrialResult t2 = contract::One(ctx, two);
  ASSERT_TRUE(t2.ok) << t2.error;
  EXPECT_FALSE(t2.cached);
  EvaluationRequest same = contract::Scratch(8);
  same.training = ctx.settings().training;
  EXPECT_TRUE(contract::One(ctx, same).cached);

  EvaluationRequest bad = contract::Scratch(8);
  bad.training = ctx.settings().training;
  bad.training->epochs = 0;
  const TrialResult refused = contract::One(ctx, bad);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("training.epochs"), std::string::npos) << refused.error;
}

TEST_P(ContextContractTest, AModelLoadsBackAsStoredAndScoresAsItsTrialSaid) {
  SearchContext& ctx = harness_->Open(contract::Settings());
  const TrialResult r = contract::One(ctx, contract::Scratch(12));
  ASSERT_TRUE(r.ok) << r.error;
  absl::StatusOr<Model> first = ctx.LoadModel(r.model_id);
  absl::StatusOr<Model> second = ctx.LoadModel(r.model_id);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*CanonicalHash(first->graph), r.graph_hash);
  EXPECT_EQ(contract::MaxAbsDifference(first->params, second->params), 0);
  EXPECT_EQ(first->metadata.metrics.at("val_accuracy"), r.val_accuracy);
  EXPECT_EQ(ctx.LoadModel("model-that-is-not-there").status().code(), absl::StatusCode::kNotFound);

  // A task that is not a trial, on that model: scoring it on the validation
  // split gives back the accuracy its trial recorded.
  TaskRequest score;
  score.kind = kScoreTask;
  score.model_id = r.model_id;
  std::optional<TaskResult> out = contract::Await(ctx, score);
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok) << out->error;
  const nlohmann::json j = nlohmann::json::parse(out->output);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), r.val_accuracy);
  EXPECT_GT(j["loss"].get<double>(), 0);
}

TEST_P(ContextContractTest, UnknownAndTrialTaskKindsAreRefused) {
  SearchContext& ctx = harness_->Open(contract::Settings());
  for (const char* kind : {"no-such-kind", kTrainTask, kMeasureLatencyTask}) {
    TaskRequest r;
    r.kind = kind;
    std::optional<TaskResult> out = contract::Await(ctx, r);
    ASSERT_TRUE(out.has_value()) << kind;
    EXPECT_FALSE(out->ok) << kind;
    EXPECT_NE(out->error.find(kind), std::string::npos) << out->error;
  }
  TaskRequest negative;
  negative.kind = kScoreTask;
  negative.work = -1;
  std::optional<TaskResult> out = contract::Await(ctx, negative);
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(out->error.find("work"), std::string::npos) << out->error;
}

TEST_P(ContextContractTest, TheWorkOfTasksCountsAgainstTheBudget) {
  SearchSettings s = contract::Settings();
  s.max_trials = 3;
  SearchContext& ctx = harness_->Open(s);
  const TrialResult r = contract::One(ctx, contract::Scratch(8));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(ctx.ShouldStop());
  TaskRequest score;
  score.kind = kScoreTask;
  score.model_id = r.model_id;
  score.work = 1.5;
  ASSERT_TRUE(contract::Await(ctx, score).has_value());
  EXPECT_FALSE(ctx.ShouldStop()) << "1 trial + 1.5 of work is under 3";
  ASSERT_TRUE(contract::Await(ctx, score).has_value());
  EXPECT_TRUE(ctx.ShouldStop()) << "1 trial + 3 of work spends a budget of 3";
}

TEST_P(ContextContractTest, ArtifactsRoundTripWithTheirCheckpointAndSurviveARestart) {
  SearchContext& ctx = harness_->Open(contract::Settings());
  absl::StatusOr<std::optional<StrategyCheckpoint>> none = ctx.Restore();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value()) << "a new job has no checkpoint";

  std::mt19937_64 rng(3);
  std::string big(3 << 20, '\0');
  for (char& c : big) c = static_cast<char>(rng());
  StrategyCheckpoint one{{{"generation", 1}, {"note", "first"}},
                         {{"population", big}, {"empty", ""}}};
  ASSERT_TRUE(ctx.Checkpoint(one).ok());
  absl::StatusOr<std::optional<StrategyCheckpoint>> got = ctx.Restore();
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status();
  EXPECT_EQ((*got)->state, one.state);
  EXPECT_EQ((*got)->artifacts, one.artifacts);

  // A checkpoint replaces the last one whole: artifacts it does not name go.
  StrategyCheckpoint two{{{"generation", 2}}, {{"weights", std::string(1000, 'w')}}};
  ASSERT_TRUE(ctx.Checkpoint(two).ok());
  // One past the bounds is refused and leaves the last one standing.
  StrategyCheckpoint huge{{{"generation", 3}}, {{"weights", std::string(kMaxArtifactBytes + 1, 'x')}}};
  EXPECT_EQ(ctx.Checkpoint(huge).code(), absl::StatusCode::kInvalidArgument);
  StrategyCheckpoint badname{{{"generation", 3}}, {{"../etc/passwd", "x"}}};
  EXPECT_EQ(ctx.Checkpoint(badname).code(), absl::StatusCode::kInvalidArgument);

  SearchContext& again = harness_->Reopen();
  got = again.Restore();
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status();
  EXPECT_EQ((*got)->state, two.state);
  EXPECT_EQ((*got)->artifacts, two.artifacts);
}

TEST_P(ContextContractTest, ABrokenCheckpointIsAnErrorNotAFreshStart) {
  SearchContext& ctx = harness_->Open(contract::Settings());
  ASSERT_TRUE(ctx.Checkpoint(StrategyCheckpoint{{{"step", 7}}, {{"blob", "abc"}}}).ok());
  harness_->CorruptCheckpoint();
  absl::StatusOr<std::optional<StrategyCheckpoint>> got = harness_->Reopen().Restore();
  EXPECT_FALSE(got.ok()) << "a checkpoint that cannot be read must not read as none";
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
}

TEST_P(ContextContractTest, WaitAllKeepsResultsAlignedWhenTheJobStops) {
  SearchContext& ctx = harness_->Open(contract::Settings());
  const TrialResult known = contract::One(ctx, contract::Scratch(8));
  ASSERT_TRUE(known.ok) << known.error;
  harness_->Cancel();
  EXPECT_TRUE(ctx.ShouldStop());
  // After the stop: a new candidate, the known one, another new one.
  std::vector<std::optional<TrialResult>> r = WaitAll(
      ctx, ctx.Evaluate({contract::Net(20), contract::Net(8), contract::Net(24)}));
  ASSERT_EQ(r.size(), 3u);
  // Entry i answers request i: the known graph's result is in the middle,
  // and the others did not train (they never arrive, or arrive failed).
  ASSERT_TRUE(r[1].has_value());
  EXPECT_EQ(r[1]->graph_hash, known.graph_hash);
  EXPECT_EQ(r[1]->val_accuracy, known.val_accuracy);
  for (int i : {0, 2}) {
    if (r[i]) {
      EXPECT_FALSE(r[i]->ok) << i;
    }
  }
}

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_TESTING_CONTEXT_CONTRACT_H_
