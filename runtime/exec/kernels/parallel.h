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
// with TeamBarrier(n) in either mode (the team's SpinBarrier in a team).
#ifndef EDGENAS_RUNTIME_EXEC_KERNELS_PARALLEL_H_
#define EDGENAS_RUNTIME_EXEC_KERNELS_PARALLEL_H_

#include <omp.h>

#include <atomic>
#include <thread>

namespace edgenas {

// A barrier for the threads of one team that spins (and yields after a
// while, should the threads outnumber the cores): 0.06 us for two threads
// on this machine, where libgomp's barrier takes 0.2 us. The last thread in
// releases the others; its writes and theirs before Wait are seen after it.
class SpinBarrier {
 public:
  // Every thread of the team says how many they are before its first Wait.
  void SetParties(int n) { parties_.store(n, std::memory_order_relaxed); }

  void Wait() {
    const int generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) ==
        parties_.load(std::memory_order_relaxed) - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(generation + 1, std::memory_order_release);
      return;
    }
    for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
      if (spins < 4096) {
        Relax();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  static void Relax() {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<int> generation_{0};
  std::atomic<int> parties_{1};
};

namespace internal {
inline thread_local bool in_team = false;
inline thread_local SpinBarrier* team_barrier = nullptr;
}  // namespace internal

// While alive, this thread is one of a team that runs ParallelRun's work
// together (on; its threads meet at `barrier`) or runs it alone (off).
class TeamScope {
 public:
  explicit TeamScope(bool on, SpinBarrier* barrier = nullptr)
      : before_(internal::in_team), barrier_before_(internal::team_barrier) {
    internal::in_team = on;
    internal::team_barrier = on ? barrier : nullptr;
  }
  ~TeamScope() {
    internal::in_team = before_;
    internal::team_barrier = barrier_before_;
  }
  TeamScope(const TeamScope&) = delete;
  TeamScope& operator=(const TeamScope&) = delete;

 private:
  const bool before_;
  SpinBarrier* const barrier_before_;
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
  if (n <= 1) return;
  if (internal::team_barrier != nullptr) {
    internal::team_barrier->Wait();
    return;
  }
#pragma omp barrier
}

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_KERNELS_PARALLEL_H_
