#include "runtime/exec/dnnl_util.h"

#include "absl/strings/str_cat.h"

namespace edgenas {

const dnnl::engine& CpuEngine() {
  static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

MemDesc PlainDesc(const dnnl::memory::dims& dims) {
  switch (dims.size()) {
    case 1:
      return MemDesc(dims, dt::f32, tag::a);
    case 2:
      return MemDesc(dims, dt::f32, tag::ab);
    case 3:
      return MemDesc(dims, dt::f32, tag::abc);
    case 4:
      return MemDesc(dims, dt::f32, tag::abcd);
    default:
      return MemDesc(dims, dt::f32, tag::abcde);
  }
}

MemDesc AnyDesc(const dnnl::memory::dims& dims) { return MemDesc(dims, dt::f32, tag::any); }

MemDesc ChannelsLastDesc(const dnnl::memory::dims& dims) {
  return MemDesc(dims, dt::f32, dims.size() == 4 ? tag::nhwc : tag::nc);
}

MemDesc Blocked16Desc(const dnnl::memory::dims& dims) {
  return MemDesc(dims, dt::f32, tag::nChw16c);
}

size_t FloatCount(const MemDesc& md) { return md.get_size() / sizeof(float); }

std::string DnnlIsaName() {
#if defined(__aarch64__)
  // oneDNN 2.6 reports ARM ISAs with codes of its own that overlap the x86
  // enum; name the architecture instead of misreading them.
  return "aarch64";
#endif
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      break;
  }
  return "generic";
}

absl::Status DnnlStatus(const dnnl::error& e, const char* where) {
  return absl::InternalError(absl::StrCat(where, ": oneDNN: ", e.what()));
}

}  // namespace edgenas
