#include "runtime/model_file/model_file.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "edgenas/v1/graph.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/exec/net.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/blocks.h"
#include "runtime/graph/graph_hash.h"
#include "runtime/graph/graph_json.h"
#include "runtime/testing/model_file_bytes.h"
#include "runtime/testing/random_graph.h"
#include "runtime/testing/random_values.h"

namespace edgenas {
namespace {

using testing::FrameModelBody;
using testing::kModelHeaderBytes;

using ::testing::HasSubstr;
using testing::RandomInput;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/model_file_test_" + name;
}

// Every tensor random (biases, BN statistics too), so a tensor swapped or
// dropped on the way through the file changes the outputs.
Model RandomModel(const Graph& graph, uint64_t seed) {
  Model m;
  m.graph = graph;
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(graph);
  EXPECT_TRUE(info.ok()) << info.status();
  std::mt19937_64 rng(seed);
  EXPECT_TRUE(InitParams(graph, *info, &m.params, rng).ok());
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (auto& [key, t] : m.params.mutable_tensors()) {
    const bool positive =
        key.find("running_var") != std::string::npos || key.find("/gamma") != std::string::npos;
    if (key.find("/weight") != std::string::npos) continue;
    for (float& x : t.values) x = positive ? 1.0f + u(rng) : u(rng);
  }
  m.params.Touch();
  m.metadata.metrics = {{"val_accuracy", 0.8125}, {"median_ms", 1.0 / 3}, {"nan", std::nan("")}};
  m.metadata.provenance = {{"dataset", "fashion-mnist"},
                           {"seed", std::to_string(seed)},
                           {"note", std::string("a NUL \0, \xc3\xa9 and \xe2\x82\xac", 19)}};
  return m;
}

// batch x classes outputs of an inference net.
std::vector<float> Infer(const Graph& g, ParamStore* params, const std::vector<float>& input,
                         int batch) {
  absl::StatusOr<std::unique_ptr<CompiledNet>> net =
      CompiledNet::Create(g, params, NetOptions{NetMode::kInference, batch, 1, false});
  EXPECT_TRUE(net.ok()) << net.status();
  if (!net.ok()) return {};
  (*net)->Forward(input.data());
  const float* y = (*net)->Logits();
  return std::vector<float>(y, y + size_t(batch) * g.num_classes);
}

void ExpectSameBits(const std::vector<float>& a, const std::vector<float>& b,
                    const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << what;
}

TEST(ModelFileTest, RandomModelsTrainAndReloadBitIdentical) {
  const int batch = 2;
  std::set<std::string> ops;  // the nets below ran every op
  for (uint64_t seed = 0; seed < 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Model model = RandomModel(RandomGraph(rng, RandomGraphOptions()), seed);
    const Graph& g = model.graph;
    for (const Node& n : g.nodes) ops.insert(OpName(n.op));
    const std::vector<float> input = RandomInput(g, batch, seed + 1000);

    // A training step: gradients exist for every trainable tensor, are
    // finite, and are not all zero. It may move batch-norm running
    // statistics, but no trainable value.
    const ParamStore untrained = model.params;
    absl::StatusOr<std::unique_ptr<CompiledNet>> train =
        CompiledNet::Create(g, &model.params, NetOptions{NetMode::kTrain, batch, seed, false});
    ASSERT_TRUE(train.ok()) << train.status();
    (*train)->Forward(input.data());
    std::vector<float> dlogits(size_t(batch) * g.num_classes);
    for (size_t i = 0; i < dlogits.size(); ++i) dlogits[i] = (i % 3 == 0 ? 1.0f : -0.5f);
    (*train)->Backward(dlogits.data());
    int nonzero = 0;
    for (const auto& [key, t] : model.params.tensors()) {
      if (!t.trainable) continue;
      auto it = (*train)->Grads().find(key);
      ASSERT_NE(it, (*train)->Grads().end()) << "no gradient for " << key;
      ASSERT_EQ(it->second.values.size(), t.values.size()) << key;
      for (float d : it->second.values) {
        ASSERT_TRUE(std::isfinite(d)) << key;
        nonzero += d != 0;
      }
    }
    EXPECT_GT(nonzero, 0);
    for (const auto& [key, t] : model.params.tensors())
      if (t.trainable) ExpectSameBits(t.values, untrained.Find(key)->values, key);

    const std::vector<float> before = Infer(g, &model.params, input, batch);
    ASSERT_EQ(before.size(), size_t(batch) * g.num_classes);
    for (float y : before) ASSERT_TRUE(std::isfinite(y));
    ExpectSameBits(Infer(g, &model.params, input, batch), before, "a second inference net");

    const std::string path = TempPath(std::to_string(seed) + ".edgenas");
    ASSERT_TRUE(WriteModelFile(path, model).ok());
    absl::StatusOr<Model> back = ReadModelFile(path);
    ASSERT_TRUE(back.ok()) << back.status();
    std::remove(path.c_str());

    EXPECT_EQ(GraphToJson(back->graph), GraphToJson(g));
    EXPECT_EQ(*CanonicalHash(back->graph), *CanonicalHash(g));
    ASSERT_EQ(back->params.tensors().size(), model.params.tensors().size());
    for (const auto& [key, t] : model.params.tensors()) {
      const ParamTensor* r = back->params.Find(key);
      ASSERT_NE(r, nullptr) << key;
      EXPECT_EQ(r->dims, t.dims) << key;
      EXPECT_EQ(r->trainable, t.trainable) << key;
      ExpectSameBits(r->values, t.values, key);
    }
    EXPECT_EQ(back->metadata.provenance, model.metadata.provenance);
    ASSERT_EQ(back->metadata.metrics.size(), 3u);
    EXPECT_EQ(back->metadata.metrics.at("val_accuracy"), 0.8125);
    EXPECT_EQ(back->metadata.metrics.at("median_ms"), 1.0 / 3);
    EXPECT_TRUE(std::isnan(back->metadata.metrics.at("nan")));

    ExpectSameBits(Infer(back->graph, &back->params, input, batch), before, "reloaded");
  }
  for (const std::string& op : AllOpNames()) EXPECT_TRUE(ops.count(op)) << op;
}

TEST(ModelFileTest, WriteReplacesAtomicallyAndRefusesWhatItCouldNotRead) {
  std::mt19937_64 rng(1);
  Model a = RandomModel(RandomGraph(rng, RandomGraphOptions()), 1);
  Model b = RandomModel(RandomGraph(rng, RandomGraphOptions()), 2);
  const std::string path = TempPath("replace.edgenas");
  ASSERT_TRUE(WriteModelFile(path, a).ok());
  ASSERT_TRUE(WriteModelFile(path, b).ok());
  absl::StatusOr<Model> back = ReadModelFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(GraphToJson(back->graph), GraphToJson(b.graph));
  EXPECT_FALSE(std::ifstream(path + ".tmp").good()) << "temporary file left behind";
  std::remove(path.c_str());

  EXPECT_FALSE(WriteModelFile(TempPath("no_such_dir/x.edgenas"), a).ok());

  // A store with a stray, a missing or a misshapen tensor: the file could
  // never be read back, so it is not written.
  const std::string key = a.params.tensors().begin()->first;
  Model stray = a;
  ParamTensor extra;
  extra.dims = {1};
  extra.values = {0.0f};
  stray.params.Set("ghost/weight", extra);
  absl::StatusOr<std::string> bytes = SerializeModel(stray);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr("ghost/weight"));
  Model missing = a;
  missing.params.Erase(key);
  bytes = SerializeModel(missing);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr(key));
  Model misshapen = a;
  misshapen.params.Find(key)->values.push_back(0.0f);
  bytes = SerializeModel(misshapen);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr(key));
  Model invalid = a;
  invalid.graph.num_classes = 1;
  EXPECT_FALSE(SerializeModel(invalid).ok());
  // proto3 refuses to parse strings that are not UTF-8: such metadata was
  // once written and then unreadable.
  for (const std::string& bad : {std::string("\xff"), std::string("\xc3"),
                                 std::string("\xed\xa0\x80"), std::string("\xc0\xaf")}) {
    Model m = a;
    m.metadata.provenance["note"] = bad;
    bytes = SerializeModel(m);
    ASSERT_FALSE(bytes.ok()) << absl::CHexEscape(bad);
    EXPECT_THAT(std::string(bytes.status().message()), HasSubstr("'note'"));
    m = a;
    m.metadata.metrics["acc" + bad] = 1;
    EXPECT_FALSE(SerializeModel(m).ok()) << absl::CHexEscape(bad);
  }
}

