#include "search/deepneat/layer_dag.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace deepneat {
namespace {

// A stride-2 layer downsamples only from maps of at least this size, so the
// last map stays at least 4x4 (the mobile space's rule).
constexpr int kMinDownsampleSide = 8;

// Stride 2 with "same" padding (and the 3x3/2 pools with padding 1) round up.
int Halved(int side) { return (side + 1) / 2; }

Tensor Flattened(GraphBuilder& b, const Tensor& in, const std::string& prefix) {
  if (in.flat) return in;
  std::string x = in.name;
  if (in.height > 1 || in.width > 1) x = b.Op(prefix + "/gap", OpKind::kGlobalAvgPool, {x});
  x = b.Op(prefix + "/flatten", OpKind::kFlatten, {x});
  return Tensor{x, in.channels, 1, 1, true};
}

Tensor DenseRelu(GraphBuilder& b, const Tensor& in, int units, const std::string& prefix) {
  const Tensor flat = Flattened(b, in, prefix);
  const std::string x =
      b.Act(prefix + "/relu", b.Dense(prefix + "/dense", flat.name, units), OpKind::kRelu);
  return Tensor{x, units, 1, 1, true};
}

int FireSqueeze(const LayerGene& layer) {
  return std::max(1, static_cast<int>(std::lround(layer.width * layer.squeeze_ratio)));
}

}  // namespace

Tensor MergeTensors(GraphBuilder& b, const std::vector<Tensor>& inputs, const std::string& prefix) {
  if (inputs.size() == 1) return inputs.front();
  const bool any_flat =
      std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) { return t.flat; });
  std::vector<std::string> names;
  Tensor out;
  if (any_flat) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor t = Flattened(b, inputs[i], absl::StrCat(prefix, "/merge", i));
      names.push_back(t.name);
      out.channels += t.channels;
    }
    out.height = out.width = 1;
    out.flat = true;
  } else {
    int h = inputs.front().height, w = inputs.front().width;
    for (const Tensor& t : inputs) h = std::min(h, t.height), w = std::min(w, t.width);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      std::string x = t.name;
      if (t.height != h || t.width != w) {
        // No padding, stride floor(H / h), and the kernel that makes exactly
        // h rows: (H - k) / s + 1 = h (likewise for the columns).
        const int sh = t.height / h, sw = t.width / w;
        x = b.PoolWindow(absl::StrCat(prefix, "/merge", i, "_pool"), x, OpKind::kAvgPool,
                         t.height - (h - 1) * sh, t.width - (w - 1) * sw, sh, sw);
      }
      names.push_back(x);
      out.channels += t.channels;
    }
    out.height = h;
    out.width = w;
  }
  out.name = b.Op(prefix + "/concat", OpKind::kConcat, names);
  return out;
}

Tensor ApplyLayer(GraphBuilder& b, const LayerGene& layer, const Tensor& in, const std::string& prefix) {
  switch (layer.type) {
    case LayerType::kDense:
      return DenseRelu(b, in, layer.width, prefix);
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
      if (in.flat) return in;
      break;
    case LayerType::kConv:
    case LayerType::kDwSeparable:
    case LayerType::kMBConv:
    case LayerType::kFire:
      if (in.flat) return DenseRelu(b, in, layer.width, prefix);
      break;
  }
  const bool down = layer.stride == 2 && std::min(in.height, in.width) >= kMinDownsampleSide;
  const int stride = down ? 2 : 1;
  Tensor out{"", layer.width, down ? Halved(in.height) : in.height,
             down ? Halved(in.width) : in.width, false};
  switch (layer.type) {
    case LayerType::kConv:
      out.name = b.ConvBnAct(prefix, in.name, in.channels, layer.width, layer.kernel, stride, 1,
                             OpKind::kRelu6);
      return out;
    case LayerType::kDwSeparable:
      out.name = b.DepthwiseSeparable(prefix, in.name, in.channels, layer.width, layer.kernel, stride);
      return out;
    case LayerType::kMBConv:
      out.name = b.MBConv(prefix, in.name, in.channels, layer.width, layer.expand, layer.kernel,
                          stride, layer.se_ratio);
      return out;
    case LayerType::kFire: {
      std::string x = in.name;
      if (down) x = b.Pool(prefix + "/pool", x, OpKind::kMaxPool, 3, 2, 1);
      const int expand1x1 = layer.width / 2;
      out.name = b.Fire(prefix, x, FireSqueeze(layer), expand1x1, layer.width - expand1x1);
      return out;
    }
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
      out.channels = in.channels;
      out.name = b.Pool(prefix + "/pool", in.name,
                        layer.type == LayerType::kMaxPool ? OpKind::kMaxPool : OpKind::kAvgPool, 3,
                        stride, 1);
      return out;
    case LayerType::kDense:
      break;  // handled above
  }
  return in;
}

Tensor BuildLayerDag(GraphBuilder& b, const LayerGenome& g, const Tensor& in, const std::string& prefix) {
  const std::vector<int> order = LiveOrder(g);
  if (order.empty()) return in;
  std::map<int, Tensor> values = {{kDagInput, in}};
  for (int id : order) {
    if (id == kDagInput) continue;
    std::vector<Tensor> inputs;
    for (const DagLink& l : g.links)
      if (l.enabled && l.out == id && values.count(l.in)) inputs.push_back(values.at(l.in));
    const std::string name = absl::StrCat(prefix, "n", id);
    const Tensor merged = MergeTensors(b, inputs, name + "/in");
    if (id == kDagOutput) return merged;
    values[id] = ApplyLayer(b, g.Node(id)->payload, merged, name);
  }
  return in;  // not reached: the live order ends at the output
}

void BuildHead(GraphBuilder& b, const Tensor& in, int num_classes) {
  std::string x = in.name;
  if (!in.flat) x = b.Op("pool", OpKind::kGlobalAvgPool, {x});
  b.Dense("classifier", x, num_classes);
}

Graph DecodeNetwork(const LayerGenome& g, const Shape3& input, int num_classes) {
  Graph graph;
  graph.input = input;
  graph.num_classes = num_classes;
  GraphBuilder b(&graph);
  const Tensor in{kInputName, input.channels, input.height, input.width, false};
  BuildHead(b, BuildLayerDag(b, g, in, ""), num_classes);
  return graph;
}

}  // namespace deepneat
}  // namespace edgenas
