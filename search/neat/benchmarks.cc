#include "search/neat/benchmarks.h"

#include <chrono>
#include <cmath>

#include "search/neat/network.h"
#include "search/neat/neat_population.h"

namespace edgenas {
namespace neat {
namespace {

// The cart and its poles (Wieland 1991, as Gomez's code has them).
constexpr double kGravity = -9.8;
constexpr double kCartMass = 1.0;
constexpr double kPoleMass1 = 0.1, kHalfLength1 = 0.5;
constexpr double kPoleMass2 = 0.01, kHalfLength2 = 0.05;
constexpr double kHingeFriction = 0.000002, kForce = 10.0, kTau = 0.01;
constexpr double kTrack = 2.4, kFailAngle = 0.628329;  // 36 degrees
constexpr double kStartAngle = 0.07;
constexpr int64_t kSolvedSteps = 100000;

// Evaluates the population in order until `solved` says a genome solved
// the task, then makes the next generation.
RunResult Run(const NeatConfig& config, int inputs, uint64_t seed, int max_generations,
              const std::function<double(const Genome&, bool*)>& fitness) {
  NeatPopulation pop = MinimalPopulation(config, inputs, 1, seed);
  RunResult r;
  for (int gen = 0; gen < max_generations; ++gen) {
    for (size_t i = 0; i < pop.genomes().size(); ++i) {
      bool solved = false;
      pop.SetFitness(i, fitness(pop.genomes()[i], &solved));
      ++r.evaluations;
      if (solved) {
        r.solved = true;
        r.generations = gen + 1;
        r.hidden_nodes = pop.genomes()[i].HiddenNodes();
        r.enabled_links = pop.genomes()[i].EnabledConnections();
        return r;
      }
    }
    const auto start = std::chrono::steady_clock::now();
    pop.Epoch();
    r.epoch_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++r.epochs;
  }
  r.generations = max_generations;
  return r;
}

}  // namespace

double XorFitness(const Genome& g, const NeatConfig& config, bool* solved) {
  Network net(g, config);
  double error = 0;
  bool right = true;
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) {
      const double want = a ^ b;
      net.Reset();
      double out = 0;
      // A recurrent net gets as many activations as it could need to settle.
      const int passes = config.recurrent ? static_cast<int>(g.nodes.size()) : 1;
      for (int p = 0; p < passes; ++p) out = net.Activate({double(a), double(b)})[0];
      error += std::abs(out - want);
      right = right && (out >= 0.5) == (want == 1);
    }
  }
  *solved = right;
  return (4 - error) * (4 - error);
}

DoublePole::DoublePole() { state_[2] = kStartAngle; }

std::array<double, 6> DoublePole::Inputs() const {
  return {state_[0] / 4.8, state_[1] / 2, state_[2] / 0.52,
          state_[3] / 2,   state_[4] / 0.52, state_[5] / 2};
}

void DoublePole::Derivatives(double force, const std::array<double, 6>& s,
                             std::array<double, 6>* d) const {
  const double cos1 = std::cos(s[2]), sin1 = std::sin(s[2]);
  const double cos2 = std::cos(s[4]), sin2 = std::sin(s[4]);
  const double ml1 = kHalfLength1 * kPoleMass1, ml2 = kHalfLength2 * kPoleMass2;
  const double friction1 = kHingeFriction * s[3] / ml1, friction2 = kHingeFriction * s[5] / ml2;
  // The effective force and mass of each pole on the cart.
  const double f1 = ml1 * s[3] * s[3] * sin1 + 0.75 * kPoleMass1 * cos1 * (friction1 + kGravity * sin1);
  const double f2 = ml2 * s[5] * s[5] * sin2 + 0.75 * kPoleMass2 * cos2 * (friction2 + kGravity * sin2);
  const double m1 = kPoleMass1 * (1 - 0.75 * cos1 * cos1);
  const double m2 = kPoleMass2 * (1 - 0.75 * cos2 * cos2);
  (*d)[0] = s[1];
  (*d)[1] = (force + f1 + f2) / (m1 + m2 + kCartMass);
  (*d)[2] = s[3];
  (*d)[3] = -0.75 * ((*d)[1] * cos1 + kGravity * sin1 + friction1) / kHalfLength1;
  (*d)[4] = s[5];
  (*d)[5] = -0.75 * ((*d)[1] * cos2 + kGravity * sin2 + friction2) / kHalfLength2;
}

void DoublePole::RungeKutta(double force) {
  std::array<double, 6> k1, k2, k3, k4, y;
  Derivatives(force, state_, &k1);
  for (int i = 0; i < 6; ++i) y[i] = state_[i] + 0.5 * kTau * k1[i];
  Derivatives(force, y, &k2);
  for (int i = 0; i < 6; ++i) y[i] = state_[i] + 0.5 * kTau * k2[i];
  Derivatives(force, y, &k3);
  for (int i = 0; i < 6; ++i) y[i] = state_[i] + kTau * k3[i];
  Derivatives(force, y, &k4);
  for (int i = 0; i < 6; ++i) state_[i] += kTau / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

void DoublePole::Step(double output) {
  const double force = (output - 0.5) * 2 * kForce;
  for (int i = 0; i < 2; ++i) RungeKutta(force);
}

bool DoublePole::Failed() const {
  return std::abs(state_[0]) > kTrack || std::abs(state_[2]) > kFailAngle ||
         std::abs(state_[4]) > kFailAngle;
}

int64_t DoublePoleSteps(const Genome& g, const NeatConfig& config, int64_t max_steps) {
  Network net(g, config);
  DoublePole cart;
  std::vector<double> in(6);
  int64_t steps = 0;
  while (steps < max_steps) {
    const std::array<double, 6> s = cart.Inputs();
    in.assign(s.begin(), s.end());
    cart.Step(net.Activate(in)[0]);
    if (cart.Failed()) break;
    ++steps;
  }
  return steps;
}

RunResult RunXor(const NeatConfig& config, uint64_t seed, int max_generations) {
  return Run(config, 2, seed, max_generations, [&](const Genome& g, bool* solved) {
    return XorFitness(g, config, solved);
  });
}

RunResult RunDoublePole(const NeatConfig& config, uint64_t seed, int max_generations) {
  return Run(config, 6, seed, max_generations, [&](const Genome& g, bool* solved) {
    const int64_t steps = DoublePoleSteps(g, config, kSolvedSteps);
    *solved = steps >= kSolvedSteps;
    return static_cast<double>(steps);
  });
}

}  // namespace neat
}  // namespace edgenas
