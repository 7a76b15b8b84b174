// MobileSpace::Sample and MobileSpace::Mutate: the random side of the space.
#include <algorithm>
#include <iterator>
#include <vector>

#include "search/space/mobile_space.h"

namespace edgenas {
namespace {

// Rejection sampling under max_mflops: in the default space on 28x28 nine
// draws in ten pass, so this many refusals mean the bound refuses nearly
// the whole space.
constexpr int kMaxSampleAttempts = 2000;
constexpr int kMaxMutationAttempts = 500;

// Only the generator's raw output is used (never a std distribution, whose
// algorithm is the library's choice), so a seed draws the same everywhere.
// The modulo bias is below 2^-50 for the small n used here.
int UniformIndex(std::mt19937_64& rng, size_t n) {
  return static_cast<int>(rng() % static_cast<uint64_t>(n));
}

template <typename Container>
auto PickFrom(std::mt19937_64& rng, const Container& choices) {
  return *std::next(std::begin(choices), UniformIndex(rng, std::size(choices)));
}

// A choice next to `current` in ascending order; any choice when `current`
// is not among them; `current` itself when it is the only one.
template <typename T, typename Container>
T Neighbour(std::mt19937_64& rng, const Container& choices, T current) {
  std::vector<T> sorted(std::begin(choices), std::end(choices));
  std::sort(sorted.begin(), sorted.end());
  auto it = std::find(sorted.begin(), sorted.end(), current);
  if (it == sorted.end()) return PickFrom(rng, sorted);
  std::vector<T> next;
  if (it != sorted.begin()) next.push_back(*std::prev(it));
  if (std::next(it) != sorted.end()) next.push_back(*std::next(it));
  return next.empty() ? current : PickFrom(rng, next);
}

// Resets the fields `b.type` does not read to their fixed values and draws
// those it reads.
void DrawTypeFields(std::mt19937_64& rng, MobileBlock* b) {
  b->kernel = 3;
  b->expand = 1;
  b->se_ratio = 0;
  b->squeeze_ratio = 0;
  switch (b->type) {
    case MobileBlockType::kDwSeparable:
      b->kernel = PickFrom(rng, kMobileKernels);
      break;
    case MobileBlockType::kMBConv:
      b->kernel = PickFrom(rng, kMobileKernels);
      b->expand = PickFrom(rng, kMobileExpands);
      b->se_ratio = PickFrom(rng, kMobileSeRatios);
      break;
    case MobileBlockType::kFire:
      b->squeeze_ratio = PickFrom(rng, kMobileSqueezeRatios);
      break;
  }
}

MobileBlock DrawBlock(std::mt19937_64& rng, const MobileSpace& space, int stride) {
  MobileBlock b;
  b.type = static_cast<MobileBlockType>(UniformIndex(rng, 3));
  b.out_channels = PickFrom(rng, space.widths);
  b.stride = stride;
  DrawTypeFields(rng, &b);
  return b;
}

enum class Mutation { kWidth, kKernel, kExpand, kSqueezeExcite, kType, kStride, kInsert, kRemove };
constexpr int kMutationKinds = 8;

// Applies one mutation of `kind` to `arch`; it may turn out a no-op (an
// expand change on a Fire block) or leave the space (too many stride-2
// blocks): the caller checks and draws again.
void ApplyMutation(std::mt19937_64& rng, const MobileSpace& space, Mutation kind,
                   MobileArch* arch) {
  std::vector<MobileBlock>& blocks = arch->blocks;
  const int n = static_cast<int>(blocks.size());
  if (kind == Mutation::kInsert) {
    if (n >= space.max_blocks) return;
    const int at = UniformIndex(rng, n + 1);
    blocks.insert(blocks.begin() + at, DrawBlock(rng, space, 1));
    return;
  }
  if (kind == Mutation::kWidth) {
    // Position n stands for the stem.
    const int at = UniformIndex(rng, n + 1);
    if (at == n) {
      arch->stem_channels = Neighbour(rng, space.stem_widths, arch->stem_channels);
    } else {
      blocks[at].out_channels = Neighbour(rng, space.widths, blocks[at].out_channels);
    }
    return;
  }
  if (n == 0) return;
  MobileBlock& b = blocks[UniformIndex(rng, n)];
  switch (kind) {
    case Mutation::kKernel:
      if (b.type == MobileBlockType::kFire) {
        b.squeeze_ratio = Neighbour(rng, kMobileSqueezeRatios, b.squeeze_ratio);
      } else {
        b.kernel = Neighbour(rng, kMobileKernels, b.kernel);
      }
      break;
    case Mutation::kExpand:
      if (b.type == MobileBlockType::kMBConv) b.expand = Neighbour(rng, kMobileExpands, b.expand);
      break;
    case Mutation::kSqueezeExcite:
      if (b.type == MobileBlockType::kMBConv) {
        b.se_ratio = Neighbour(rng, kMobileSeRatios, b.se_ratio);
      }
      break;
    case Mutation::kType:
      b.type =
          static_cast<MobileBlockType>((static_cast<int>(b.type) + 1 + UniformIndex(rng, 2)) % 3);
      DrawTypeFields(rng, &b);
      break;
    case Mutation::kStride:
      b.stride = b.stride == 1 ? 2 : 1;
      break;
    case Mutation::kRemove:
      if (n > space.min_blocks) blocks.erase(blocks.begin() + (&b - blocks.data()));
      break;
    case Mutation::kWidth:
    case Mutation::kInsert:
      break;
  }
}

}  // namespace

MobileArch MobileSpace::Sample(std::mt19937_64& rng) const {
  for (int attempt = 0; attempt < kMaxSampleAttempts; ++attempt) {
    MobileArch arch;
    arch.stem_channels = PickFrom(rng, stem_widths);
    const int n = min_blocks + UniformIndex(rng, max_blocks - min_blocks + 1);
    const int downsamples = UniformIndex(rng, std::min(MaxDownsamples(), n) + 1);
    // The first `downsamples` entries of a partial shuffle are the
    // stride-2 positions.
    std::vector<int> order(n);
    for (int i = 0; i < n; ++i) order[i] = i;
    std::vector<int> strides(n, 1);
    for (int i = 0; i < downsamples; ++i) {
      std::swap(order[i], order[i + UniformIndex(rng, n - i)]);
      strides[order[i]] = 2;
    }
    for (int i = 0; i < n; ++i) arch.blocks.push_back(DrawBlock(rng, *this, strides[i]));
    if (Check(arch).ok()) return arch;
  }
  return Minimal();
}

MobileArch MobileSpace::Mutate(const MobileArch& parent, std::mt19937_64& rng) const {
  for (int attempt = 0; attempt < kMaxMutationAttempts; ++attempt) {
    MobileArch child = parent;
    ApplyMutation(rng, *this, static_cast<Mutation>(UniformIndex(rng, kMutationKinds)), &child);
    if (child != parent && Check(child).ok()) return child;
  }
  return parent;
}

}  // namespace edgenas
