#include "edgenas/classifier.h"

#include <omp.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/api/image_file.h"
#include "runtime/api/testing/random_image.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"
#include "runtime/model_file/model_file.h"

namespace edgenas {
namespace {

using testing::RandomImage;

using ::testing::HasSubstr;

// A 1 x 8 x 8 net of four classes with random weights (biases too, so that
// no two outputs tie).
Model SmallModel(bool softmax, bool with_preprocessing) {
  Model m;
  m.graph.input = Shape3{1, 8, 8};
  m.graph.num_classes = 4;
  GraphBuilder b(&m.graph);
  std::string x = b.Act("r", b.Conv("c", "input", 4, 3, 1, 1), OpKind::kRelu);
  x = b.Dense("fc", b.Pool("p", x, OpKind::kMaxPool, 2, 2), 4);
  if (softmax) {
    Node sm;
    sm.name = "sm";
    sm.op = OpKind::kSoftmax;
    sm.inputs = {x};
    m.graph.nodes.push_back(sm);
  }
  std::mt19937_64 rng(5);
  EXPECT_TRUE(InitParams(m.graph, *AnalyzeGraph(m.graph), &m.params, rng).ok());
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (auto& [key, t] : m.params.mutable_tensors())
    for (float& v : t.values) v += u(rng);
  m.params.Touch();
  if (with_preprocessing) {
    Preprocessing p;
    p.norm = {{0.3f}, {0.25f}};
    p.class_names = {"north-west", "north-east", "south-west", "south-east"};
    m.metadata.preprocessing = p;
  }
  return m;
}

class ClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "edgenas_classifier_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Save(const std::string& name, const Model& m) {
    const std::string path = dir_ + "/" + name;
    absl::Status s = WriteModelFile(path, m);
    EXPECT_TRUE(s.ok()) << s;
    return path;
  }

  std::string dir_;
};

// The engine's own outputs for `image`: prepared by ImagePreparer, run by a
// batch-1 inference net.
std::vector<float> EngineOutputs(Model m, const Image& image) {
  ImagePreparer preparer =
      *ImagePreparer::Create(*m.metadata.preprocessing, m.graph.input, m.graph.num_classes);
  std::vector<float> input(m.graph.input.elements());
  EXPECT_TRUE(
      preparer
          .Prepare({image.pixels.data(), image.width, image.height, image.channels}, input.data())
          .ok());
  auto net = CompiledNet::Create(m.graph, &m.params, NetOptions{NetMode::kInference, 1, 1, false});
  EXPECT_TRUE(net.ok()) << net.status();
  (*net)->Forward(input.data());
  return std::vector<float>((*net)->Logits(), (*net)->Logits() + m.graph.num_classes);
}

TEST_F(ClassifierTest, ClassifyRanksTheEnginesOutputsBySoftmax) {
  const Model m = SmallModel(/*softmax=*/false, true);
  StatusOr<Classifier> c = Classifier::Open(Save("small.model", m));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->info().channels, 1);
  EXPECT_EQ(c->info().height, 8);
  EXPECT_EQ(c->info().num_classes, 4);
  EXPECT_EQ(c->info().color, "grayscale");
  EXPECT_EQ(c->info().mean, std::vector<float>{0.3f});
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    // Any size: it is resized to 8 x 8 as the preprocessing says.
    const Image image = RandomImage(8 + int(seed), 8, seed % 2 ? 1 : 3, seed);
    const std::vector<float> logits = EngineOutputs(m, image);
    StatusOr<std::vector<ClassScore>> top = c->Classify(image, 4);
    ASSERT_TRUE(top.ok()) << top.status().ToString();
    ASSERT_EQ(top->size(), 4u);
    double sum = 0;
    for (float z : logits) sum += std::exp(double(z));
    float total = 0;
    for (size_t i = 0; i < 4; ++i) {
      const ClassScore& s = (*top)[i];
      EXPECT_NEAR(s.probability, std::exp(double(logits[s.index])) / sum, 1e-6);
      EXPECT_EQ(s.name, c->info().class_names[s.index]);
      if (i > 0) {
        EXPECT_LT(s.probability, (*top)[i - 1].probability);
      }
      total += s.probability;
    }
    EXPECT_EQ((*top)[0].index, std::max_element(logits.begin(), logits.end()) - logits.begin());
    EXPECT_NEAR(total, 1.0f, 1e-5);
    StatusOr<std::vector<ClassScore>> two = c->Classify(image, 2);
    ASSERT_TRUE(two.ok());
    ASSERT_EQ(two->size(), 2u);
    EXPECT_EQ((*two)[1].index, (*top)[1].index);
  }
}

