// Auto-Keras's Gaussian process over architectures (Jin, Song and Hu, KDD
// 2019, section 3.1): the edit distance is not a Euclidean one, so a kernel
// of it alone need not be positive semi-definite. Bourgain's embedding maps
// the trained architectures into Euclidean space with bounded distortion,
// and the kernel exp(-(|phi(a) - phi(b)| / l)^2) of the embedded points is
// positive semi-definite for any point set.
#ifndef EDGENAS_SEARCH_MORPHISM_GAUSSIAN_PROCESS_H_
#define EDGENAS_SEARCH_MORPHISM_GAUSSIAN_PROCESS_H_

#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "search/morphism/architecture_distance.h"

namespace edgenas {
namespace morphism {

// Bourgain's embedding of a finite metric space: coordinate s of a point is
// its distance to the nearest member of reference subset s, divided by the
// square root of the number of subsets, so embedded distances never exceed
// the metric's. Subset sizes as Auto-Keras draws them: for i = 0..k, t
// subsets of 2^i points drawn with replacement, k = ceil(log2(n) - 1),
// t = ceil(ln(n)); at least one subset.
class BourgainEmbedding {
 public:
  static BourgainEmbedding Draw(int points, std::mt19937_64& rng);

  // The coordinates of a point from its distance to each of the points.
  std::vector<double> Embed(const std::vector<double>& distances) const;
  size_t dimensions() const { return subsets_.size(); }

 private:
  std::vector<std::vector<int>> subsets_;
};

struct GpPrediction {
  double mean = 0;
  double stddev = 0;
};

// GP regression of a reward over architectures. The targets are
// standardised; the length scale l and the noise variance are the pair of a
// small grid with the highest log marginal likelihood (Auto-Keras fixes
// them; a fitted pair keeps the model sensible whatever the reward's scale).
class ArchitectureGp {
 public:
  // `xs` and `ys` of the same size >= 1; `seed` draws the embedding.
  static absl::StatusOr<ArchitectureGp> Fit(std::vector<ArchitectureDescriptor> xs,
                                            std::vector<double> ys, uint64_t seed);

  GpPrediction Predict(const ArchitectureDescriptor& x) const;
  // The upper confidence bound mean + beta * stddev (Auto-Keras: beta 2.576).
  double UpperConfidenceBound(const ArchitectureDescriptor& x, double beta) const {
    const GpPrediction p = Predict(x);
    return p.mean + beta * p.stddev;
  }

  double length_scale() const { return length_scale_; }
  double noise() const { return noise_; }
  // The training points' kernel matrix, without the noise term.
  const std::vector<std::vector<double>>& kernel() const { return kernel_; }

 private:
  ArchitectureGp() = default;
  std::vector<double> EmbedPoint(const ArchitectureDescriptor& x) const;

  std::vector<ArchitectureDescriptor> xs_;
  BourgainEmbedding embedding_;
  std::vector<std::vector<double>> embedded_;  // phi of each training point
  std::vector<std::vector<double>> kernel_;
  std::vector<std::vector<double>> cholesky_;  // of kernel_ + noise_ * I, lower
  std::vector<double> alpha_;                  // (K + noise I)^-1 y, standardised y
  double y_mean_ = 0, y_scale_ = 1;
  double length_scale_ = 1, noise_ = 1e-6;
};

// The lower Cholesky factor of a symmetric matrix; FailedPrecondition when
// it is not positive definite. Exposed for its tests.
absl::StatusOr<std::vector<std::vector<double>>> Cholesky(const std::vector<std::vector<double>>& a);

}  // namespace morphism
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_MORPHISM_GAUSSIAN_PROCESS_H_
