// The one place that knows oneDNN's v2 API details shared by every layer:
// the CPU engine, memory descriptors for plain layouts, and turning a
// dnnl::error into a Status.
#ifndef EDGENAS_RUNTIME_EXEC_DNNL_UTIL_H_
#define EDGENAS_RUNTIME_EXEC_DNNL_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace edgenas {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using MemDesc = dnnl::memory::desc;

// The process-wide CPU engine. oneDNN engines are cheap to share; streams
// and primitives belong to the thread that runs a net.
const dnnl::engine& CpuEngine();

MemDesc PlainDesc(const dnnl::memory::dims& dims);  // f32, row-major (nc, nchw, oihw, ...)
MemDesc AnyDesc(const dnnl::memory::dims& dims);    // f32, format_tag::any
// f32 with channels innermost: nhwc for {N, C, H, W}, nc for {N, F}.
MemDesc ChannelsLastDesc(const dnnl::memory::dims& dims);
// f32 nChw16c: channels in blocks of 16, the block innermost (our own kernels).
MemDesc Blocked16Desc(const dnnl::memory::dims& dims);

// Number of floats backing a memory (including padding of blocked layouts).
size_t FloatCount(const MemDesc& md);

// "avx512_core_vnni", "avx2", "sve_256", ...: the ISA oneDNN dispatches to.
std::string DnnlIsaName();

absl::Status DnnlStatus(const dnnl::error& e, const char* where);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_DNNL_UTIL_H_