// ---------------------------------------------------------------------------
// Corruption. A small model keeps "every byte flipped" cheap.

Model SmallModel() {
  Graph g;
  g.input = Shape3{2, 6, 6};
  g.num_classes = 3;
  GraphBuilder b(&g);
  std::string x = b.Conv("conv", "input", 4, 3, 2, 1);
  x = b.Act("relu", b.BatchNorm("bn", x), OpKind::kRelu);
  b.Dense("fc", x, 3);
  return RandomModel(g, 5);
}

v1::Model Body(const std::string& file) {
  v1::Model m;
  EXPECT_TRUE(m.ParseFromString(file.substr(kModelHeaderBytes)));
  return m;
}

void ExpectRefused(const std::string& bytes, const std::string& part) {
  absl::StatusOr<Model> m = ParseModel(bytes);
  ASSERT_FALSE(m.ok()) << part;
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(part));
}

TEST(ModelFileCorruptionTest, TheWrapHelperMatchesTheWriter) {
  Model m = SmallModel();
  absl::StatusOr<std::string> file = SerializeModel(m);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(FrameModelBody(file->substr(kModelHeaderBytes)), *file);
  EXPECT_TRUE(ParseModel(FrameModelBody(Body(*file).SerializeAsString())).ok());
}

TEST(ModelFileCorruptionTest, TruncatedAtAnyLength) {
  const std::string file = *SerializeModel(SmallModel());
  for (size_t n : {size_t{0}, size_t{1}, size_t{8}, kModelHeaderBytes - 1, kModelHeaderBytes,
                   kModelHeaderBytes + 1, file.size() / 2, file.size() - 1})
    EXPECT_FALSE(ParseModel(file.substr(0, n)).ok()) << n;
  ExpectRefused(file.substr(0, 10), "header");
  ExpectRefused(file.substr(0, file.size() - 1), "truncated");
  ExpectRefused(file + "x", "header says");
}

