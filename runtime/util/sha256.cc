#include "runtime/util/sha256.h"

#include <openssl/evp.h>

#include <algorithm>

namespace edgenas {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

Sha256& Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(ctx_, data, size);
  return *this;
}

std::string Sha256::HexDigest(int hex_digits) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, digest, &len);
  static const char kHex[] = "0123456789abcdef";
  const int n = std::clamp(hex_digits, 0, static_cast<int>(2 * len));
  std::string out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) out.push_back(kHex[(digest[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 15]);
  return out;
}

std::string Sha256Hex(std::string_view bytes, int hex_digits) {
  return Sha256().Update(bytes.data(), bytes.size()).HexDigest(hex_digits);
}

}  // namespace edgenas
