// Runs f(thread, threads) on `threads` OpenMP threads, or directly on the
// caller's when that is one: libgomp starts a team even for one thread,
// which costs about 0.25 us on this machine (two threads: 0.45 us) and is
// as much as a small batch-1 kernel's whole work. oneDNN skips the region
// the same way.
//
// One team for a whole forward pass: a net whose every step is such a
// kernel runs them all inside one parallel region, a barrier between steps,
// instead of starting a team per kernel (CompiledNet). Each thread of that
// team marks itself with a TeamScope; ParallelRun then calls f on every
// thread of the team (its share) when `threads` covers the team, else on
// thread 0 alone as f(0, 1). f may wait on the other threads of its share
// with TeamBarrier(n) in either mode.
#ifndef EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_
#define EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_

#include <omp.h>

namespace edgenas {

namespace internal {
inline thread_local bool in_team = false;
}  // namespace internal

// While alive, this thread is one of a team that runs ParallelRun's work
// together (on) or runs it alone (off).
class TeamScope {
 public:
  explicit TeamScope(bool on) : before_(internal::in_team) { internal::in_team = on; }
  ~TeamScope() { internal::in_team = before_; }
  TeamScope(const TeamScope&) = delete;
  TeamScope& operator=(const TeamScope&) = delete;

 private:
  const bool before_;
};

template <typename F>
void ParallelRun(int threads, F&& f) {
  if (internal::in_team) {
    const int team = omp_get_num_threads(), t = omp_get_thread_num();
    if (threads >= team) {
      f(t, team);
    } else if (t == 0) {
      f(0, 1);
    }
    return;
  }
  if (threads <= 1) {
    f(0, 1);
    return;
  }
#pragma omp parallel num_threads(threads)
  f(omp_get_thread_num(), omp_get_num_threads());
}

// Waits for the n threads sharing a ParallelRun's work (nothing for one).
inline void TeamBarrier(int n) {
  if (n > 1) {
#pragma omp barrier
  }
}

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_
