// edgenas-worker: a device or trainer that joins a coordinator.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("usage: edgenas-worker --coordinator HOST:PORT --enroll-token T --device-class C --state-dir DIR\n");
      return 0;
    }
  }
  std::fprintf(stderr, "edgenas-worker: enrollment and the task loop are not built yet (issue 5)\n");
  return 2;
}
