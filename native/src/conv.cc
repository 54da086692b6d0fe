// 2-D convolutions and their two gradients on oneDNN, in tfjs's layouts (NHWC activations, HWIO filters).
//
// A plan per kind and geometry is built once and cached: the oneDNN primitive (creating one costs far more
// than running a small one) and, for each of its three arguments, the memory objects it runs on. The
// activations are handed to oneDNN in NHWC, tfjs's own layout, so that they are used in place; the filter
// (small) is given as `any`, letting oneDNN pick its blocked layout, and reordered from HWIO each call. Where
// the NHWC form gets only oneDNN's reference implementation, every argument is given as `any` and reordered.
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <dnnl.hpp>
#include "kernels.h"

namespace neurodyn {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

engine& cpuEngine() {
  static engine e(engine::kind::cpu, 0);
  return e;
}
stream& cpuStream() {
  static stream s(cpuEngine());
  return s;
}

// One argument of a primitive: the caller's memory (user layout) and, where the primitive wants another
// layout, a scratch memory in that layout and the reorder between them.
struct Arg {
  int dnnlArg;
  bool output;
  memory user;
  memory inner;
  bool reordered = false;
  primitive convert;

  Arg(int arg, bool isOutput, const memory::desc& userDesc, const memory::desc& wanted) : dnnlArg(arg), output(isOutput) {
    user = memory(userDesc, cpuEngine(), DNNL_MEMORY_NONE);
    if (wanted == userDesc) {
      inner = user;
    } else {
      reordered = true;
      inner = memory(wanted, cpuEngine());
      convert = isOutput ? primitive(reorder(inner, user)) : primitive(reorder(user, inner));
    }
  }
};

struct Plan {
  primitive prim;
  std::unique_ptr<Arg> in0, in1, out;
  std::string impl;
};

using Key = std::array<int64_t, 18>;

Key keyOf(ConvKind kind, const ConvGeometry& g) {
  return {int64_t(kind), g.n, g.h, g.w, g.c, g.kh, g.kw, g.k, g.oh, g.ow, g.strideH, g.strideW, g.padTop, g.padLeft,
          g.padBottom, g.padRight, g.dilationH, g.dilationW};
}

std::map<Key, std::unique_ptr<Plan>>& cache() {
  static std::map<Key, std::unique_ptr<Plan>> plans;
  return plans;
}

bool isReference(const std::string& impl) { return impl.rfind("ref", 0) == 0; }

std::unique_ptr<Plan> build(ConvKind kind, const ConvGeometry& g, bool activationsAny) {
  const memory::dims xDims = {g.n, g.c, g.h, g.w}, yDims = {g.n, g.k, g.oh, g.ow}, wDims = {g.k, g.c, g.kh, g.kw};
  const memory::dims strides = {g.strideH, g.strideW}, dilates = {g.dilationH - 1, g.dilationW - 1};
  const memory::dims padL = {g.padTop, g.padLeft}, padR = {g.padBottom, g.padRight};
  const memory::desc xUser(xDims, dt::f32, tag::nhwc), yUser(yDims, dt::f32, tag::nhwc), wUser(wDims, dt::f32, tag::hwio);
  const tag act = activationsAny ? tag::any : tag::nhwc;
  const memory::desc xAny(xDims, dt::f32, act), yAny(yDims, dt::f32, act), wAny(wDims, dt::f32, tag::any);
  auto& eng = cpuEngine();
  const prop_kind prop = kind == ConvKind::Forward ? prop_kind::forward_inference : prop_kind::forward_training;
  convolution_forward::primitive_desc fwd(
      convolution_forward::desc(prop, algorithm::convolution_direct, xAny, wAny, yAny, strides, dilates, padL, padR), eng);
  auto plan = std::make_unique<Plan>();
  switch (kind) {
    case ConvKind::Forward:
      plan->prim = convolution_forward(fwd);
      plan->impl = fwd.impl_info_str();
      plan->in0 = std::make_unique<Arg>(DNNL_ARG_SRC, false, xUser, fwd.src_desc());
      plan->in1 = std::make_unique<Arg>(DNNL_ARG_WEIGHTS, false, wUser, fwd.weights_desc());
      plan->out = std::make_unique<Arg>(DNNL_ARG_DST, true, yUser, fwd.dst_desc());
      break;
    case ConvKind::BackwardData: {
      convolution_backward_data::primitive_desc pd(
          convolution_backward_data::desc(algorithm::convolution_direct, xAny, wAny, yAny, strides, dilates, padL, padR), eng, fwd);
      plan->prim = convolution_backward_data(pd);
      plan->impl = pd.impl_info_str();
      plan->in0 = std::make_unique<Arg>(DNNL_ARG_DIFF_DST, false, yUser, pd.diff_dst_desc());
      plan->in1 = std::make_unique<Arg>(DNNL_ARG_WEIGHTS, false, wUser, pd.weights_desc());
      plan->out = std::make_unique<Arg>(DNNL_ARG_DIFF_SRC, true, xUser, pd.diff_src_desc());
      break;
    }
    case ConvKind::BackwardFilter: {
      convolution_backward_weights::primitive_desc pd(
          convolution_backward_weights::desc(algorithm::convolution_direct, xAny, wAny, yAny, strides, dilates, padL, padR), eng, fwd);
      plan->prim = convolution_backward_weights(pd);
      plan->impl = pd.impl_info_str();
      plan->in0 = std::make_unique<Arg>(DNNL_ARG_SRC, false, xUser, pd.src_desc());
      plan->in1 = std::make_unique<Arg>(DNNL_ARG_DIFF_DST, false, yUser, pd.diff_dst_desc());
      plan->out = std::make_unique<Arg>(DNNL_ARG_DIFF_WEIGHTS, true, wUser, pd.diff_weights_desc());
      break;
    }
  }
  return plan;
}

Plan& planFor(ConvKind kind, const ConvGeometry& g) {
  auto& plans = cache();
  const Key key = keyOf(kind, g);
  auto found = plans.find(key);
  if (found != plans.end()) return *found->second;
  // Bounded: a program that sweeps many shapes rebuilds plans instead of growing without limit.
  if (plans.size() >= 256) plans.clear();
  std::unique_ptr<Plan> plan;
  try {
    plan = build(kind, g, false);
    if (isReference(plan->impl)) {
      auto blocked = build(kind, g, true);
      if (!isReference(blocked->impl)) plan = std::move(blocked);
    }
  } catch (const dnnl::error& e) {
    throw std::runtime_error(std::string("oneDNN cannot run this convolution: ") + e.what());
  }
  return *plans.emplace(key, std::move(plan)).first->second;
}

}  // namespace

