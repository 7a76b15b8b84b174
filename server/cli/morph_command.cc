// morph: applies one function-preserving morph (runtime/morph/) to a model
// file and shows the preservation: the parent's and the child's logits on
// the same inputs, their largest difference and how often their top classes
// agree. --list prints where each morph applies.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/data/dataset.h"
#include "runtime/graph/analyze.h"
#include "runtime/model_file/model_file.h"
#include "runtime/morph/compare.h"
#include "runtime/morph/morph.h"
#include "runtime/util/flags.h"
#include "server/cli/commands.h"
#include "server/cli/local_command_util.h"

namespace edgenas {
namespace {

using cli_internal::FailLocal;
using cli_internal::UsageLocal;

struct MorphArgs {
  std::string deepen, widen, skip, to, enlarge, layer = "auto", out, dataset, data_dir;
  int width = 0, kernel = 0, batch = 1000, threads = 2;
  bool concat = false, linear = false, no_batch_norm = false, list = false;
  double noise = 0;
  uint64_t seed = 1;
};

// "--skip FROM TO" takes two values; the flag parser takes one, so the
// second becomes "--to TO".
std::vector<std::string> SplitSkip(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 2; i + 2 < args.size(); ++i) {
    if (args[i] == "--skip" && args[i + 2].rfind("-", 0) != 0) {
      args.insert(args.begin() + i + 2, "--to");
      break;
    }
  }
  return args;
}

absl::StatusOr<DeepenLayer> ParseLayer(const std::string& s) {
  if (s == "auto") return DeepenLayer::kAuto;
  if (s == "conv") return DeepenLayer::kConv;
  if (s == "dw_separable") return DeepenLayer::kDepthwiseSeparable;
  if (s == "dense") return DeepenLayer::kDense;
  return absl::InvalidArgumentError(
      absl::StrCat("--layer: '", s, "' is none of auto, conv, dw_separable, dense"));
}

// The flags that belong to one morph only, checked against the one chosen.
absl::Status CheckCombination(const Flags& f, const MorphArgs& a) {
  const int chosen = !a.deepen.empty() + !a.widen.empty() + !a.skip.empty() + !a.enlarge.empty() +
                     a.list;
  if (chosen != 1)
    return absl::InvalidArgumentError(
        "give exactly one of --deepen, --widen, --skip, --enlarge or --list");
  auto only = [&](const char* flag, bool allowed, const char* with) -> absl::Status {
    if (f.Seen(flag) && !allowed)
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": goes with ", with, " only"));
    return absl::OkStatus();
  };
  for (absl::Status s : {only("width", !a.widen.empty(), "--widen"),
                         only("noise", !a.widen.empty(), "--widen"),
                         only("concat", !a.skip.empty(), "--skip"),
                         only("to", !a.skip.empty(), "--skip"),
                         only("layer", !a.deepen.empty(), "--deepen"),
                         only("linear", !a.deepen.empty(), "--deepen"),
                         only("no-batch-norm", !a.deepen.empty(), "--deepen"),
                         only("kernel", !a.deepen.empty() || !a.enlarge.empty(),
                              "--deepen or --enlarge")})
    if (!s.ok()) return s;
  if (!a.widen.empty() && !f.Seen("width"))
    return absl::InvalidArgumentError("--width: --widen needs the new width");
  if (!a.skip.empty() && a.to.empty())
    return absl::InvalidArgumentError("--skip: give FROM and TO (--skip FROM TO)");
  if (!(a.noise >= 0 && a.noise <= 1))
    return absl::InvalidArgumentError("--noise: must be in [0, 1]");
  if (a.batch < 1 || a.batch > 100000)
    return absl::InvalidArgumentError("--batch: must be in [1, 100000]");
  if (a.threads < 1 || a.threads > 256)
    return absl::InvalidArgumentError("--threads: must be in [1, 256]");
  return absl::OkStatus();
}

