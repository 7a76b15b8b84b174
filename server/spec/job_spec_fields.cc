#include "server/spec/job_spec_fields.h"

#include <cmath>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "search/api/evaluation.h"
#include "search/objective/mnas_reward.h"

namespace edgenas {
namespace job_spec_internal {
namespace {

constexpr NumberKind kInteger = NumberKind::kInteger;
constexpr NumberKind kReal = NumberKind::kReal;

constexpr Bound Closed(double lo, double hi) { return Bound{lo, hi, false, false, false}; }
constexpr Bound OpenLow(double lo, double hi) { return Bound{lo, hi, true, false, false}; }
constexpr Bound OpenHigh(double lo, double hi) { return Bound{lo, hi, false, true, false}; }
constexpr Bound ClosedOrZero(double lo, double hi) { return Bound{lo, hi, false, false, true}; }

// One row per numeric proto field; the accessors are generated so that a
// row cannot read one field and write another.
#define EDGENAS_NUMBER_FIELD(section, field, kind, default_value, bound, meaning)     \
  NumberField {                                                                       \
#section "." #field, kind, default_value, bound, meaning,                           \
        [](const v1::JobSpec& s) { return static_cast<double>(s.section().field()); },  \
        [](v1::JobSpec* s, double v) {                                                  \
          s->mutable_##section()->set_##field(                                          \
              static_cast<std::decay_t<decltype(s->section().field())>>(v));            \
        } \
  }

}  // namespace

absl::Status FieldError(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

bool Bound::Contains(double v) const {
  if (or_zero && v == 0) return true;
  // Written as positive tests so that NaN fails each of them.
  const bool above_lo = lo_open ? v > lo : v >= lo;
  const bool below_hi = hi_open ? v < hi : v <= hi;
  return above_lo && below_hi;
}

std::string Bound::Interval(NumberKind kind) const {
  return absl::StrCat(lo_open ? "(" : "[", FormatNumber(lo, kind), ", ", FormatNumber(hi, kind),
                      hi_open ? ")" : "]");
}

std::string NumberField::Section() const {
  const std::string p = path;
  return p.substr(0, p.find('.'));
}

std::string NumberField::Key() const {
  const std::string p = path;
  return p.substr(p.find('.') + 1);
}

std::string NumberField::OutsideMessage(const std::string& shown) const {
  return absl::StrCat(path, ": ", shown, " is outside ", bound.Interval(kind),
                      bound.or_zero ? " (or 0)" : "");
}

const std::vector<NumberField>& NumberFields() {
  static const std::vector<NumberField>* const fields = new std::vector<NumberField>{
      EDGENAS_NUMBER_FIELD(dataset, validation_fraction, kReal, 0.1, OpenLow(0, 0.5),
                           "share of the training split held out to score candidates"),
      EDGENAS_NUMBER_FIELD(dataset, max_train_images, kInteger, 0, ClosedOrZero(100, 1e7),
                           "0: all; otherwise a seeded subset, for quick runs"),
      EDGENAS_NUMBER_FIELD(objective, target_latency_ms, kReal, 1.0, OpenLow(0, 60000),
                           "T in the MnasNet reward ACC x (LAT / T)^w"),
      EDGENAS_NUMBER_FIELD(objective, alpha, kReal, kMnasSoftExponent, Closed(-2, 0),
                           "w when LAT <= T (give with beta, instead of w or constraint)"),
      EDGENAS_NUMBER_FIELD(objective, beta, kReal, kMnasSoftExponent, Closed(-2, 0),
                           "w when LAT > T (give with alpha)"),
      EDGENAS_NUMBER_FIELD(budget, max_trials, kInteger, 20, Closed(1, 100000),
                           "candidates evaluated before the search stops"),
      EDGENAS_NUMBER_FIELD(budget, max_minutes, kInteger, 10, Closed(1, 10080),
                           "wall-clock limit of the search (10080: one week)"),
      EDGENAS_NUMBER_FIELD(training, epochs, kInteger, 1, Closed(1, kMaxTrainingEpochs),
                           "training epochs per candidate"),
      EDGENAS_NUMBER_FIELD(training, batch_size, kInteger, 64, Closed(1, kMaxTrainingBatch),
                           "SGD mini-batch size"),
      EDGENAS_NUMBER_FIELD(training, learning_rate, kReal, 0.05, OpenLow(0, kMaxLearningRate),
                           "SGD learning rate (the schedule's peak)"),
      EDGENAS_NUMBER_FIELD(training, momentum, kReal, 0.9, OpenHigh(0, 1),
                           "SGD momentum (0: plain SGD)"),
      EDGENAS_NUMBER_FIELD(training, weight_decay, kReal, 5e-4, OpenHigh(0, 1), "L2 weight decay"),
      EDGENAS_NUMBER_FIELD(training, threads, kInteger, 2, Closed(1, kMaxTrainingThreads),
                           "compute threads of one training run"),
      EDGENAS_NUMBER_FIELD(training, augment_pad_crop, kInteger, 0, Closed(0, kMaxAugmentPadCrop),
                           "pad each side by this many pixels, then crop a random window of "
                           "the image's size (0: off)"),
      EDGENAS_NUMBER_FIELD(latency, batch, kInteger, 1, Closed(1, 1024),
                           "batch size of the measured inference"),
      EDGENAS_NUMBER_FIELD(latency, threads, kInteger, 1, Closed(1, 256),
                           "compute threads while measuring"),
      EDGENAS_NUMBER_FIELD(latency, warmup, kInteger, 10, Closed(0, 10000),
                           "runs discarded before measuring"),
      EDGENAS_NUMBER_FIELD(latency, number, kInteger, 0, Closed(0, 1000000),
                           "runs per repeat; 0: raised until a repeat lasts min_repeat_ms"),
      EDGENAS_NUMBER_FIELD(latency, repeat, kInteger, 20, Closed(1, 1000),
                           "repeats reported (median, p90, spread)"),
      EDGENAS_NUMBER_FIELD(latency, min_repeat_ms, kReal, 20, Closed(0, 60000),
                           "least duration of one repeat"),
      EDGENAS_NUMBER_FIELD(latency, cooldown_ms, kReal, 0, Closed(0, 60000),
                           "pause between repeats, so a device that heats up cools down"),
      // At most 16 winners: each is a full training on the whole split.
      EDGENAS_NUMBER_FIELD(final_training, winners, kInteger, 0, Closed(0, 16),
                           "most accurate points of the front within the latency target, "
                           "trained again on the whole training split after the search, their "
                           "test accuracy measured once (0: none)"),
      EDGENAS_NUMBER_FIELD(final_training, epochs, kInteger, 10, Closed(1, kMaxTrainingEpochs),
                           "epochs of each winner's final training"),
      EDGENAS_NUMBER_FIELD(final_training, batch_size, kInteger, 64, Closed(1, kMaxTrainingBatch),
                           "its mini-batch size"),
      EDGENAS_NUMBER_FIELD(final_training, learning_rate, kReal, 0.05,
                           OpenLow(0, kMaxLearningRate), "its learning rate (the schedule's peak)"),
      EDGENAS_NUMBER_FIELD(final_training, momentum, kReal, 0.9, OpenHigh(0, 1), "its momentum"),
      EDGENAS_NUMBER_FIELD(final_training, weight_decay, kReal, 5e-4, OpenHigh(0, 1),
                           "its L2 weight decay"),
      EDGENAS_NUMBER_FIELD(final_training, threads, kInteger, 2, Closed(1, kMaxTrainingThreads),
                           "its compute threads"),
      EDGENAS_NUMBER_FIELD(final_training, augment_pad_crop, kInteger, 0,
                           Closed(0, kMaxAugmentPadCrop), "its random crop (as training's)"),
  };
  return *fields;
}

#undef EDGENAS_NUMBER_FIELD

const NumberField* FindNumberField(const std::string& path) {
  for (const NumberField& field : NumberFields()) {
    if (path == field.path) return &field;
  }
  return nullptr;
}

std::string FormatNumber(double value, NumberKind kind) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Integral values print without ".0" for reals too, so bounds read
  // "(0, 60000]"; 1e15 keeps the cast exact.
  if (kind == NumberKind::kInteger || (value == std::floor(value) && std::fabs(value) < 1e15)) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // nlohmann prints the shortest text that reads back as the same double,
  // so a message never shows "0.5 is outside (0, 0.5]".
  return nlohmann::json(value).dump();
}

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
         c == '_' || c == '.' || c == '-';
}