// Node worker threads may share this addon: the plans and their memory objects are used by one call at a time.
static std::mutex& lock() {
  static std::mutex m;
  return m;
}

void conv(ConvKind kind, const ConvGeometry& g, const float* in0, const float* in1, float* out) {
  if (kind == ConvKind::BackwardData && convTransposeFewChannelsServes(g)) return convTransposeFewChannels(g, in0, in1, out);
  std::lock_guard<std::mutex> hold(lock());
  Plan& p = planFor(kind, g);
  auto& s = cpuStream();
  try {
    p.in0->user.set_data_handle(const_cast<float*>(in0));
    p.in1->user.set_data_handle(const_cast<float*>(in1));
    p.out->user.set_data_handle(out);
    for (Arg* a : {p.in0.get(), p.in1.get()})
      if (a->reordered) a->convert.execute(s, {{DNNL_ARG_FROM, a->user}, {DNNL_ARG_TO, a->inner}});
    p.prim.execute(s, {{p.in0->dnnlArg, p.in0->inner}, {p.in1->dnnlArg, p.in1->inner}, {p.out->dnnlArg, p.out->inner}});
    if (p.out->reordered) p.out->convert.execute(s, {{DNNL_ARG_FROM, p.out->inner}, {DNNL_ARG_TO, p.out->user}});
    s.wait();
  } catch (const dnnl::error& e) {
    throw std::runtime_error(std::string("oneDNN convolution failed: ") + e.what());
  }
  // Drop the caller's pointers: they are valid for this call only.
  p.in0->user.set_data_handle(DNNL_MEMORY_NONE);
  p.in1->user.set_data_handle(DNNL_MEMORY_NONE);
  p.out->user.set_data_handle(DNNL_MEMORY_NONE);
}

std::string convImplementation(ConvKind kind, const ConvGeometry& g) {
  if (kind == ConvKind::BackwardData && convTransposeFewChannelsServes(g)) return "neurodyn:direct-few-channels";
  std::lock_guard<std::mutex> hold(lock());
  return planFor(kind, g).impl;
}

void clearConvCache() {
  std::lock_guard<std::mutex> hold(lock());
  cache().clear();
}

}  // namespace neurodyn
