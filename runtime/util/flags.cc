#include "runtime/util/flags.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace {

absl::Status BadValue(const std::string& name, const std::string& value, const char* want) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, ": '", value, "' is not ", want));
}

}  // namespace

void Flags::String(const std::string& name, std::string* out, const std::string& help) {
  Add({name, help, *out, false, [out](const std::string& v) {
         *out = v;
         return absl::OkStatus();
       }});
}

void Flags::Int(const std::string& name, int* out, const std::string& help) {
  Add({name, help, std::to_string(*out), false, [out, name](const std::string& v) {
         char* end = nullptr;
         errno = 0;
         long x = std::strtol(v.c_str(), &end, 10);
         if (v.empty() || *end != '\0' || errno != 0 || x < -(1L << 31) || x >= (1L << 31))
           return BadValue(name, v, "an integer");
         *out = static_cast<int>(x);
         return absl::OkStatus();
       }});
}

void Flags::Int64(const std::string& name, int64_t* out, const std::string& help) {
  Add({name, help, std::to_string(*out), false, [out, name](const std::string& v) {
         char* end = nullptr;
         errno = 0;
         long long x = std::strtoll(v.c_str(), &end, 10);
         if (v.empty() || *end != '\0' || errno != 0) return BadValue(name, v, "an integer");
         *out = x;
         return absl::OkStatus();
       }});
}

void Flags::UInt64(const std::string& name, uint64_t* out, const std::string& help) {
  Add({name, help, std::to_string(*out), false, [out, name](const std::string& v) {
         char* end = nullptr;
         errno = 0;
         unsigned long long x = std::strtoull(v.c_str(), &end, 10);
         if (v.empty() || v[0] == '-' || *end != '\0' || errno != 0)
           return BadValue(name, v, "a non-negative integer");
         *out = x;
         return absl::OkStatus();
       }});
}

void Flags::Double(const std::string& name, double* out, const std::string& help) {
  std::string def = absl::StrCat(*out);
  Add({name, help, def, false, [out, name](const std::string& v) {
         char* end = nullptr;
         errno = 0;
         double x = std::strtod(v.c_str(), &end);
         if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(x))
           return BadValue(name, v, "a number");
         *out = x;
         return absl::OkStatus();
       }});
}

void Flags::Bool(const std::string& name, bool* out, const std::string& help) {
  Add({name, help, "", true, [out](const std::string&) {
         *out = true;
         return absl::OkStatus();
       }});
}

bool Flags::Seen(const std::string& name) const {
  return std::find(seen_.begin(), seen_.end(), name) != seen_.end();
}

absl::Status Flags::Parse(int argc, char** argv, int start) {
  for (int i = start; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto it = std::find_if(flags_.begin(), flags_.end(), [&](const Flag& f) { return f.name == name; });
    if (it == flags_.end())
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    if (it->is_bool) {
      if (has_value) return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
    } else if (!has_value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    if (absl::Status s = it->set(value); !s.ok()) return s;
    seen_.push_back(name);
  }
  return absl::OkStatus();
}

std::string Flags::Help() const {
  std::string out = absl::StrCat("usage: ", usage_, "\n\n", description_, "\n\nflags:\n");
  for (const Flag& f : flags_) {
    std::string left = absl::StrCat("  --", f.name, f.is_bool ? "" : " VALUE");
    if (left.size() < 28) left.resize(28, ' ');
    absl::StrAppend(&out, left, " ", f.help);
    if (!f.is_bool && !f.default_text.empty()) absl::StrAppend(&out, " (default: ", f.default_text, ")");
    out += "\n";
  }
  return out;
}

}  // namespace edgenas
