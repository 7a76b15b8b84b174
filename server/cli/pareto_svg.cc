#include "server/cli/pareto_svg.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edgenas {
namespace {

constexpr double kWidth = 720, kHeight = 480;
constexpr double kLeft = 70, kRight = 20, kTop = 40, kBottom = 60;

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A round step (1, 2 or 5 times a power of ten) giving about `n` ticks.
double NiceStep(double span, int n) {
  const double raw = span / n;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

}  // namespace

std::string ParetoSvg(const std::vector<PlotPoint>& trials, const std::vector<PlotPoint>& front,
                      double target_latency_ms, const std::string& title) {
  double xmax = target_latency_ms > 0 ? target_latency_ms * 1.1 : 1.0, ymin = 1.0, ymax = 0.0;
  for (const auto* set : {&trials, &front})
    for (const PlotPoint& p : *set) {
      xmax = std::max(xmax, p.latency_ms * 1.05);
      ymin = std::min(ymin, p.accuracy);
      ymax = std::max(ymax, p.accuracy);
    }
  if (ymax < ymin) ymin = 0, ymax = 1;
  ymin = std::max(0.0, std::floor((ymin - 0.02) * 50) / 50);
  ymax = std::min(1.0, std::ceil((ymax + 0.01) * 50) / 50);
  if (ymax - ymin < 0.02) ymax = std::min(1.0, ymin + 0.02);
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto X = [&](double ms) { return kLeft + ms / xmax * pw; };
  auto Y = [&](double acc) { return kTop + (ymax - acc) / (ymax - ymin) * ph; };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n",
      kWidth, kHeight);
  absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.0f\" y=\"22\" font-size=\"15\">%s</text>\n", kLeft,
                                        Escape(title)));
  // Grid and ticks.
  const double xs = NiceStep(xmax, 6), ys = NiceStep(ymax - ymin, 6);
  for (double x = 0; x <= xmax + 1e-12; x += xs)
    absl::StrAppend(&svg, absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
        X(x), kTop, X(x), kTop + ph, X(x), kTop + ph + 16, x));
  for (double y = std::ceil(ymin / ys) * ys; y <= ymax + 1e-12; y += ys)
    absl::StrAppend(&svg, absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
        kLeft, Y(y), kLeft + pw, Y(y), kLeft - 6, Y(y) + 4, std::round(y * 1000) / 10));
  absl::StrAppend(&svg, absl::StrFormat(
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n",
      kLeft, kTop, pw, ph));
  absl::StrAppend(&svg, absl::StrFormat(
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">latency (ms)</text>\n", kLeft + pw / 2,
      kHeight - 18));
  absl::StrAppend(&svg, absl::StrFormat(
      "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">validation "
      "accuracy (%%)</text>\n", kTop + ph / 2));
  if (target_latency_ms > 0)
    absl::StrAppend(&svg, absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c33\" stroke-dasharray=\"5,4\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c33\">target %g ms</text>\n",
        X(target_latency_ms), kTop, X(target_latency_ms), kTop + ph, X(target_latency_ms) + 4,
        kTop + 14, target_latency_ms));
  for (const PlotPoint& p : trials)
    absl::StrAppend(&svg, absl::StrFormat(
        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#8aa\" fill-opacity=\"0.7\"/>\n", X(p.latency_ms),
        Y(std::max(p.accuracy, ymin))));
  // The front as a staircase: accuracy holds until the next, slower, point.
  std::vector<PlotPoint> f = front;
  std::sort(f.begin(), f.end(), [](const PlotPoint& a, const PlotPoint& b) { return a.latency_ms < b.latency_ms; });
  if (!f.empty()) {
    std::string path = absl::StrFormat("M %.1f %.1f", X(f[0].latency_ms), Y(f[0].accuracy));
    for (size_t i = 1; i < f.size(); ++i)
      absl::StrAppend(&path, absl::StrFormat(" H %.1f V %.1f", X(f[i].latency_ms), Y(f[i].accuracy)));
    absl::StrAppend(&path, absl::StrFormat(" H %.1f", kLeft + pw));
    absl::StrAppend(&svg, "<path d=\"", path, "\" fill=\"none\" stroke=\"#1a6\" stroke-width=\"2\"/>\n");
    for (const PlotPoint& p : f)
      absl::StrAppend(&svg, absl::StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#1a6\"/>\n",
                                            X(p.latency_ms), Y(p.accuracy)));
  }
  absl::StrAppend(&svg, absl::StrFormat(
      "<text x=\"%.1f\" y=\"%.1f\" fill=\"#1a6\">Pareto front (%d)</text>"
      "<text x=\"%.1f\" y=\"%.1f\" fill=\"#688\">trials (%d)</text>\n",
      kLeft + pw - 150, kTop + ph - 24, static_cast<int>(f.size()), kLeft + pw - 150, kTop + ph - 8,
      static_cast<int>(trials.size())));
  svg += "</svg>\n";
  return svg;
}

}  // namespace edgenas
