#include <algorithm>
#include <cstring>
#include <limits>
#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "runtime/compress/huffman.h"
#include "runtime/compress/shared_tensor.h"
#include "runtime/compress/weight_sharing.h"

namespace edgenas {
namespace {

std::vector<uint32_t> SkewedSymbols(size_t n, uint32_t alphabet, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<uint32_t> g(0.3);
  std::vector<uint32_t> out(n);
  for (uint32_t& s : out) s = std::min(g(rng), alphabet - 1);
  return out;
}

TEST(HuffmanTest, DecodeOfEncodeIsTheInputOnRandomMessages) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const uint32_t alphabet = 1 + seed % 40;
    const std::vector<uint32_t> symbols = SkewedSymbols(seed * 97 % 5000, alphabet, seed);
    const std::string block = HuffmanEncodeBlock(symbols, alphabet);
    absl::StatusOr<std::vector<uint32_t>> back = HuffmanDecodeBlock(block, alphabet, symbols.size());
    ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << back.status();
    EXPECT_EQ(*back, symbols) << "seed " << seed;
  }
}

TEST(HuffmanTest, LengthsAreOptimalAndThePrefixCodeIsComplete) {
  // Counts 1, 1, 2, 4, 8: a code of lengths 4, 4, 3, 2, 1 (15 + ... = 30 bits).
  const HuffmanCode code = HuffmanCode::FromCounts({1, 1, 2, 4, 8});
  EXPECT_EQ(code.lengths(), (std::vector<uint8_t>{4, 4, 3, 2, 1}));
  EXPECT_EQ(code.EncodedBits({1, 1, 2, 4, 8}), 4u + 4 + 6 + 8 + 8);
  // The entropy bound: within one bit per symbol of -sum p log2 p.
  const std::vector<uint32_t> symbols = SkewedSymbols(20000, 32, 7);
  std::vector<uint64_t> counts(32, 0);
  for (uint32_t s : symbols) ++counts[s];
  double entropy = 0;
  for (uint64_t c : counts)
    if (c > 0) entropy -= c * std::log2(static_cast<double>(c) / symbols.size());
  const double bits = static_cast<double>(HuffmanCode::FromCounts(counts).EncodedBits(counts));
  EXPECT_GE(bits, entropy - 1e-6);
  EXPECT_LE(bits, entropy + symbols.size());
}

TEST(HuffmanTest, DeepTreesAreFlattenedToTheLengthLimit) {
  // Fibonacci counts make a tree as deep as there are symbols.
  std::vector<uint64_t> counts = {1, 1};
  while (counts.size() < 40) counts.push_back(counts[counts.size() - 1] + counts[counts.size() - 2]);
  const HuffmanCode code = HuffmanCode::FromCounts(counts);
  EXPECT_LE(*std::max_element(code.lengths().begin(), code.lengths().end()), kMaxHuffmanBits);
  std::vector<uint32_t> symbols;
  for (uint32_t s = 0; s < 40; ++s) symbols.push_back(s);
  absl::StatusOr<std::vector<uint32_t>> back =
      HuffmanDecodeBlock(HuffmanEncodeBlock(symbols, 40), 40, 40);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, symbols);
}

TEST(HuffmanTest, OneSymbolAndNoSymbolsAreCoded) {
  for (const std::vector<uint32_t>& symbols : {std::vector<uint32_t>{}, std::vector<uint32_t>(100, 3)}) {
    absl::StatusOr<std::vector<uint32_t>> back =
        HuffmanDecodeBlock(HuffmanEncodeBlock(symbols, 5), 5, 1000);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, symbols);
  }
}

