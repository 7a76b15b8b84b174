#include "server/spec/job_spec_bounded_json.h"

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/spec/job_spec.h"

namespace edgenas {
namespace job_spec_internal {
namespace {

using nlohmann::json;

constexpr size_t kShownChars = 40;

// The first `max` bytes of `text`, or fewer with "..." after them, never
// splitting a UTF-8 sequence.
std::string Shortened(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string Label(const std::string& path) {
  if (path.empty()) return "spec";
  if (path[0] == '[') return "spec" + path;
  return path;
}

// A first pass over the text that builds nothing: it tracks where it is so
// that an error can name the place, and stops at the first container past
// the depth limit. Its memory is one frame per open container.
class DepthCheck : public nlohmann::json_sax<json> {
 public:
  DepthCheck(std::string root_path, int max_depth, int root_depth)
      : root_path_(std::move(root_path)), max_depth_(max_depth), root_depth_(root_depth) {}

  const std::string& error() const { return error_; }

  bool null() override { return Element(); }
  bool boolean(bool) override { return Element(); }
  bool number_integer(number_integer_t) override { return Element(); }
  bool number_unsigned(number_unsigned_t) override { return Element(); }
  bool number_float(number_float_t, const string_t&) override { return Element(); }
  bool string(string_t&) override { return Element(); }
  bool binary(binary_t&) override { return Element(); }
  bool start_object(std::size_t) override { return Open(/*is_array=*/false); }
  bool start_array(std::size_t) override { return Open(/*is_array=*/true); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& key) override {
    // Keys can be long; a path only has to point the user to the place.
    frames_.back().key = Shortened(key, kShownChars);
    return true;
  }

  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // what() starts with "[json.exception.parse_error.101] "; the user
    // needs the rest.
    std::string what = ex.what();
    const size_t end_of_tag = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && end_of_tag != std::string::npos) {
      what = what.substr(end_of_tag + 2);
    }
    error_ = absl::StrCat(Label(root_path_), ": not valid JSON: ", what);
    return false;
  }

 private:
  struct Frame {
    bool is_array = false;
    int64_t index = -1;  // of the current element, in an array
    std::string key;     // of the current member, in an object
  };

  bool Element() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
    return true;
  }

  bool Open(bool is_array) {
    Element();
    if (root_depth_ + static_cast<int>(frames_.size()) >= max_depth_) {
      error_ = absl::StrCat(Label(Path()), ": nested deeper than ", max_depth_, " levels");
      return false;
    }
    frames_.push_back(Frame{is_array, -1, ""});
    return true;
  }

  bool Close() {
    frames_.pop_back();
    return true;
  }

  // Where the value being read sits.
  std::string Path() const {
    std::string path = root_path_;
    for (const Frame& frame : frames_) {
      if (frame.is_array) {
        absl::StrAppend(&path, "[", frame.index, "]");
      } else {
        absl::StrAppend(&path, path.empty() ? "" : ".", frame.key);
      }
    }
    return path;
  }

  const std::string root_path_;
  const int max_depth_;
  const int root_depth_;
  std::vector<Frame> frames_;
  std::string error_;
};

}  // namespace

absl::StatusOr<json> ParseBoundedJson(const std::string& text, const std::string& root_path,
                                      size_t max_bytes, int max_depth, int root_depth) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(Label(root_path), ": ", text.size(),
                                                   " bytes, more than the limit of ", max_bytes));
  }
  DepthCheck check(root_path, max_depth, root_depth);
  if (!json::sax_parse(text, &check)) {
    return absl::InvalidArgumentError(
        check.error().empty() ? absl::StrCat(Label(root_path), ": not valid JSON") : check.error());
  }
  // The text is now known to be valid and shallow enough to build.
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(Label(root_path), ": not valid JSON"));
  }
  return value;
}

absl::StatusOr<json> ParseStrategyParams(const std::string& params_json) {
  absl::StatusOr<json> params =
      ParseBoundedJson(params_json.empty() ? "{}" : params_json, "strategy.params",
                       kMaxStrategyParamsBytes, kMaxJobSpecJsonDepth, kStrategyParamsDepth);
  if (params.ok() && !params->is_object()) {
    return absl::InvalidArgumentError("strategy.params: must be a JSON object, got " +
                                      ShownJson(*params));
  }
  return params;
}

std::string ShownJson(const json& value) {
  // `replace` rather than the throwing default: a caller may quote a string
  // that did not come from the parser and so was never checked as UTF-8.
  return Shortened(value.dump(-1, ' ', false, json::error_handler_t::replace), kShownChars);
}

}  // namespace job_spec_internal
}  // namespace edgenas