bool IsDeviceClassChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

const char* ObjectiveKindName(int kind) {
  switch (kind) {
    case v1::OBJECTIVE_ACCURACY:
      return "accuracy";
    case v1::OBJECTIVE_LATENCY:
      return "latency";
    case v1::OBJECTIVE_MNAS:
      return "mnas";
    default:
      return nullptr;
  }
}

v1::ObjectiveKind ObjectiveKindFromName(const std::string& name) {
  for (v1::ObjectiveKind kind :
       {v1::OBJECTIVE_ACCURACY, v1::OBJECTIVE_LATENCY, v1::OBJECTIVE_MNAS}) {
    if (name == ObjectiveKindName(kind)) return kind;
  }
  return v1::OBJECTIVE_UNSPECIFIED;
}

std::string* MutableSchedule(v1::JobSpec* spec, const std::string& section) {
  return section == "training" ? spec->mutable_training()->mutable_schedule()
                               : spec->mutable_final_training()->mutable_schedule();
}

const std::string& Schedule(const v1::JobSpec& spec, const std::string& section) {
  return section == "training" ? spec.training().schedule() : spec.final_training().schedule();
}

bool Flip(const v1::JobSpec& spec, const std::string& section) {
  return section == "training" ? spec.training().augment_flip()
                               : spec.final_training().augment_flip();
}

void SetFlip(v1::JobSpec* spec, const std::string& section, bool value) {
  if (section == "training") {
    spec->mutable_training()->set_augment_flip(value);
  } else {
    spec->mutable_final_training()->set_augment_flip(value);
  }
}

v1::JobSpec DefaultJobSpec() {
  v1::JobSpec spec;
  spec.set_name(kDefaultName);
  spec.mutable_dataset()->set_name(kDefaultDataset);
  spec.mutable_strategy()->set_params_json("{}");
  spec.mutable_objective()->set_kind(v1::OBJECTIVE_MNAS);
  spec.mutable_objective()->set_device_class(kDefaultDeviceClass);
  for (const NumberField& field : NumberFields()) field.set(&spec, field.default_value);
  for (const char* section : kTrainingSections) *MutableSchedule(&spec, section) = kDefaultSchedule;
  spec.set_seed(kDefaultSeed);
  return spec;
}

}  // namespace job_spec_internal
}  // namespace edgenas