absl::StatusOr<Model> ApplyMorph(const Model& parent, const MorphArgs& a) {
  if (!a.deepen.empty()) {
    DeepenOptions o;
    o.after = a.deepen;
    absl::StatusOr<DeepenLayer> layer = ParseLayer(a.layer);
    if (!layer.ok()) return layer.status();
    o.layer = *layer;
    if (a.kernel != 0) o.kernel = a.kernel;
    o.batch_norm = !a.no_batch_norm;
    o.activation = a.linear ? DeepenActivation::kNone : DeepenActivation::kSameAsAnchor;
    return Deepen(parent, o);
  }
  if (!a.widen.empty()) {
    WidenOptions o;
    o.node = a.widen;
    o.width = a.width;
    o.seed = a.seed;
    o.noise = static_cast<float>(a.noise);
    return Widen(parent, o);
  }
  if (!a.skip.empty()) {
    SkipOptions o;
    o.from = a.skip;
    o.to = a.to;
    o.kind = a.concat ? SkipKind::kConcat : SkipKind::kAdd;
    return AddSkip(parent, o);
  }
  EnlargeOptions o;
  o.node = a.enlarge;
  o.kernel = a.kernel;
  return EnlargeKernel(parent, o);
}

// `count` inputs: random normal ones (the values a normalized image has), or
// the dataset's first test images prepared as the model's preprocessing says.
absl::StatusOr<std::vector<float>> Inputs(const Model& m, const MorphArgs& a, std::string* what) {
  const Shape3& in = m.graph.input;
  const int64_t sample = int64_t{in.channels} * in.height * in.width;
  if (a.dataset.empty()) {
    std::mt19937_64 rng(a.seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(a.batch * sample);
    for (float& v : x) v = normal(rng);
    *what = absl::StrCat(a.batch, " random normal inputs (seed ", a.seed, ")");
    return x;
  }
  if (!m.metadata.preprocessing)
    return absl::FailedPreconditionError(
        absl::StrCat("--dataset: ", kUnknownPreprocessing, ", so its images cannot be prepared"));
  const Preprocessing& p = *m.metadata.preprocessing;
  absl::StatusOr<DatasetSplits> data = LoadNamedDataset(a.dataset, a.data_dir, 0.0, 1);
  if (!data.ok()) return data.status();
  const Dataset& test = data->test;
  if (test.channels != in.channels || test.height != in.height || test.width != in.width)
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset: ", a.dataset, "'s images are ", test.channels, "x", test.height,
                     "x", test.width, ", the model takes ", in.channels, "x", in.height, "x",
                     in.width));
  const int64_t count = std::min<int64_t>(a.batch, test.size());
  const int64_t plane = int64_t{in.height} * in.width;
  std::vector<float> x(count * sample);
  for (int64_t i = 0; i < count * sample; ++i) {
    const int c = static_cast<int>((i / plane) % in.channels);
    x[i] = (test.images[i] / p.pixel_max - p.norm.mean[c]) / p.norm.stddev[c];
  }
  *what = absl::StrCat("the first ", count, " ", a.dataset, " test images");
  return x;
}

std::string Summary(const Graph& g) {
  absl::StatusOr<GraphInfo> info = AnalyzeGraph(g);
  if (!info.ok()) return "invalid graph";
  return absl::StrCat(g.nodes.size(), " nodes, ", info->params, " parameters, ", info->flops,
                      " multiply-adds");
}

int List(const Model& m) {
  absl::StatusOr<std::vector<MorphSite>> sites = MorphSites(m.graph);
  if (!sites.ok()) return FailLocal(sites.status());
  for (const MorphSite& s : *sites)
    std::printf("%-12s %s%s%s\n", MorphKindName(s.kind), s.node.c_str(), s.to.empty() ? "" : " ",
                s.to.c_str());
  return 0;
}

}  // namespace

