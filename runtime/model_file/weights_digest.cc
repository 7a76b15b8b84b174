#include "runtime/model_file/weights_digest.h"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

namespace edgenas {

std::string WeightsDigest(const ParamStore& params) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  const auto add = [&](const void* p, size_t n) { EVP_DigestUpdate(ctx.get(), p, n); };
  for (const auto& [name, t] : params.tensors()) {
    // Lengths first, so no two different sets feed the same byte stream.
    const uint64_t sizes[3] = {name.size(), t.dims.size(), t.values.size()};
    add(sizes, sizeof sizes);
    add(name.data(), name.size());
    add(t.dims.data(), t.dims.size() * sizeof(int64_t));
    add(t.values.data(), t.values.size() * sizeof(float));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace edgenas
