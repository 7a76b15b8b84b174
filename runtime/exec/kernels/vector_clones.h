// EDGENAS_VECTOR_CLONES: our own kernels' loops are written for the compiler
// to vectorize; on x86-64 (GCC) a function marked with it is built once per
// vector width and the loader picks the widest the CPU has, since the build
// targets baseline x86-64 so that one binary runs everywhere. Elsewhere
// (aarch64, clang) it is plain code.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_VECTOR_CLONES_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_VECTOR_CLONES_H_

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGENAS_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EDGENAS_VECTOR_CLONES
#endif

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_VECTOR_CLONES_H_
