// edgenasd: the coordinator.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("usage: edgenasd --data-dir DIR [--listen 127.0.0.1:50051]\n");
      return 0;
    }
  }
  std::fprintf(stderr, "edgenasd: the coordinator is not built yet (issue 4)\n");
  return 2;
}
