#include "server/store/ids.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace edgenas {

std::string NewId(const char* prefix, int random_bytes) {
  std::vector<unsigned char> bytes(random_bytes);
  if (RAND_bytes(bytes.data(), random_bytes) != 1) {
    std::fprintf(stderr, "edgenas: OpenSSL RAND_bytes failed\n");
    std::abort();
  }
  static const char kHex[] = "0123456789abcdef";
  std::string id = std::string(prefix) + "-";
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

}  // namespace edgenas