TEST_F(ClassifierTest, RunGivesTheNetsOutputsAndASoftmaxIsNotAppliedTwice) {
  const Model m = SmallModel(/*softmax=*/true, true);
  StatusOr<Classifier> c = Classifier::Open(Save("softmax.model", m));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const Image image = RandomImage(8, 8, 1, 11);
  const std::vector<float> outputs = EngineOutputs(m, image);
  float sum = 0;
  for (float p : outputs) sum += p;
  ASSERT_NEAR(sum, 1.0f, 1e-5);  // the net's own softmax
  StatusOr<std::vector<ClassScore>> top = c->Classify(image, 1);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ((*top)[0].probability, *std::max_element(outputs.begin(), outputs.end()));

  ImagePreparer preparer = *ImagePreparer::Create(*m.metadata.preprocessing, m.graph.input, 4);
  std::vector<float> input(64);
  ASSERT_TRUE(preparer.Prepare({image.pixels.data(), 8, 8, 1}, input.data()).ok());
  StatusOr<std::vector<float>> run = c->Run(input);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->size(), 4u);
  EXPECT_EQ(std::memcmp(run->data(), outputs.data(), 4 * sizeof(float)), 0);
}

TEST_F(ClassifierTest, EachProblemIsAnErrorThatNamesIt) {
  StatusOr<Classifier> missing = Classifier::Open(dir_ + "/none.model");
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);

  const std::string old = Save("old.model", SmallModel(false, false));
  StatusOr<Classifier> no_preprocessing = Classifier::Open(old);
  EXPECT_EQ(no_preprocessing.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_THAT(no_preprocessing.status().message(), HasSubstr("normalization is unknown"));
  EXPECT_THAT(no_preprocessing.status().ToString(), HasSubstr("FAILED_PRECONDITION: "));

  const std::string path = Save("corrupt.model", SmallModel(false, true));
  std::string bytes = *ReadFileBytes(path, 1 << 20);
  bytes[bytes.size() / 2] ^= 0x10;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  StatusOr<Classifier> corrupt = Classifier::Open(path);
  EXPECT_EQ(corrupt.status().code(), Status::Code::kDataLoss);
  EXPECT_THAT(corrupt.status().message(), HasSubstr("checksum mismatch"));

  StatusOr<Classifier> bad_threads = Classifier::Open(old, Classifier::Options{-1});
  EXPECT_THAT(bad_threads.status().message(), HasSubstr("Options.threads"));

  StatusOr<Image> text = DecodeImage("P5 8 8 255\n", 11, "picture.pgm");
  EXPECT_EQ(text.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("picture.pgm: not a PNG or JPEG image"));
  EXPECT_EQ(ReadImage(dir_ + "/none.png").status().code(), Status::Code::kNotFound);

  Model exact = SmallModel(false, true);
  exact.metadata.preprocessing->resize = ResizeMethod::kNone;
  StatusOr<Classifier> c = Classifier::Open(Save("exact.model", exact));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto refused = [](const StatusOr<std::vector<ClassScore>>& r) {
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    return r.status().message();
  };
  EXPECT_THAT(refused(c->Classify(RandomImage(28, 28, 1, 1))),
              HasSubstr("28 x 28 pixels, the model takes 8 x 8"));
  Image short_buffer = RandomImage(8, 8, 1, 1);
  short_buffer.pixels.pop_back();
  EXPECT_THAT(refused(c->Classify(short_buffer)), HasSubstr("63 bytes of pixels"));
  EXPECT_THAT(refused(c->Classify(RandomImage(8, 8, 1, 1), 0)), HasSubstr("k: 0"));
  EXPECT_THAT(refused(c->Classify(RandomImage(8, 8, 5, 1))), HasSubstr("5 channels"));
  StatusOr<std::vector<float>> run = c->Run(std::vector<float>(63));
  EXPECT_EQ(run.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(run.status().message(), HasSubstr("63 floats, the model takes 1 x 8 x 8 = 64"));

  Classifier moved = std::move(*c);
  EXPECT_TRUE(moved.Classify(RandomImage(8, 8, 1, 1)).ok());
  EXPECT_EQ(c->Classify(RandomImage(8, 8, 1, 1)).status().code(),
            Status::Code::kFailedPrecondition);
}

TEST_F(ClassifierTest, CallsLeaveTheCallersThreadCountAlone) {
  StatusOr<Classifier> c =
      Classifier::Open(Save("t.model", SmallModel(false, true)), Classifier::Options{1});
  ASSERT_TRUE(c.ok());
  omp_set_num_threads(2);
  ASSERT_TRUE(c->Classify(RandomImage(8, 8, 1, 1)).ok());
  EXPECT_EQ(omp_get_max_threads(), 2);
}

TEST(StatusOrTest, HoldsAValueOrAnError) {
  StatusOr<int> value(7);
  EXPECT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  StatusOr<int> error(Status(Status::Code::kNotFound, "x"));
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status().ToString(), "NOT_FOUND: x");
  StatusOr<int> from_ok{Status()};
  EXPECT_FALSE(from_ok.ok());
  EXPECT_EQ(from_ok.status().code(), Status::Code::kInternal);
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // OpenMP's threads may be running
  EXPECT_DEATH(error.value(), "holds none was read: NOT_FOUND: x");
}

}  // namespace
}  // namespace edgenas