TEST(ModelFileCorruptionTest, EveryFlippedByteIsCaught) {
  std::string file = *SerializeModel(SmallModel());
  ASSERT_LT(file.size(), 4096u);
  for (size_t i = 0; i < file.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      file[i] = static_cast<char>(file[i] ^ mask);
      EXPECT_FALSE(ParseModel(file).ok()) << "byte " << i << " ^ " << int(mask);
      file[i] = static_cast<char>(file[i] ^ mask);
    }
  }
  ASSERT_TRUE(ParseModel(file).ok());
  file[kModelHeaderBytes + 5] ^= 0x10;
  ExpectRefused(file, "checksum");
}

TEST(ModelFileCorruptionTest, BadMagicAndUnsupportedVersion) {
  const std::string file = *SerializeModel(SmallModel());
  std::string bad = file;
  bad[0] = 'X';
  ExpectRefused(bad, "magic");
  ExpectRefused("PK\x03\x04 not a model at all, but long enough", "magic");
  absl::StatusOr<Model> v2 = ParseModel(FrameModelBody(file.substr(kModelHeaderBytes), 2));
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(v2.status().message()), HasSubstr("version 2"));
  // An absurd length in the header is refused before anything is read.
  bad = file;
  for (int i = 12; i < 20; ++i) bad[i] = '\xff';
  ExpectRefused(bad, "absurd");
}

TEST(ModelFileCorruptionTest, WeightsThatDoNotFitTheGraph) {
  const v1::Model good = Body(*SerializeModel(SmallModel()));
  auto find = [](v1::Model& m, const std::string& name) {
    for (v1::Tensor& t : *m.mutable_weights())
      if (t.name() == name) return &t;
    ADD_FAILURE() << name;
    return m.add_weights();
  };
  v1::Model m = good;
  find(m, "conv/weight")->set_dims(1, 3);  // [4, 2, 3, 3] -> [4, 3, 3, 3]
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "'conv/weight' has dims [4,3,3,3]");
  m = good;
  find(m, "fc/weight")->mutable_data()->resize(8);
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "'fc/weight' holds 8 bytes");
  m = good;
  find(m, "bn/running_var")->clear_dims();
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "'bn/running_var' has dims []");
  m = good;
  for (int i = 0; i < m.weights_size(); ++i) {
    if (m.weights(i).name() == "bn/beta") {
      m.mutable_weights()->DeleteSubrange(i, 1);
      break;
    }
  }
  ASSERT_EQ(m.weights_size(), good.weights_size() - 1);
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "'bn/beta' is missing");
  m = good;
  v1::Tensor* extra = m.add_weights();
  extra->set_name("relu/weight");
  extra->add_dims(1);
  extra->set_data(std::string(4, '\0'));
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "'relu/weight' belongs to no node");
  m = good;
  *m.add_weights() = *find(m, "fc/bias");  // the same tensor twice
  EXPECT_FALSE(ParseModel(FrameModelBody(m.SerializeAsString())).ok());
}

TEST(ModelFileCorruptionTest, BodiesThatAreNotAValidModel) {
  const v1::Model good = Body(*SerializeModel(SmallModel()));
  ExpectRefused(FrameModelBody("\xff\xff\xff\xff not protobuf"), "does not parse");
  v1::Model m = good;
  m.mutable_graph()->mutable_nodes(1)->set_op(static_cast<v1::Op>(50));
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "unknown op 50");
  m = good;
  m.mutable_graph()->mutable_nodes(0)->set_inputs(0, "relu");  // a cycle
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "cycle");
  m = good;
  m.mutable_graph()->set_num_classes(4);
  ExpectRefused(FrameModelBody(m.SerializeAsString()), "4 classes");
  // An empty body is an empty graph.
  ExpectRefused(FrameModelBody(""), "graph");
}

TEST(ModelFileCorruptionTest, EmptyAndMissingFiles) {
  const std::string empty = TempPath("empty.edgenas");
  std::ofstream(empty).close();
  absl::StatusOr<Model> m = ReadModelFile(empty);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(empty));
  std::remove(empty.c_str());
  m = ReadModelFile(TempPath("does_not_exist.edgenas"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  // A directory is not a model file either.
  EXPECT_FALSE(ReadModelFile(::testing::TempDir()).ok());
}

}  // namespace
}  // namespace edgenas
