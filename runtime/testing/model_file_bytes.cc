#include "runtime/testing/model_file_bytes.h"

#include <zlib.h>

namespace edgenas {
namespace testing {

std::string FrameModelBody(const std::string& body, uint32_t version) {
  std::string out = "EDGENASM";
  auto put = [&out](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(version, 4);
  put(body.size(), 8);
  put(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(body.data()),
            static_cast<uInt>(body.size())),
      4);
  return out + body;
}

}  // namespace testing
}  // namespace edgenas