TEST(HuffmanTest, DamagedBlocksAreRefusedNeverReadPast) {
  const std::vector<uint32_t> symbols = SkewedSymbols(3000, 16, 9);
  const std::string block = HuffmanEncodeBlock(symbols, 16);
  // Every truncation is refused.
  for (size_t n = 0; n < block.size(); n += 1 + n / 50) {
    // A copy of exactly n bytes, so that a read past it is a read past the buffer.
    const std::string cut = block.substr(0, n);
    EXPECT_FALSE(HuffmanDecodeBlock(cut, 16, 3000).ok()) << n << " bytes";
  }
  // Trailing bytes, a larger alphabet than allowed, more symbols than expected.
  EXPECT_FALSE(HuffmanDecodeBlock(block + "x", 16, 3000).ok());
  EXPECT_FALSE(HuffmanDecodeBlock(block, 15, 3000).ok());
  EXPECT_FALSE(HuffmanDecodeBlock(block, 16, 2999).ok());
  // Flipped bits: refused or decoded to some message of the right length,
  // never a crash (ASan watches the reads).
  std::mt19937_64 rng(4);
  for (int trial = 0; trial < 500; ++trial) {
    std::string flipped = block;
    const size_t at = rng() % flipped.size();
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << (rng() % 8)));
    absl::StatusOr<std::vector<uint32_t>> r = HuffmanDecodeBlock(flipped, 16, 3000);
    if (r.ok()) EXPECT_LE(r->size(), 3000u);
  }
  // Lengths that over-fill the code space.
  EXPECT_FALSE(HuffmanCode::FromLengths({1, 1, 1}).ok());
  EXPECT_FALSE(HuffmanCode::FromLengths({kMaxHuffmanBits + 1}).ok());
}

TEST(WeightSharingTest, LinearInitialisationThenLloydConverges) {
  // Three tight groups: k-means with k = 3 finds their means.
  std::vector<float> values;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> noise(0, 0.01f);
  for (float centre : {-1.0f, 0.1f, 0.9f})
    for (int i = 0; i < 200; ++i) values.push_back(centre + noise(rng));
  const SharedWeights s = ShareWeights(values, 3);
  ASSERT_EQ(s.centroids.size(), 3u);
  EXPECT_NEAR(s.centroids[0], -1.0, 0.01);
  EXPECT_NEAR(s.centroids[1], 0.1, 0.01);
  EXPECT_NEAR(s.centroids[2], 0.9, 0.01);
  EXPECT_TRUE(std::is_sorted(s.centroids.begin(), s.centroids.end()));
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(s.cluster[i], i / 200);
}

TEST(WeightSharingTest, EveryWeightGoesToItsNearestCentroidAndCentroidsAreMeans) {
  std::vector<float> values(5000);
  std::mt19937_64 rng(6);
  std::normal_distribution<float> n(0, 0.1f);
  for (float& v : values) v = n(rng);
  const SharedWeights s = ShareWeights(values, 16, 1000);
  std::vector<double> sum(16, 0);
  std::vector<int> count(16, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    float best = INFINITY;
    for (float c : s.centroids) best = std::min(best, std::abs(values[i] - c));
    EXPECT_FLOAT_EQ(std::abs(values[i] - s.centroids[s.cluster[i]]), best);
    sum[s.cluster[i]] += values[i];
    ++count[s.cluster[i]];
  }
  for (int c = 0; c < 16; ++c)
    if (count[c] > 0) EXPECT_NEAR(s.centroids[c], sum[c] / count[c], 1e-6);
}

TEST(WeightSharingTest, RelativeIndexRoundTripsWithFillers) {
  // Gaps of 0, 7 (the largest 3-bit symbol), 8 and 20 zeros.
  const std::vector<int64_t> positions = {0, 8, 17, 38};
  const RelativeIndex r = EncodePositions(positions, 3);
  // 20 zeros: two fillers (8 positions each) and an entry after 4 more.
  EXPECT_EQ(r.gaps, (std::vector<uint32_t>{0, 7, 7, 0, 7, 7, 4}));
  EXPECT_EQ(r.filler, (std::vector<uint8_t>{0, 0, 1, 0, 1, 1, 0}));
  absl::StatusOr<std::vector<int64_t>> back = DecodePositions(r.gaps, 39);
  ASSERT_TRUE(back.ok()) << back.status();
  std::vector<int64_t> kept;
  for (size_t i = 0; i < back->size(); ++i)
    if (!r.filler[i]) kept.push_back((*back)[i]);
  EXPECT_EQ(kept, positions);
  EXPECT_FALSE(DecodePositions(r.gaps, 38).ok());
}

