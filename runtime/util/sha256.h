// SHA-256 (OpenSSL's) as the project keys things with it: hex digests,
// whole or cut to their first digits.
#ifndef EDGENAS_RUNTIME_UTIL_SHA256_H_
#define EDGENAS_RUNTIME_UTIL_SHA256_H_

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace edgenas {

// The first `hex_digits` (at most 64) hex digits of SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes, int hex_digits = 64);

// The same over data given in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256& Update(const void* data, size_t size);
  std::string HexDigest(int hex_digits = 64);

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_UTIL_SHA256_H_
