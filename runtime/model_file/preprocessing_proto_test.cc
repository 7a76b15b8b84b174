// Model files carry their preprocessing: written, read back, refused when it
// does not fit the graph, and absent (not invented) in files without it.
#include <random>
#include <string>

#include "edgenas/v1/graph.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/graph/analyze.h"
#include "runtime/graph/presets.h"
#include "runtime/model_file/model_file.h"
#include "runtime/testing/model_file_bytes.h"

namespace edgenas {
namespace {

using testing::FrameModelBody;
using testing::kModelHeaderBytes;

using ::testing::HasSubstr;

Model Lenet(bool with_preprocessing) {
  Model m;
  m.graph = *Preset("lenet-300-100");
  std::mt19937_64 rng(3);
  EXPECT_TRUE(InitParams(m.graph, *AnalyzeGraph(m.graph), &m.params, rng).ok());
  if (with_preprocessing) {
    Preprocessing p;
    p.color = ColorFormat::kGrayscale;
    p.pixel_max = 255;
    p.norm = {{0.2860406f}, {0.3530242f}};
    p.resize = ResizeMethod::kArea;
    p.class_names = DatasetClassNames("fashion-mnist");
    m.metadata.preprocessing = p;
  }
  return m;
}

TEST(PreprocessingFileTest, RoundTripsEveryField) {
  Model m = Lenet(true);
  m.metadata.preprocessing->norm = {{0.125f}, {0.5f}};
  m.metadata.preprocessing->pixel_max = 65535;
  m.metadata.preprocessing->resize = ResizeMethod::kNone;
  absl::StatusOr<std::string> bytes = SerializeModel(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<Model> back = ParseModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->metadata.preprocessing.has_value());
  const Preprocessing& p = *back->metadata.preprocessing;
  EXPECT_EQ(p.color, ColorFormat::kGrayscale);
  EXPECT_EQ(p.pixel_max, 65535.f);
  EXPECT_EQ(p.norm.mean, std::vector<float>{0.125f});
  EXPECT_EQ(p.norm.stddev, std::vector<float>{0.5f});
  EXPECT_EQ(p.resize, ResizeMethod::kNone);
  EXPECT_EQ(p.class_names, DatasetClassNames("fashion-mnist"));
  v1::Model proto;
  ASSERT_TRUE(proto.ParseFromString(bytes->substr(kModelHeaderBytes)));
  EXPECT_EQ(proto.metadata().preprocessing().layout(), v1::INPUT_LAYOUT_NCHW);
}

TEST(PreprocessingFileTest, AFileWithoutItReadsWithoutIt) {
  absl::StatusOr<std::string> bytes = SerializeModel(Lenet(false));
  ASSERT_TRUE(bytes.ok());
  v1::Model proto;
  ASSERT_TRUE(proto.ParseFromString(bytes->substr(kModelHeaderBytes)));
  EXPECT_FALSE(proto.metadata().has_preprocessing());
  absl::StatusOr<Model> back = ParseModel(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->metadata.preprocessing.has_value());
  EXPECT_THAT(kUnknownPreprocessing, HasSubstr("normalization is unknown"));
}

TEST(PreprocessingFileTest, TheWriterRefusesWhatDoesNotFitTheGraph) {
  Model m = Lenet(true);
  m.metadata.preprocessing->color = ColorFormat::kRgb;
  EXPECT_THAT(SerializeModel(m).status().message(), HasSubstr("preprocessing.color"));
  m = Lenet(true);
  m.metadata.preprocessing->class_names.pop_back();
  EXPECT_THAT(SerializeModel(m).status().message(), HasSubstr("preprocessing.class_names"));
  m = Lenet(true);
  m.metadata.preprocessing->class_names[2] = "\xff";
  EXPECT_THAT(SerializeModel(m).status().message(), HasSubstr("not valid UTF-8"));
}

TEST(PreprocessingFileTest, TheReaderRefusesDamagedPreprocessingNamingTheField) {
  const std::string good = *SerializeModel(Lenet(true));
  v1::Model base;
  ASSERT_TRUE(base.ParseFromString(good.substr(kModelHeaderBytes)));
  ASSERT_TRUE(ParseModel(FrameModelBody(base.SerializeAsString())).ok());
  auto refused = [&](void (*damage)(v1::Preprocessing*)) {
    v1::Model m = base;
    damage(m.mutable_metadata()->mutable_preprocessing());
    absl::StatusOr<Model> parsed = ParseModel(FrameModelBody(m.SerializeAsString()));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    return std::string(parsed.status().message());
  };
  EXPECT_THAT(refused([](v1::Preprocessing* p) { p->set_color(v1::COLOR_FORMAT_UNSPECIFIED); }),
              HasSubstr("preprocessing.color: unspecified"));
  EXPECT_THAT(refused([](v1::Preprocessing* p) { p->set_layout(v1::InputLayout(7)); }),
              HasSubstr("preprocessing.layout: unknown value 7"));
  EXPECT_THAT(refused([](v1::Preprocessing* p) { p->set_resize(v1::RESIZE_METHOD_UNSPECIFIED); }),
              HasSubstr("preprocessing.resize"));
  EXPECT_THAT(refused([](v1::Preprocessing* p) { p->add_mean(0.5f); }),
              HasSubstr("preprocessing.mean: has 2 values"));
  EXPECT_THAT(refused([](v1::Preprocessing* p) { p->set_stddev(0, -1.f); }),
              HasSubstr("preprocessing.stddev[0]"));
  EXPECT_THAT(refused([](v1::Preprocessing* p) { p->set_pixel_max(0); }),
              HasSubstr("preprocessing.pixel_max"));
}

}  // namespace
}  // namespace edgenas
