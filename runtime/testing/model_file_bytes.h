// A model file's bytes around a body of our choosing, for tests that edit
// the serialized proto and need the reader to get past the header's checks.
#ifndef EDGENAS_RUNTIME_TESTING_MODEL_FILE_BYTES_H_
#define EDGENAS_RUNTIME_TESTING_MODEL_FILE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/model_file/model_file.h"

namespace edgenas {
namespace testing {

// The header's size: magic, version, body length, CRC-32 of the body.
inline constexpr size_t kModelHeaderBytes = 24;

// A file of `body` with a correct header and CRC.
std::string FrameModelBody(const std::string& body, uint32_t version = kModelFormatVersion);

}  // namespace testing
}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_TESTING_MODEL_FILE_BYTES_H_
