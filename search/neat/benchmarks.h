// NEAT's benchmarks from the paper: XOR, and double pole balancing with
// velocities (Wieland's cart with two poles, Gomez's Runge-Kutta
// integration), each run until a genome solves it.
#ifndef EDGENAS_SEARCH_NEAT_BENCHMARKS_H_
#define EDGENAS_SEARCH_NEAT_BENCHMARKS_H_

#include <array>
#include <cstdint>
#include <functional>

#include "search/neat/genome.h"
#include "search/neat/neat_config.h"

namespace edgenas {
namespace neat {

// (4 - sum of |error| over the four patterns)^2; *solved when every output
// is on the right side of 0.5.
double XorFitness(const Genome& g, const NeatConfig& config, bool* solved);

// The cart with two poles: 1 kg cart on a 4.8 m track, poles of half-length
// 0.5 m (0.1 kg) and 0.05 m (0.01 kg) on frictional hinges, the force
// +-10 N from the network's output in [0, 1]. A step is one decision of the
// network and two Runge-Kutta steps of 0.01 s; the long pole starts at
// 0.07 rad. It fails when the cart leaves the track or a pole leans past 36
// degrees.
class DoublePole {
 public:
  DoublePole();
  // The network's inputs with velocities: x/4.8, x'/2, th1/0.52, th1'/2,
  // th2/0.52, th2'/2 (the bias is the network's own).
  std::array<double, 6> Inputs() const;
  void Step(double output);
  bool Failed() const;

 private:
  void Derivatives(double force, const std::array<double, 6>& s, std::array<double, 6>* d) const;
  void RungeKutta(double force);
  std::array<double, 6> state_{};  // x, x', th1, th1', th2, th2'
};

// Steps the network of `g` balanced, up to `max_steps`.
int64_t DoublePoleSteps(const Genome& g, const NeatConfig& config, int64_t max_steps);

struct RunResult {
  bool solved = false;
  int64_t evaluations = 0;  // genomes evaluated up to and including the solver
  int generations = 0;
  int hidden_nodes = 0, enabled_links = 0;  // the solver's
  // Time in Population::Epoch (speciation and reproduction), over `epochs` calls.
  double epoch_seconds = 0;
  int epochs = 0;
};

// One run of NEAT on the task from `seed`, for at most `max_generations`.
RunResult RunXor(const NeatConfig& config, uint64_t seed, int max_generations);
// Solved at 100,000 steps balanced.
RunResult RunDoublePole(const NeatConfig& config, uint64_t seed, int max_generations);

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_BENCHMARKS_H_
