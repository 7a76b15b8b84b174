// Random secrets (enrollment tokens, worker credentials, client tokens) and
// the hashes the store keeps in their place. Both come from OpenSSL, never
// from a hand-rolled generator or digest.
#ifndef EDGENAS_SERVER_AUTH_TOKEN_H_
#define EDGENAS_SERVER_AUTH_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace edgenas {

// Prefixes make a leaked secret say what it is (and let secret scanners
// find it); they carry no authority.
inline constexpr std::string_view kEnrollmentTokenPrefix = "enr_";
inline constexpr std::string_view kWorkerCredentialPrefix = "wkr_";
inline constexpr std::string_view kClientTokenPrefix = "cli_";

// Bounds on the entropy of a secret: 128 bits is the least an online
// guesser should face; the upper bound only stops absurd requests.
inline constexpr int kMinSecretBytes = 16;
inline constexpr int kMaxSecretBytes = 1024;

// `bytes` random bytes from RAND_bytes as lowercase hex (2 * bytes chars).
// Hex rather than base64 so a token survives double-click selection, URLs
// and shells unquoted. InvalidArgument when bytes is out of bounds;
// Internal when the OpenSSL generator fails (never falls back to weaker
// randomness).
absl::StatusOr<std::string> GenerateSecret(int bytes = 32);

// The same with `prefix` in front, e.g. GenerateSecret(kWorkerCredentialPrefix).
// The prefix must be 1-16 characters of [a-z0-9_].
absl::StatusOr<std::string> GenerateSecret(std::string_view prefix, int bytes = 32);

// SHA-256 of the secret as 64 lowercase hex chars: the form the store keeps.
// A plain (unsalted, fast) hash is enough because secrets are long random
// strings, not passwords: there is no dictionary to attack.
std::string HashSecret(std::string_view secret);

// True when HashSecret(secret) equals hash_hex, compared in constant time so
// the comparison leaks nothing about how many leading characters matched.
// False for any hash_hex that is not 64 characters.
bool SecretMatchesHash(std::string_view secret, std::string_view hash_hex);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_AUTH_TOKEN_H_
