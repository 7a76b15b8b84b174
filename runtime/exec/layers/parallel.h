// Runs f(thread, threads) on `threads` OpenMP threads, or directly on the
// caller's when that is one: libgomp starts a team even for one thread,
// which costs about 0.25 us on this machine (two threads: 0.45 us) and is
// as much as a small batch-1 kernel's whole work. oneDNN skips the region
// the same way.
#ifndef EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_
#define EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_

#include <omp.h>

namespace edgenas {

template <typename F>
void ParallelRun(int threads, F&& f) {
  if (threads <= 1) {
    f(0, 1);
    return;
  }
#pragma omp parallel num_threads(threads)
  f(omp_get_thread_num(), omp_get_num_threads());
}

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_
