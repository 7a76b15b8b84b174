#include "runtime/model_file/weights_digest.h"

#include <cstdint>

#include "runtime/util/sha256.h"

namespace edgenas {

std::string WeightsDigest(const ParamStore& params) {
  Sha256 sha;
  for (const auto& [name, t] : params.tensors()) {
    // Lengths first, so no two different sets feed the same byte stream.
    const uint64_t sizes[3] = {name.size(), t.dims.size(), t.values.size()};
    sha.Update(sizes, sizeof sizes)
        .Update(name.data(), name.size())
        .Update(t.dims.data(), t.dims.size() * sizeof(int64_t))
        .Update(t.values.data(), t.values.size() * sizeof(float));
  }
  return sha.HexDigest(32);
}

}  // namespace edgenas
