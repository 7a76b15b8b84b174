// Internal to job_spec*.cc: the table of a job spec's numeric fields with
// their defaults and bounds, the rules for its strings, and the objective
// kinds' names. Parsing, defaults, validation and the README table all read
// these, and nothing else states a bound.
#ifndef EDGENAS_SERVER_SPEC_JOB_SPEC_FIELDS_H_
#define EDGENAS_SERVER_SPEC_JOB_SPEC_FIELDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "edgenas/v1/job.pb.h"

namespace edgenas {
namespace job_spec_internal {

// InvalidArgument "path: what": every message about a spec starts with the
// field it is about.
absl::Status FieldError(const std::string& path, const std::string& what);

enum class NumberKind { kInteger, kReal };

// An interval, closed unless said otherwise, optionally with 0 allowed
// besides (max_train_images: 0 means "all").
struct Bound {
  double lo = 0;
  double hi = 0;
  bool lo_open = false;
  bool hi_open = false;
  bool or_zero = false;

  // False for NaN.
  bool Contains(double v) const;
  // "[1, 100000]", "(0, 0.5]".
  std::string Interval(NumberKind kind) const;
};

struct NumberField {
  const char* path;  // "budget.max_trials"
  NumberKind kind;
  double default_value;
  Bound bound;
  const char* meaning;  // one line for the README
  double (*get)(const v1::JobSpec& spec);
  void (*set)(v1::JobSpec* spec, double value);

  std::string Section() const;  // "budget"
  std::string Key() const;      // "max_trials"
  // "budget.max_trials: -5 is outside [1, 100000]"; `shown` is the value
  // as the user wrote it.
  std::string OutsideMessage(const std::string& shown) const;
};

// In proto field order.
const std::vector<NumberField>& NumberFields();
// nullptr when `path` is not a numeric field.
const NumberField* FindNumberField(const std::string& path);

// Integers without a fraction, reals in the shortest form that reads back
// as the same double ("0.0005", "1", "nan").
std::string FormatNumber(double value, NumberKind kind);

inline constexpr char kDefaultName[] = "job";
inline constexpr char kDefaultDataset[] = "fashion-mnist";
inline constexpr char kDefaultDeviceClass[] = "host-cpu";
inline constexpr uint64_t kDefaultSeed = 1;

inline constexpr int kMaxNameChars = 100;
inline constexpr char kNameCharsText[] = "A-Z a-z 0-9 space _ . -";
bool IsNameChar(char c);
inline constexpr int kMaxDeviceClassChars = 64;
inline constexpr char kDeviceClassCharsText[] = "a-z 0-9 -";
bool IsDeviceClassChar(char c);

// "accuracy", "latency", "mnas"; nullptr for any other value.
const char* ObjectiveKindName(int kind);
// OBJECTIVE_UNSPECIFIED for an unknown name.
v1::ObjectiveKind ObjectiveKindFromName(const std::string& name);
inline constexpr char kObjectiveKindsText[] = "accuracy, latency, mnas";

// The learning-rate schedules a training section may name.
inline constexpr const char* kSchedules[] = {"cosine", "constant", "step"};
inline constexpr char kDefaultSchedule[] = "cosine";
// The sections that describe a training: a candidate's and the final one.
// Each has, besides its numbers, "schedule" and "augment_flip".
inline constexpr const char* kTrainingSections[] = {"training", "final_training"};
// The training section's schedule and flip, as the wire holds them.
std::string* MutableSchedule(v1::JobSpec* spec, const std::string& section);
const std::string& Schedule(const v1::JobSpec& spec, const std::string& section);
bool Flip(const v1::JobSpec& spec, const std::string& section);
void SetFlip(v1::JobSpec* spec, const std::string& section, bool value);

// Every field at its default; strategy.name is empty because a job must
// name its strategy.
v1::JobSpec DefaultJobSpec();

}  // namespace job_spec_internal
}  // namespace edgenas

#endif  // EDGENAS_SERVER_SPEC_JOB_SPEC_FIELDS_H_
