#include "runtime/model_file/preprocessing_proto.h"

#include "absl/strings/str_cat.h"

namespace edgenas {

void PreprocessingToProto(const Preprocessing& p, v1::Preprocessing* out) {
  out->set_color(p.color == ColorFormat::kRgb ? v1::COLOR_FORMAT_RGB : v1::COLOR_FORMAT_GRAYSCALE);
  out->set_layout(v1::INPUT_LAYOUT_NCHW);
  out->set_pixel_max(p.pixel_max);
  for (float m : p.norm.mean) out->add_mean(m);
  for (float s : p.norm.stddev) out->add_stddev(s);
  out->set_resize(p.resize == ResizeMethod::kArea ? v1::RESIZE_METHOD_AREA
                                                  : v1::RESIZE_METHOD_NONE);
  for (const std::string& name : p.class_names) out->add_class_names(name);
}

absl::StatusOr<Preprocessing> PreprocessingFromProto(const v1::Preprocessing& proto) {
  auto bad = [](const char* field, int value) {
    return absl::InvalidArgumentError(absl::StrCat("preprocessing.", field, ": ",
                                                   value == 0 ? "unspecified" : "unknown value ",
                                                   value == 0 ? "" : absl::StrCat(value)));
  };
  Preprocessing p;
  switch (proto.color()) {
    case v1::COLOR_FORMAT_GRAYSCALE:
      p.color = ColorFormat::kGrayscale;
      break;
    case v1::COLOR_FORMAT_RGB:
      p.color = ColorFormat::kRgb;
      break;
    default:
      return bad("color", proto.color());
  }
  if (proto.layout() != v1::INPUT_LAYOUT_NCHW) return bad("layout", proto.layout());
  switch (proto.resize()) {
    case v1::RESIZE_METHOD_NONE:
      p.resize = ResizeMethod::kNone;
      break;
    case v1::RESIZE_METHOD_AREA:
      p.resize = ResizeMethod::kArea;
      break;
    default:
      return bad("resize", proto.resize());
  }
  p.pixel_max = proto.pixel_max();
  p.norm.mean.assign(proto.mean().begin(), proto.mean().end());
  p.norm.stddev.assign(proto.stddev().begin(), proto.stddev().end());
  p.class_names.assign(proto.class_names().begin(), proto.class_names().end());
  return p;
}

}  // namespace edgenas
