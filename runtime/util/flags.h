// A small, strict flag parser for the edgenas CLI: --name value or
// --name=value, booleans as bare --name; an unknown flag or a missing value
// is an error that names it; --help prints what Help() returns.
#ifndef EDGENAS_RUNTIME_UTIL_FLAGS_H_
#define EDGENAS_RUNTIME_UTIL_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace edgenas {

class Flags {
 public:
  Flags(std::string usage, std::string description)
      : usage_(std::move(usage)), description_(std::move(description)) {}

  void String(const std::string& name, std::string* out, const std::string& help);
  void Int(const std::string& name, int* out, const std::string& help);
  void Int64(const std::string& name, int64_t* out, const std::string& help);
  void UInt64(const std::string& name, uint64_t* out, const std::string& help);
  void Double(const std::string& name, double* out, const std::string& help);
  void Bool(const std::string& name, bool* out, const std::string& help);

  // Parses argv[start..]. Non-flag arguments land in positional().
  absl::Status Parse(int argc, char** argv, int start);
  bool help_requested() const { return help_; }
  bool Seen(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  std::string Help() const;

 private:
  struct Flag {
    std::string name, help, default_text;
    bool is_bool = false;
    std::function<absl::Status(const std::string&)> set;
  };
  void Add(Flag flag) { flags_.push_back(std::move(flag)); }

  std::string usage_, description_;
  std::vector<Flag> flags_;
  std::vector<std::string> seen_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_UTIL_FLAGS_H_
