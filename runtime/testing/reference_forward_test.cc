// The reference interpreter (see reference_forward.h). It lives in a
// *_test.cc file so it is linked into the tests only.
#include <algorithm>
#include <cmath>

#include "runtime/testing/reference_forward.h"

namespace edgenas {
namespace testing {
namespace {

struct T {  // one value: n x c x h x w, row-major
  int n = 0, c = 0, h = 1, w = 1;
  std::vector<double> v;
  double& at(int i, int ch, int y, int x) { return v[((size_t(i) * c + ch) * h + y) * w + x]; }
  double at(int i, int ch, int y, int x) const {
    return v[((size_t(i) * c + ch) * h + y) * w + x];
  }
};

T Make(int n, int c, int h, int w) {
  T t;
  t.n = n, t.c = c, t.h = h, t.w = w;
  t.v.assign(size_t(n) * c * h * w, 0.0);
  return t;
}

const std::vector<float>& P(const ParamStore& p, const std::string& node, const char* part) {
  return p.Find(ParamKey(node, part))->values;
}

double Act(OpKind op, double x, double alpha) {
  switch (op) {
    case OpKind::kRelu: return std::max(0.0, x);
    case OpKind::kRelu6: return std::min(6.0, std::max(0.0, x));
    case OpKind::kElu: return x > 0 ? x : alpha * (std::exp(x) - 1);
    case OpKind::kSigmoid: return 1 / (1 + std::exp(-x));
    case OpKind::kHardSigmoid: return std::min(6.0, std::max(0.0, x + 3)) / 6;
    case OpKind::kTanh: return std::tanh(x);
    case OpKind::kHardSwish: return x * std::min(6.0, std::max(0.0, x + 3)) / 6;
    default: return x;
  }
}

T Conv(const Node& nd, const T& x, const ParamStore& p, const ValueShape& out) {
  const ConvAttrs& a = nd.conv;
  T y = Make(x.n, out.channels, out.height, out.width);
  const auto& wt = P(p, nd.name, "weight");
  const int cin_g = x.c / a.groups, cout_g = a.out_channels / a.groups;
  for (int i = 0; i < x.n; ++i)
    for (int o = 0; o < a.out_channels; ++o) {
      const int g = o / cout_g;
      for (int oy = 0; oy < out.height; ++oy)
        for (int ox = 0; ox < out.width; ++ox) {
          double s = a.bias ? P(p, nd.name, "bias")[o] : 0.0;
          for (int ci = 0; ci < cin_g; ++ci)
            for (int ky = 0; ky < a.kernel_h; ++ky)
              for (int kx = 0; kx < a.kernel_w; ++kx) {
                int iy = oy * a.stride_h - a.pad_h + ky * a.dilation_h;
                int ix = ox * a.stride_w - a.pad_w + kx * a.dilation_w;
                if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
                s += x.at(i, g * cin_g + ci, iy, ix) *
                     wt[((size_t(o) * cin_g + ci) * a.kernel_h + ky) * a.kernel_w + kx];
              }
          y.at(i, o, oy, ox) = s;
        }
    }
  return y;
}

T Pool(const Node& nd, const T& x, const ValueShape& out) {
  T y = Make(x.n, x.c, out.height, out.width);
  PoolAttrs a = nd.pool;
  if (nd.op == OpKind::kGlobalAvgPool) a = PoolAttrs{x.h, x.w, 1, 1, 0, 0};
  const bool is_max = nd.op == OpKind::kMaxPool;
  for (int i = 0; i < x.n; ++i)
    for (int c = 0; c < x.c; ++c)
      for (int oy = 0; oy < out.height; ++oy)
        for (int ox = 0; ox < out.width; ++ox) {
          double acc = is_max ? -1e300 : 0.0;
          int count = 0;
          for (int ky = 0; ky < a.kernel_h; ++ky)
            for (int kx = 0; kx < a.kernel_w; ++kx) {
              int iy = oy * a.stride_h - a.pad_h + ky, ix = ox * a.stride_w - a.pad_w + kx;
              if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
              double v = x.at(i, c, iy, ix);
              acc = is_max ? std::max(acc, v) : acc + v;
              ++count;
            }
          y.at(i, c, oy, ox) = is_max ? acc : acc / count;
        }
  return y;
}

T BatchNorm(const Node& nd, const T& x, const ParamStore& p, bool training) {
  T y = x;
  const auto& gamma = P(p, nd.name, "gamma");
  const auto& beta = P(p, nd.name, "beta");
  for (int c = 0; c < x.c; ++c) {
    double mean = P(p, nd.name, "running_mean")[c], var = P(p, nd.name, "running_var")[c];
    if (training) {
      double s = 0, s2 = 0;
      int count = 0;
      for (int i = 0; i < x.n; ++i)
        for (int yy = 0; yy < x.h; ++yy)
          for (int xx = 0; xx < x.w; ++xx) s += x.at(i, c, yy, xx), ++count;
      mean = s / count;
      for (int i = 0; i < x.n; ++i)
        for (int yy = 0; yy < x.h; ++yy)
          for (int xx = 0; xx < x.w; ++xx) s2 += std::pow(x.at(i, c, yy, xx) - mean, 2);
      var = s2 / count;
    }
    const double inv = 1 / std::sqrt(var + nd.bn_epsilon);
    for (int i = 0; i < x.n; ++i)
      for (int yy = 0; yy < x.h; ++yy)
        for (int xx = 0; xx < x.w; ++xx)
          y.at(i, c, yy, xx) = (x.at(i, c, yy, xx) - mean) * inv * gamma[c] + beta[c];
  }
  return y;
}

}  // namespace

std::vector<double> ReferenceForward(const Graph& graph, const GraphInfo& info,
                                     const ParamStore& params, const std::vector<float>& input,
                                     int batch, bool training) {
  T in = Make(batch, info.input_shape.channels, info.input_shape.height, info.input_shape.width);
  for (size_t i = 0; i < in.v.size(); ++i) in.v[i] = input[i];
  std::vector<T> vals(graph.nodes.size());
  auto get = [&](int src) -> const T& { return src == kGraphInput ? in : vals[src]; };
  for (int v : info.order) {
    const Node& nd = graph.nodes[v];
    const NodeInfo& ni = info.nodes[v];
    const T& x = get(ni.inputs[0]);
    T y;
    switch (nd.op) {
      case OpKind::kConv:
        y = Conv(nd, x, params, ni.shape);
        break;
      case OpKind::kDense: {
        y = Make(batch, nd.dense.units, 1, 1);
        const auto& w = P(params, nd.name, "weight");
        const size_t f = x.v.size() / batch;
        for (int i = 0; i < batch; ++i)
          for (int o = 0; o < nd.dense.units; ++o) {
            double s = nd.dense.bias ? P(params, nd.name, "bias")[o] : 0.0;
            for (size_t k = 0; k < f; ++k) s += x.v[i * f + k] * w[o * f + k];
            y.v[size_t(i) * nd.dense.units + o] = s;
          }
        break;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
      case OpKind::kGlobalAvgPool:
        y = Pool(nd, x, ni.shape);
        break;
      case OpKind::kBatchNorm:
        y = BatchNorm(nd, x, params, training);
        break;
      case OpKind::kAdd:
        y = x;
        for (size_t k = 1; k < ni.inputs.size(); ++k)
          for (size_t i = 0; i < y.v.size(); ++i) y.v[i] += get(ni.inputs[k]).v[i];
        break;
      case OpKind::kMultiply: {
        y = x;
        const T& s = get(ni.inputs[1]);
        const bool broadcast = s.v.size() != x.v.size();
        for (int i = 0; i < x.n; ++i)
          for (int c = 0; c < x.c; ++c)
            for (int yy = 0; yy < x.h; ++yy)
              for (int xx = 0; xx < x.w; ++xx)
                y.at(i, c, yy, xx) *= broadcast ? s.at(i, c, 0, 0) : s.at(i, c, yy, xx);
        break;
      }
      case OpKind::kConcat: {
        y = Make(batch, ni.shape.channels, x.h, x.w);
        int off = 0;
        for (int src : ni.inputs) {
          const T& p = get(src);
          for (int i = 0; i < batch; ++i)
            for (int c = 0; c < p.c; ++c)
              for (int yy = 0; yy < p.h; ++yy)
                for (int xx = 0; xx < p.w; ++xx) y.at(i, off + c, yy, xx) = p.at(i, c, yy, xx);
          off += p.c;
        }
        break;
      }
      case OpKind::kChannelShuffle: {
        // (groups, C / groups) transposed: output channel j*groups + g holds
        // input channel g*(C/groups) + j.
        y = x;
        const int g = nd.shuffle_groups, per = x.c / g;
        for (int i = 0; i < batch; ++i)
          for (int gi = 0; gi < g; ++gi)
            for (int j = 0; j < per; ++j)
              for (int yy = 0; yy < x.h; ++yy)
                for (int xx = 0; xx < x.w; ++xx)
                  y.at(i, j * g + gi, yy, xx) = x.at(i, gi * per + j, yy, xx);
        break;
      }
      case OpKind::kFlatten:
        y = x;
        y.c = x.c * x.h * x.w, y.h = 1, y.w = 1;
        break;
      case OpKind::kDropout:
        y = x;
        break;
      case OpKind::kSoftmax: {
        y = x;
        if (training && v == info.output) break;
        const int f = x.c * x.h * x.w;
        for (int i = 0; i < batch; ++i) {
          double mx = -1e300, sum = 0;
          for (int k = 0; k < f; ++k) mx = std::max(mx, x.v[size_t(i) * f + k]);
          for (int k = 0; k < f; ++k) sum += std::exp(x.v[size_t(i) * f + k] - mx);
          for (int k = 0; k < f; ++k)
            y.v[size_t(i) * f + k] = std::exp(x.v[size_t(i) * f + k] - mx) / sum;
        }
        break;
      }
      default:  // activations
        y = x;
        for (double& e : y.v) e = Act(nd.op, e, nd.alpha);
        break;
    }
    vals[v] = std::move(y);
  }
  return vals[info.output].v;
}

}  // namespace testing
}  // namespace edgenas
