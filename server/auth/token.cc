#include "server/auth/token.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

constexpr size_t kMaxPrefixLength = 16;
constexpr size_t kSha256HexLength = 64;

bool IsPrefixChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

std::string OpenSslError() {
  char buffer[256];
  ERR_error_string_n(ERR_get_error(), buffer, sizeof(buffer));
  return buffer;
}

}  // namespace

absl::StatusOr<std::string> GenerateSecret(int bytes) {
  if (bytes < kMinSecretBytes || bytes > kMaxSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("secret size must be in [", kMinSecretBytes,
                                                   ", ", kMaxSecretBytes, "] bytes, got ", bytes));
  }
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), bytes) != 1) {
    return absl::InternalError(absl::StrCat("RAND_bytes failed: ", OpenSslError()));
  }
  // Debian's abseil keeps its own string_view type, distinct from std's.
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

absl::StatusOr<std::string> GenerateSecret(std::string_view prefix, int bytes) {
  if (prefix.empty() || prefix.size() > kMaxPrefixLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret prefix must be 1-", kMaxPrefixLength, " characters"));
  }
  for (char c : prefix) {
    if (!IsPrefixChar(c)) {
      return absl::InvalidArgumentError("secret prefix may only use [a-z0-9_]");
    }
  }
  absl::StatusOr<std::string> secret = GenerateSecret(bytes);
  if (!secret.ok()) return secret.status();
  std::string prefixed(prefix);
  prefixed += *secret;
  return prefixed;
}

std::string HashSecret(std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(secret.data(), secret.size(), digest, &length, EVP_sha256(), nullptr) != 1 ||
      length * 2 != kSha256HexLength) {
    // SHA-256 only fails when OpenSSL cannot allocate a context. Returning
    // anything would let a caller store or compare a hash that is not one,
    // and this signature has no error path to carry the failure up.
    std::fprintf(stderr, "edgenas: SHA-256 via OpenSSL EVP failed: %s\n", OpenSslError().c_str());
    std::abort();
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

bool SecretMatchesHash(std::string_view secret, std::string_view hash_hex) {
  // The length of a stored hash is public, so refusing early leaks nothing.
  if (hash_hex.size() != kSha256HexLength) return false;
  const std::string actual = HashSecret(secret);
  return CRYPTO_memcmp(actual.data(), hash_hex.data(), kSha256HexLength) == 0;
}

}  // namespace edgenas
