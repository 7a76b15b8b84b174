#include "runtime/tasks/dataset_cache.h"

#include "absl/strings/str_format.h"

namespace edgenas {
namespace {

// A coordinator rarely serves more than a couple of datasets at once.
constexpr size_t kKeep = 4;

}  // namespace

absl::StatusOr<std::shared_ptr<const DatasetSplits>> DatasetCache::Get(
    const std::string& name, double validation_fraction, uint64_t seed, int64_t max_train_images) {
  // Every argument the splits depend on, the fraction to the last bit: two
  // fractions that differ in the seventh digit carve different splits.
  const std::string key =
      absl::StrFormat("%s|%a|%d|%d", name, validation_fraction, seed, max_train_images);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = loaded_.find(key);
  if (it != loaded_.end()) return it->second;
  auto dir = dirs_.find(name);
  absl::StatusOr<DatasetSplits> splits =
      LoadNamedDataset(name, dir == dirs_.end() ? std::string() : dir->second, validation_fraction,
                       seed, max_train_images);
  if (!splits.ok()) return splits.status();
  auto shared = std::make_shared<const DatasetSplits>(*std::move(splits));
  if (loaded_.size() >= kKeep) loaded_.erase(loaded_.begin());
  loaded_[key] = shared;
  return shared;
}

}  // namespace edgenas
