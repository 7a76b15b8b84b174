#include <cstring>

#include "runtime/exec/layer.h"

namespace edgenas {

NetBuilder::NetBuilder(const Graph& graph, const GraphInfo& info, const FusionPlan& plan,
                       ParamStore* store, int batch, bool training, uint64_t seed)
    : graph_(graph),
      info_(info),
      plan_(plan),
      store_(store),
      batch_(batch),
      training_(training),
      rng_(seed),
      values_(graph.nodes.size()) {}

dnnl::memory::dims NetBuilder::Dims(const ValueShape& s) const {
  if (s.flat) return {batch_, s.channels};
  return {batch_, s.channels, s.height, s.width};
}

dnnl::memory::dims NetBuilder::InDims(int k) const {
  int src = node_info().inputs[k];
  return Dims(src == kGraphInput ? info_.input_shape : info_.nodes[src].shape);
}

Value& NetBuilder::In(int k) {
  int src = node_info().inputs[k];
  return src == kGraphInput ? input_ : values_[src];
}

Value& NetBuilder::Out() { return values_[node_]; }

dnnl::memory NetBuilder::Alloc(const MemDesc& md) {
  dnnl::memory m(md, CpuEngine());
  std::memset(m.get_data_handle(), 0, md.get_size());
  return m;
}

void NetBuilder::Reorder(std::vector<Step>* list, const dnnl::memory& from,
                         const dnnl::memory& to) {
  Step s;
  s.prim = dnnl::reorder(from, to);
  s.args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  s.node = node_;
  if (list == &lists_.forward) s.threads = step_threads_;
  list->push_back(std::move(s));
}

dnnl::memory NetBuilder::InputAs(int k, const MemDesc& want) {
  Value& in = In(k);
  if (in.md == want) return in.mem;
  dnnl::memory copy = Alloc(want);
  Reorder(&lists_.forward, in.mem, copy);
  return copy;
}

dnnl::memory NetBuilder::InputFlat(int k) {
  dnnl::memory::dims d = InDims(k);
  if (d.size() == 2) return InputAs(k, PlainDesc(d));
  dnnl::memory plain = InputAs(k, PlainDesc(d));
  return dnnl::memory(PlainDesc({d[0], d[1] * d[2] * d[3]}), CpuEngine(), plain.get_data_handle());
}

dnnl::memory NetBuilder::BackwardAs(const dnnl::memory& m, const MemDesc& want) {
  if (m.get_desc() == want) return m;
  dnnl::memory copy = Alloc(want);
  Reorder(&lists_.backward, m, copy);
  return copy;
}

void NetBuilder::Forward(const dnnl::primitive& p, Args args) {
  lists_.forward.push_back(Step{p, std::move(args), nullptr, node_, nullptr, step_threads_});
}

void NetBuilder::LoadFn(std::function<void()> fn) {
  lists_.load.push_back(Step{dnnl::primitive(), {}, std::move(fn), node_});
}

void NetBuilder::ForwardFn(std::function<void()> fn, const char* kernel) {
  lists_.forward.push_back(
      Step{dnnl::primitive(), {}, std::move(fn), node_, kernel, step_threads_});
}

void NetBuilder::TeamForwardFn(std::function<void()> fn, const char* kernel) {
  ForwardFn(std::move(fn), kernel);
  lists_.forward.back().team = true;
}

void NetBuilder::Backward(const dnnl::primitive& p, Args args) {
  lists_.backward.push_back(Step{p, std::move(args), nullptr, node_});
}

void NetBuilder::BackwardFn(std::function<void()> fn, const char* kernel) {
  lists_.backward.push_back(Step{dnnl::primitive(), {}, std::move(fn), node_, kernel});
}

void NetBuilder::AddInputGrad(int k, const dnnl::memory& diff) {
  Value& in = In(k);
  if (!in.needs_grad) return;
  MemDesc md = diff.get_desc();
  if (md.dims().size() == 2 && in.md.dims().size() == 4) {
    // A flat gradient of a 4-D value (implicit flatten): view it as plain NCHW.
    in.diff_parts.push_back(
        dnnl::memory(PlainDesc(in.md.dims()), CpuEngine(), diff.get_data_handle()));
    return;
  }
  in.diff_parts.push_back(diff);
}

void NetBuilder::FinalizeDiff(Value& v, int node) {
  int saved = node_;
  node_ = node;
  std::vector<dnnl::memory> parts;
  for (const dnnl::memory& p : v.diff_parts) {
    if (p.get_desc() == v.md) {
      parts.push_back(p);
    } else {
      dnnl::memory same = Alloc(v.md);
      Reorder(&lists_.backward, p, same);
      parts.push_back(same);
    }
  }
  if (parts.empty()) {
    v.diff = Alloc(v.md);  // nothing flows back here: a zero gradient
  } else if (parts.size() == 1) {
    v.diff = parts[0];
  } else {
    std::vector<MemDesc> mds(parts.size(), v.md);
    std::vector<float> scales(parts.size(), 1.0f);
    dnnl::sum::primitive_desc pd(v.md, scales, mds, CpuEngine());
    v.diff = Alloc(v.md);
    Args args{{DNNL_ARG_DST, v.diff}};
    for (size_t i = 0; i < parts.size(); ++i) args[DNNL_ARG_MULTIPLE_SRC + i] = parts[i];
    Backward(dnnl::sum(pd), std::move(args));
  }
  v.diff_parts.clear();
  node_ = saved;
}

ParamTensor* NetBuilder::Param(const char* part) {
  return store_->Find(ParamKey(node().name, part));
}

dnnl::memory NetBuilder::ParamMemory(const char* part, const MemDesc& md) {
  ParamTensor* t = Param(part);
  MemDesc canonical = PlainDesc(md.dims());
  dnnl::memory user(canonical, CpuEngine(), t->values.data());
  // The store may have replaced the vector (same key, same dims): re-point first.
  lists_.load.push_back(
      Step{dnnl::primitive(), {}, [user, t] { user.set_data_handle(t->values.data()); }, node_});
  if (md == canonical) return user;
  dnnl::memory mem = Alloc(md);
  Reorder(&lists_.load, user, mem);
  return mem;
}

dnnl::memory NetBuilder::DerivedParamMemory(const std::vector<int64_t>& dims, const MemDesc& md,
                                            std::function<void(float*)> fill) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  auto buffer = std::make_shared<std::vector<float>>(count);
  MemDesc canonical = PlainDesc(md.dims());
  dnnl::memory user(canonical, CpuEngine(), buffer->data());
  lists_.load.push_back(
      Step{dnnl::primitive(), {}, [buffer, fill] { fill(buffer->data()); }, node_});
  if (md == canonical) {
    // Keep the buffer alive with the net.
    lists_.load.push_back(Step{dnnl::primitive(), {}, [buffer] {}, node_});
    return user;
  }
  dnnl::memory mem = Alloc(md);
  Reorder(&lists_.load, user, mem);
  return mem;
}

dnnl::memory NetBuilder::ParamView(const dnnl::memory& m, const MemDesc& md) {
  dnnl::memory view(md, CpuEngine(), m.get_data_handle());
  lists_.load.push_back(
      Step{dnnl::primitive(), {}, [m, view] { view.set_data_handle(m.get_data_handle()); }, node_});
  return view;
}

dnnl::memory NetBuilder::GradMemory(const char* part, const MemDesc& md) {
  const ParamTensor* t = Param(part);
  ParamTensor& g = grads_[ParamKey(node().name, part)];
  g.dims = t->dims;
  g.values.assign(t->values.size(), 0.0f);
  MemDesc canonical = PlainDesc(md.dims());
  dnnl::memory user(canonical, CpuEngine(), g.values.data());
  if (md == canonical) return user;
  dnnl::memory mem = Alloc(md);
  Reorder(&lists_.grad_out, mem, user);
  return mem;
}

}  // namespace edgenas
