#include "server/auth/token.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace edgenas {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

TEST(GenerateSecretTest, DefaultIs32BytesOfLowercaseHex) {
  absl::StatusOr<std::string> secret = GenerateSecret();
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->size(), 64u);
  EXPECT_TRUE(IsLowerHex(*secret)) << *secret;
}

TEST(GenerateSecretTest, LengthFollowsByteCount) {
  for (int bytes : {kMinSecretBytes, 20, 48, kMaxSecretBytes}) {
    absl::StatusOr<std::string> secret = GenerateSecret(bytes);
    ASSERT_TRUE(secret.ok()) << secret.status();
    EXPECT_EQ(secret->size(), 2u * bytes);
    EXPECT_TRUE(IsLowerHex(*secret));
  }
}

TEST(GenerateSecretTest, RefusesSizesOutOfBounds) {
  for (int bytes : {-1, 0, kMinSecretBytes - 1, kMaxSecretBytes + 1}) {
    EXPECT_EQ(GenerateSecret(bytes).status().code(), absl::StatusCode::kInvalidArgument) << bytes;
  }
}

TEST(GenerateSecretTest, PrefixIsPrependedToTheHexBody) {
  for (std::string_view prefix :
       {kEnrollmentTokenPrefix, kWorkerCredentialPrefix, kClientTokenPrefix}) {
    absl::StatusOr<std::string> secret = GenerateSecret(prefix);
    ASSERT_TRUE(secret.ok()) << secret.status();
    ASSERT_EQ(secret->size(), prefix.size() + 64);
    EXPECT_EQ(secret->substr(0, prefix.size()), prefix);
    EXPECT_TRUE(IsLowerHex(secret->substr(prefix.size())));
  }
  absl::StatusOr<std::string> short_one = GenerateSecret("wkr_", 16);
  ASSERT_TRUE(short_one.ok());
  EXPECT_EQ(short_one->size(), 4u + 32u);
}

TEST(GenerateSecretTest, RefusesBadPrefixes) {
  for (std::string_view prefix : {"", "WKR_", "a b", "enr-", "x/../", "abcdefghijklmnopq"}) {
    EXPECT_EQ(GenerateSecret(prefix).status().code(), absl::StatusCode::kInvalidArgument) << prefix;
  }
  EXPECT_EQ(GenerateSecret("enr_", 8).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GenerateSecretTest, SecretsDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::string> secret = GenerateSecret(kMinSecretBytes);
    ASSERT_TRUE(secret.ok());
    EXPECT_TRUE(seen.insert(*secret).second) << "repeated secret " << *secret;
  }
}

TEST(HashSecretTest, KnownSha256Vectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(HashSecret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashSecret(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashSecret("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HashSecretTest, HashesEmbeddedNulBytes) {
  const std::string with_nul("ab\0c", 4);
  EXPECT_NE(HashSecret(with_nul), HashSecret("ab"));
  EXPECT_EQ(HashSecret(with_nul).size(), 64u);
}

TEST(SecretMatchesHashTest, MatchesItsOwnHashOnly) {
  absl::StatusOr<std::string> secret = GenerateSecret(kWorkerCredentialPrefix);
  ASSERT_TRUE(secret.ok());
  const std::string hash = HashSecret(*secret);
  EXPECT_TRUE(SecretMatchesHash(*secret, hash));

  std::string tampered = *secret;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(SecretMatchesHash(tampered, hash));
  EXPECT_FALSE(SecretMatchesHash(secret->substr(4), hash));  // prefix is part of the secret
  EXPECT_FALSE(SecretMatchesHash("", hash));
}

TEST(SecretMatchesHashTest, KnownVectorAndNearMisses) {
  const std::string abc_hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_TRUE(SecretMatchesHash("abc", abc_hash));
  std::string last_char_off = abc_hash;
  last_char_off.back() = 'e';
  EXPECT_FALSE(SecretMatchesHash("abc", last_char_off));
  std::string first_char_off = abc_hash;
  first_char_off.front() = 'c';
  EXPECT_FALSE(SecretMatchesHash("abc", first_char_off));
}

TEST(SecretMatchesHashTest, RefusesHashesOfTheWrongLength) {
  const std::string abc_hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_FALSE(SecretMatchesHash("abc", ""));
  EXPECT_FALSE(SecretMatchesHash("abc", abc_hash.substr(0, 63)));
  EXPECT_FALSE(SecretMatchesHash("abc", abc_hash.substr(0, 32)));
  EXPECT_FALSE(SecretMatchesHash("abc", abc_hash + "0"));
  EXPECT_FALSE(SecretMatchesHash("", ""));
}

}  // namespace
}  // namespace edgenas