// A layer as Deep Compression leaves it: `density` of the weights kept,
// each one of `k` shared values.
std::vector<float> PrunedSharedLayer(size_t n, double density, int k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<float> w(0, 0.05f);
  std::vector<float> centroids(k);
  for (float& c : centroids) c = w(rng);
  std::vector<float> out(n, 0.0f);
  for (float& v : out)
    if (u(rng) < density) v = centroids[rng() % k];
  return out;
}

bool SameFloatBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(SharedTensorTest, DecodesBitForBitAndIsSmallForAPrunedSharedLayer) {
  // LeNet-300-100's first layer after Deep Compression: 8% kept, 32 values.
  std::vector<float> layer = PrunedSharedLayer(784 * 300, 0.08, 32, 1);
  layer[5] = -0.0f;  // a negative zero is a value of its own
  layer[6] = std::numeric_limits<float>::quiet_NaN();
  const std::optional<SharedTensorCode> code = EncodeSharedTensor(layer);
  ASSERT_TRUE(code.has_value());
  absl::StatusOr<std::vector<float>> back = DecodeSharedTensor(*code, static_cast<int64_t>(layer.size()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(SameFloatBits(*back, layer));
  const double ratio = static_cast<double>(layer.size() * sizeof(float)) / code->bytes();
  RecordProperty("compression_ratio", std::to_string(ratio));
  RecordProperty("index_bits", code->index_bits);
  // About 8.5 bits per kept weight (Huffman-coded gap and cluster) against
  // 32 bits for every weight.
  EXPECT_GT(ratio, 30.0);
}

TEST(SharedTensorTest, EmptyAllZeroAndDenseTensorsAreHandled) {
  for (const std::vector<float>& t : {std::vector<float>{}, std::vector<float>(1000, 0.0f),
                                      PrunedSharedLayer(500, 1.0, 3, 2)}) {
    const std::optional<SharedTensorCode> code = EncodeSharedTensor(t);
    ASSERT_TRUE(code.has_value());
    absl::StatusOr<std::vector<float>> back = DecodeSharedTensor(*code, static_cast<int64_t>(t.size()));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(SameFloatBits(*back, t));
  }
  // More distinct values than a codebook holds.
  std::vector<float> distinct(kMaxCodebook + 1);
  for (size_t i = 0; i < distinct.size(); ++i) distinct[i] = 1.0f + static_cast<float>(i) * 1e-4f;
  EXPECT_FALSE(EncodeSharedTensor(distinct).has_value());
}

TEST(SharedTensorTest, DamagedCodesAreRefused) {
  const std::vector<float> layer = PrunedSharedLayer(5000, 0.1, 8, 3);
  const SharedTensorCode good = *EncodeSharedTensor(layer);
  // The wrong count: fewer positions than the entries reach.
  EXPECT_FALSE(DecodeSharedTensor(good, 100).ok());
  SharedTensorCode c = good;
  c.index_bits = 0;
  EXPECT_FALSE(DecodeSharedTensor(c, 5000).ok());
  c = good;
  c.clusters.resize(c.clusters.size() / 2);
  EXPECT_FALSE(DecodeSharedTensor(c, 5000).ok());
  c = good;
  c.codebook.pop_back();  // a cluster index now past the codebook
  EXPECT_FALSE(DecodeSharedTensor(c, 5000).ok());
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    c = good;
    std::string& part = trial % 2 ? c.gaps : c.clusters;
    const size_t at = rng() % part.size();
    part[at] = static_cast<char>(part[at] ^ (1 << (rng() % 8)));
    absl::StatusOr<std::vector<float>> r = DecodeSharedTensor(c, 5000);
    if (r.ok()) EXPECT_EQ(r->size(), 5000u);
  }
}

}  // namespace
}  // namespace edgenas
