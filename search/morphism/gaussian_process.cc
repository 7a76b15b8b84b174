#include "search/morphism/gaussian_process.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace morphism {
namespace {

// The grids the fit chooses from. Length scales span the embedded distances
// of architectures a few morphs apart (one morph moves an architecture by
// about one unit of edit distance); noise variances, of standardised
// rewards, span a nearly exact fit to one that is mostly noise.
constexpr double kLengthScales[] = {0.25, 0.5, 1, 2, 4, 8};
constexpr double kNoises[] = {1e-6, 1e-3, 1e-2, 1e-1, 0.5};

double SquaredDistance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

// Solves L z = b for lower-triangular L.
std::vector<double> ForwardSubstitute(const std::vector<std::vector<double>>& l,
                                      const std::vector<double>& b) {
  std::vector<double> z(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= l[i][k] * z[k];
    z[i] = s / l[i][i];
  }
  return z;
}

// Solves L^T x = z for lower-triangular L.
std::vector<double> BackSubstitute(const std::vector<std::vector<double>>& l,
                                   const std::vector<double>& z) {
  std::vector<double> x(z.size());
  for (size_t i = z.size(); i-- > 0;) {
    double s = z[i];
    for (size_t k = i + 1; k < z.size(); ++k) s -= l[k][i] * x[k];
    x[i] = s / l[i][i];
  }
  return x;
}

}  // namespace

BourgainEmbedding BourgainEmbedding::Draw(int points, std::mt19937_64& rng) {
  BourgainEmbedding e;
  std::uniform_int_distribution<int> pick(0, std::max(0, points - 1));
  const int k = points > 1 ? static_cast<int>(std::ceil(std::log2(points) - 1)) : 0;
  const int t = points > 1 ? static_cast<int>(std::ceil(std::log(points))) : 1;
  for (int i = 0; i <= k; ++i) {
    for (int r = 0; r < t; ++r) {
      std::vector<int> subset(size_t{1} << i);
      for (int& member : subset) member = pick(rng);
      e.subsets_.push_back(std::move(subset));
    }
  }
  return e;
}

std::vector<double> BourgainEmbedding::Embed(const std::vector<double>& distances) const {
  std::vector<double> out;
  out.reserve(subsets_.size());
  const double scale = 1 / std::sqrt(static_cast<double>(subsets_.size()));
  for (const std::vector<int>& subset : subsets_) {
    double nearest = std::numeric_limits<double>::infinity();
    for (int member : subset) nearest = std::min(nearest, distances[member]);
    out.push_back(nearest * scale);
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<double>>> Cholesky(
    const std::vector<std::vector<double>>& a) {
  const size_t n = a.size();
  std::vector<std::vector<double>> l(n, std::vector<double>(n, 0));
  for (size_t j = 0; j < n; ++j) {
    double d = a[j][j];
    for (size_t k = 0; k < j; ++k) d -= l[j][k] * l[j][k];
    if (!(d > 0))
      return absl::FailedPreconditionError(
          absl::StrCat("cholesky: not positive definite at row ", j, " (pivot ", d, ")"));
    l[j][j] = std::sqrt(d);
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i][j];
      for (size_t k = 0; k < j; ++k) s -= l[i][k] * l[j][k];
      l[i][j] = s / l[j][j];
    }
  }
  return l;
}

absl::StatusOr<ArchitectureGp> ArchitectureGp::Fit(std::vector<ArchitectureDescriptor> xs,
                                                   std::vector<double> ys, uint64_t seed) {
  const size_t n = xs.size();
  if (n == 0 || ys.size() != n)
    return absl::InvalidArgumentError(
        absl::StrCat("gp: ", n, " architectures and ", ys.size(), " rewards"));
  for (double y : ys)
    if (!std::isfinite(y)) return absl::InvalidArgumentError("gp: a reward is not finite");
  ArchitectureGp gp;
  gp.xs_ = std::move(xs);
  std::mt19937_64 rng(seed);
  gp.embedding_ = BourgainEmbedding::Draw(static_cast<int>(n), rng);
  for (const ArchitectureDescriptor& x : gp.xs_) gp.embedded_.push_back(gp.EmbedPoint(x));

  double mean = 0;
  for (double y : ys) mean += y;
  mean /= n;
  double var = 0;
  for (double y : ys) var += (y - mean) * (y - mean);
  var /= n;
  gp.y_mean_ = mean;
  gp.y_scale_ = var > 1e-24 ? std::sqrt(var) : 1;
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) y[i] = (ys[i] - mean) / gp.y_scale_;

  std::vector<std::vector<double>> d2(n, std::vector<double>(n, 0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < i; ++j) d2[i][j] = d2[j][i] = SquaredDistance(gp.embedded_[i], gp.embedded_[j]);

  double best = -std::numeric_limits<double>::infinity();
  for (double l : kLengthScales) {
    std::vector<std::vector<double>> k(n, std::vector<double>(n));
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) k[i][j] = std::exp(-d2[i][j] / (l * l));
    for (double noise : kNoises) {
      std::vector<std::vector<double>> kn = k;
      for (size_t i = 0; i < n; ++i) kn[i][i] += noise;
      absl::StatusOr<std::vector<std::vector<double>>> chol = Cholesky(kn);
      if (!chol.ok()) continue;
      std::vector<double> alpha = BackSubstitute(*chol, ForwardSubstitute(*chol, y));
      double fit = 0, log_det = 0;
      for (size_t i = 0; i < n; ++i) fit += y[i] * alpha[i], log_det += std::log((*chol)[i][i]);
      const double log_likelihood = -0.5 * fit - log_det;  // the constant -n/2 log 2 pi left out
      if (log_likelihood > best) {
        best = log_likelihood;
        gp.length_scale_ = l;
        gp.noise_ = noise;
        gp.kernel_ = k;
        gp.cholesky_ = *std::move(chol);
        gp.alpha_ = std::move(alpha);
      }
    }
  }
  if (gp.cholesky_.empty())
    return absl::InternalError("gp: no length scale and noise gave a positive definite kernel");
  return gp;
}

std::vector<double> ArchitectureGp::EmbedPoint(const ArchitectureDescriptor& x) const {
  std::vector<double> distances(xs_.size());
  for (size_t i = 0; i < xs_.size(); ++i) distances[i] = EditDistance(x, xs_[i]);
  return embedding_.Embed(distances);
}

GpPrediction ArchitectureGp::Predict(const ArchitectureDescriptor& x) const {
  const std::vector<double> e = EmbedPoint(x);
  const size_t n = xs_.size();
  std::vector<double> k_star(n);
  for (size_t i = 0; i < n; ++i)
    k_star[i] = std::exp(-SquaredDistance(e, embedded_[i]) / (length_scale_ * length_scale_));
  double mean = 0;
  for (size_t i = 0; i < n; ++i) mean += k_star[i] * alpha_[i];
  const std::vector<double> v = ForwardSubstitute(cholesky_, k_star);
  double var = 1;  // k(x, x)
  for (double vi : v) var -= vi * vi;
  var = std::max(var, 0.0);
  return {y_mean_ + y_scale_ * mean, y_scale_ * std::sqrt(var)};
}

}  // namespace morphism
}  // namespace edgenas
