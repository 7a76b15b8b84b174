#include "runtime/exec/kernels/parallel.h"

#include <omp.h>

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

// Between two waits every thread writes its slot; after the second, each
// reads all of them: with 2 and 4 threads (more than this machine's cores:
// the spinning threads yield), over many rounds of the same barrier.
TEST(SpinBarrierTest, EachWaitShowsEveryThreadsWritesBeforeIt) {
  for (int threads : {2, 4}) {
    SpinBarrier barrier;
    std::vector<int> slots(threads, -1);
    std::atomic<int> wrong{0}, team{0};
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      if (t == 0) team = n;
      barrier.SetParties(n);
      for (int round = 0; round < 2000; ++round) {
        slots[t] = round;
        barrier.Wait();
        for (int k = 0; k < n; ++k)
          if (slots[k] != round) ++wrong;
        barrier.Wait();
      }
    }
    EXPECT_EQ(wrong, 0) << team << " threads";
  }
}

// In a team, ParallelRun hands every thread its share when asked for the
// whole team, and thread 0 all of it otherwise; TeamBarrier meets on the
// team's barrier.
TEST(ParallelRunTest, InATeamSharesTheWorkOrGivesItToThreadZero) {
  SpinBarrier barrier;
  std::vector<int> calls(2, 0), shares(2, -1);
  std::atomic<int> alone{0}, after{0};
#pragma omp parallel num_threads(2)
  {
    barrier.SetParties(omp_get_num_threads());
    TeamScope scope(true, &barrier);
    ParallelRun(8, [&](int t, int n) {
      ++calls[t];
      shares[t] = n;
      TeamBarrier(n);
      // Both threads have written before either reads.
      if (n == 2 && calls[0] == 1 && calls[1] == 1) ++after;
    });
    barrier.Wait();
    ParallelRun(1, [&](int t, int n) {
      if (t == 0 && n == 1) ++alone;
    });
  }
  if (omp_get_max_threads() >= 2) {
    EXPECT_EQ(calls[0], 1);
    EXPECT_EQ(calls[1], 1);
    EXPECT_EQ(shares[0], 2);
    EXPECT_EQ(after, 2);
  }
  EXPECT_EQ(alone, 1);
}

}  // namespace
}  // namespace edgenas
