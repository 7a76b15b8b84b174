// The lock-order checks of Abseil's mutexes (which gRPC uses) follow our
// build type, not Abseil's.
#ifndef EDGENAS_RUNTIME_UTIL_MUTEX_CHECKS_H_
#define EDGENAS_RUNTIME_UTIL_MUTEX_CHECKS_H_

#include "absl/synchronization/mutex.h"

namespace edgenas {

// Abseil records every mutex acquisition in a lock-order graph and aborts on
// a cycle unless it was built with NDEBUG, and Debian's libabsl is not: every
// gRPC call pays for the bookkeeping. Our binaries turn it off, as an NDEBUG
// Abseil would, except in the sanitizer build (EDGENAS_SANITIZE defines
// EDGENAS_MUTEX_CHECKS), which is where checks belong. Call at the top of
// main, before any thread exists.
inline void MutexChecksFollowBuildType() {
#ifndef EDGENAS_MUTEX_CHECKS
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_UTIL_MUTEX_CHECKS_H_
