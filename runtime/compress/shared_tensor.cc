#include "runtime/compress/shared_tensor.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/compress/huffman.h"
#include "runtime/compress/weight_sharing.h"

namespace edgenas {
namespace {

uint32_t Bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

float FromBits(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

}  // namespace

std::optional<SharedTensorCode> EncodeSharedTensor(const std::vector<float>& values) {
  std::vector<int64_t> positions;
  std::vector<uint32_t> patterns;
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t b = Bits(values[i]);
    if (b == 0) continue;
    positions.push_back(static_cast<int64_t>(i));
    patterns.push_back(b);
  }
  std::vector<uint32_t> book = patterns;
  std::sort(book.begin(), book.end());
  book.erase(std::unique(book.begin(), book.end()), book.end());
  if (book.size() > kMaxCodebook) return std::nullopt;

  std::vector<uint32_t> entry_cluster(patterns.size());
  for (size_t i = 0; i < patterns.size(); ++i)
    entry_cluster[i] = static_cast<uint32_t>(std::lower_bound(book.begin(), book.end(), patterns[i]) - book.begin());
  const uint32_t filler = static_cast<uint32_t>(book.size());

  std::optional<SharedTensorCode> best;
  for (int bits = 1; bits <= 16; ++bits) {
    const RelativeIndex index = EncodePositions(positions, bits);
    std::vector<uint32_t> clusters;
    clusters.reserve(index.gaps.size());
    size_t next = 0;
    for (uint8_t is_filler : index.filler) clusters.push_back(is_filler ? filler : entry_cluster[next++]);
    SharedTensorCode code;
    code.index_bits = bits;
    code.gaps = HuffmanEncodeBlock(index.gaps, uint32_t{1} << bits);
    code.clusters = HuffmanEncodeBlock(clusters, filler + 1);
    if (!best || code.gaps.size() + code.clusters.size() < best->gaps.size() + best->clusters.size())
      best = std::move(code);
  }
  best->codebook.reserve(book.size());
  for (uint32_t b : book) best->codebook.push_back(FromBits(b));
  return best;
}

absl::StatusOr<std::vector<float>> DecodeSharedTensor(const SharedTensorCode& code, int64_t count) {
  if (code.index_bits < 1 || code.index_bits > 16)
    return absl::DataLossError(absl::StrCat("shared tensor: index width ", code.index_bits,
                                            " is outside [1, 16]"));
  if (code.codebook.size() > kMaxCodebook || count < 0)
    return absl::DataLossError("shared tensor: a codebook or count out of bounds");
  const uint32_t filler = static_cast<uint32_t>(code.codebook.size());
  absl::StatusOr<std::vector<uint32_t>> gaps = HuffmanDecodeBlock(
      code.gaps, uint32_t{1} << code.index_bits, static_cast<uint64_t>(count));
  if (!gaps.ok()) return gaps.status();
  absl::StatusOr<std::vector<uint32_t>> clusters =
      HuffmanDecodeBlock(code.clusters, filler + 1, static_cast<uint64_t>(count));
  if (!clusters.ok()) return clusters.status();
  if (clusters->size() != gaps->size())
    return absl::DataLossError(absl::StrCat("shared tensor: ", gaps->size(), " positions but ",
                                            clusters->size(), " values"));
  absl::StatusOr<std::vector<int64_t>> positions = DecodePositions(*gaps, count);
  if (!positions.ok()) return absl::DataLossError(positions.status().message());
  std::vector<float> values(static_cast<size_t>(count), 0.0f);
  for (size_t i = 0; i < positions->size(); ++i) {
    const uint32_t c = (*clusters)[i];
    if (c != filler) values[(*positions)[i]] = code.codebook[c];
  }
  return values;
}

}  // namespace edgenas