int RunMorph(int argc, char** argv) {
  MorphArgs a;
  Flags f("edgenas morph MODEL (--deepen NODE | --widen NODE --width N | --skip FROM TO "
          "[--concat] | --enlarge NODE | --list) [flags]",
          "Applies one function-preserving morph to a model file and compares the parent's\n"
          "and the child's logits on the same inputs: the largest difference (about 1e-5 is\n"
          "rounding) and how often their top classes agree. --out writes the child.\n"
          "NODE is a node name as `edgenas info MODEL` lists them ('input': the graph input).");
  f.String("deepen", &a.deepen, "insert an identity layer after NODE");
  f.String("layer", &a.layer, "deepen: auto | conv | dw_separable | dense");
  f.Bool("linear", &a.linear, "deepen: no activation after the new layer");
  f.Bool("no-batch-norm", &a.no_batch_norm, "deepen: no batch norm after the new layer");
  f.String("widen", &a.widen, "replicate the channels (units) of conv or dense NODE");
  f.Int("width", &a.width, "widen: the new channel (unit) count");
  f.Double("noise", &a.noise, "widen: symmetry-breaking noise, relative to the weights");
  f.String("skip", &a.skip, "add a skip connection FROM TO (TO's readers read the merge)");
  f.String("to", &a.to, "skip: TO, when not given right after FROM");
  f.Bool("concat", &a.concat, "skip: concat instead of add");
  f.String("enlarge", &a.enlarge, "grow conv NODE's kernel (3x3 -> 5x5)");
  f.Int("kernel", &a.kernel, "enlarge: the new kernel size; deepen: the new conv's (3)");
  f.Bool("list", &a.list, "list where each morph applies");
  f.UInt64("seed", &a.seed, "widen's replicas and noise, and the random inputs");
  f.Int("batch", &a.batch, "inputs to compare on");
  f.String("dataset", &a.dataset, "compare on this dataset's test images (default: random)");
  f.String("data-dir", &a.data_dir, "dataset directory (default: the Debian package's)");
  f.String("out", &a.out, "write the child model here");
  f.Int("threads", &a.threads, "compute threads");
  const std::vector<std::string> args = SplitSkip(argc, argv);
  std::vector<char*> ptrs;
  for (const std::string& s : args) ptrs.push_back(const_cast<char*>(s.c_str()));
  if (absl::Status s = f.Parse(static_cast<int>(ptrs.size()), ptrs.data(), 2); !s.ok())
    return UsageLocal(f, s);
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (f.positional().size() != 1)
    return UsageLocal(f, absl::InvalidArgumentError("give one model file"));
  if (absl::Status s = CheckCombination(f, a); !s.ok()) return UsageLocal(f, s);
  if (absl::Status s = ParseLayer(a.layer).status(); !s.ok()) return UsageLocal(f, s);

  const std::string path = f.positional()[0];
  absl::StatusOr<Model> parent = ReadModelFile(path);
  if (!parent.ok()) return FailLocal(parent.status());
  if (a.list) return List(*parent);
  absl::StatusOr<Model> child = ApplyMorph(*parent, a);
  if (!child.ok()) return FailLocal(child.status());
  omp_set_num_threads(a.threads);
  std::string what;
  absl::StatusOr<std::vector<float>> x = Inputs(*parent, a, &what);
  if (!x.ok()) return FailLocal(x.status());
  const int batch = std::min(a.batch, 250);
  absl::StatusOr<std::vector<float>> pl = LogitsOf(parent->graph, &parent->params, *x, batch);
  if (!pl.ok()) return FailLocal(pl.status());
  absl::StatusOr<std::vector<float>> cl = LogitsOf(child->graph, &child->params, *x, batch);
  if (!cl.ok()) return FailLocal(cl.status());
  const OutputDifference d = CompareLogits(*pl, *cl, parent->graph.num_classes);
  std::printf("parent: %s (%s)\n", path.c_str(), Summary(parent->graph).c_str());
  std::printf("child:  %s (%s)\n", child->metadata.provenance["morph"].c_str(),
              Summary(child->graph).c_str());
  std::printf("on %s: largest |parent - child| logit %.3g (largest |parent| logit %.3g); "
              "top class agrees on %d of %d\n",
              what.c_str(), d.max_abs, d.max_parent_abs, static_cast<int>(d.top_agree),
              static_cast<int>(d.samples));
  if (!a.out.empty()) {
    if (absl::Status s = WriteModelFile(a.out, *child); !s.ok()) return FailLocal(s);
    std::printf("wrote %s\n", a.out.c_str());
  }
  return 0;
}

}  // namespace edgenas
