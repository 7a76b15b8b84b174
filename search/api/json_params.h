// Reading a strategy's or a space's JSON parameters strictly: wrong types,
// values out of range and unknown keys are errors naming the field by its
// full path ("space.widths[2]").
#ifndef EDGENAS_SEARCH_API_JSON_PARAMS_H_
#define EDGENAS_SEARCH_API_JSON_PARAMS_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace edgenas {

// Each getter leaves *out unchanged when the key is absent (the caller's
// default stands) and fails when it is present but wrong. Finish() refuses
// every key no getter asked about. `object` must outlive the reader.
class JsonParams {
 public:
  // `path` prefixes field names in messages; empty at the top level.
  JsonParams(const nlohmann::json& object, std::string path);

  // InvalidArgument unless the value given to the constructor is an object.
  absl::Status CheckObject() const;

  bool Has(const std::string& key) const;
  // The full path of `key` for messages ("space.max_blocks").
  std::string Field(const std::string& key) const;

  absl::Status Int(const std::string& key, int64_t lo, int64_t hi, int* out);
  absl::Status Double(const std::string& key, double lo, double hi, double* out);
  absl::Status String(const std::string& key, std::string* out);
  // A non-empty list of integers in [lo, hi], each distinct.
  absl::Status IntSet(const std::string& key, int64_t lo, int64_t hi, std::vector<int>* out);
  // The raw value (any type), for nested objects the caller reads itself.
  absl::Status Object(const std::string& key, const nlohmann::json** out);
  // Fails when the key is absent.
  absl::Status Require(const std::string& key);

  // InvalidArgument naming the first key nothing asked about.
  absl::Status Finish() const;

 private:
  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string> known_;
};

// Reads an integer in [lo, hi] from `value`; `field` names it in messages.
absl::Status ReadJsonInt(const nlohmann::json& value, const std::string& field, int64_t lo,
                         int64_t hi, int64_t* out);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_API_JSON_PARAMS_H_
