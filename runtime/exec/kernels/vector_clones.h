// EDGENAS_VECTOR_CLONES: our own kernels' loops are written for the compiler
// to vectorize; on x86-64 (GCC) a function marked with it is built once per
// vector width and the loader picks the widest the CPU has, since the build
// targets baseline x86-64 so that one binary runs everywhere. Elsewhere
// (aarch64, clang) it is plain code.
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_VECTOR_CLONES_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_VECTOR_CLONES_H_

//
// EDGENAS_WIDE_VECTORS and EDGENAS_NARROW_CLONES: a kernel whose register
// blocks grow with the vector registers (gemm_block.h's MaxVectorBlocks:
// four vectors of 16 floats with AVX-512's 32 registers, one with 16) is
// built as one function for AVX-512 with every block width, called only
// where the CPU has it (EDGENAS_HAS_WIDE_VECTORS: where that function
// exists), and clones for the narrower targets with width 1 alone: the wider
// blocks never run there, and compiling them in every clone, where each
// vector takes two or four registers, was most of the kernels' build time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGENAS_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define EDGENAS_HAS_WIDE_VECTORS 1
#define EDGENAS_WIDE_VECTORS __attribute__((target("avx512f")))
#define EDGENAS_NARROW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EDGENAS_VECTOR_CLONES
#define EDGENAS_HAS_WIDE_VECTORS 0
#define EDGENAS_WIDE_VECTORS
#define EDGENAS_NARROW_CLONES
#endif

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_VECTOR_CLONES_H_
