// NEAT's two operations on a pair of gene lists sorted by innovation number,
// for any gene with `innovation` and `enabled` (NEAT's connection genes,
// DeepNEAT's DAG links): counting matching, disjoint and excess genes for
// the compatibility distance, and inheriting a child's genes in crossover.
#ifndef EDGENAS_SEARCH_NEAT_GENE_ALIGNMENT_H_
#define EDGENAS_SEARCH_NEAT_GENE_ALIGNMENT_H_

#include <algorithm>
#include <random>
#include <vector>

#include "search/neat/evolution_params.h"

namespace edgenas {
namespace neat {

struct GeneCounts {
  int matching = 0, disjoint = 0, excess = 0;
  size_t larger = 0;  // the longer list's length, N
};

// Walks both lists by innovation; `on_match(a, b)` sees each matching pair.
template <typename Gene, typename OnMatch>
GeneCounts AlignGenes(const std::vector<Gene>& x, const std::vector<Gene>& y, OnMatch on_match) {
  GeneCounts c;
  size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    if (x[i].innovation == y[j].innovation) {
      ++c.matching;
      on_match(x[i], y[j]);
      ++i, ++j;
    } else if (x[i].innovation < y[j].innovation) {
      ++c.disjoint, ++i;
    } else {
      ++c.disjoint, ++j;
    }
  }
  c.excess = static_cast<int>((x.size() - i) + (y.size() - j));
  c.larger = std::max(x.size(), y.size());
  return c;
}

// delta = c1 E / N + c2 D / N + c3 W, N = 1 below normalize_threshold genes,
// W the mean difference of whatever matches (`mean_difference`).
inline double Compatibility(const GeneCounts& c, double mean_difference, const EvolutionParams& e) {
  const double n = static_cast<int>(c.larger) < e.normalize_threshold ? 1.0 : double(c.larger);
  return e.excess_coefficient * c.excess / n + e.disjoint_coefficient * c.disjoint / n +
         e.matching_coefficient * mean_difference;
}

// The genes of a child of `fitter` and `other`: matching genes from either
// at random, disjoint and excess genes from the fitter, or with
// `equal_fitness` from either parent with probability 1/2 (the paper's
// figure 4); a gene disabled in either parent stays disabled with
// `disabled_inherit_rate`. `may_close_cycle[k]` says child gene k was not an
// enabled gene of the fitter parent (so it may close a cycle the fitter's
// structure did not have).
template <typename Gene>
std::vector<Gene> InheritGenes(const std::vector<Gene>& fitter, const std::vector<Gene>& other,
                               bool equal_fitness, double disabled_inherit_rate, std::mt19937_64& rng,
                               std::vector<bool>* may_close_cycle) {
  const auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  std::vector<Gene> child;
  may_close_cycle->clear();
  const std::vector<Gene>&x = fitter, &y = other;
  size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    const bool from_x = j >= y.size() || (i < x.size() && x[i].innovation < y[j].innovation);
    const bool from_y = i >= x.size() || (j < y.size() && y[j].innovation < x[i].innovation);
    if (!from_x && !from_y) {
      Gene g = chance(0.5) ? y[j] : x[i];
      if (!x[i].enabled || !y[j].enabled) g.enabled = !chance(disabled_inherit_rate);
      child.push_back(g);
      may_close_cycle->push_back(!x[i].enabled);
      ++i, ++j;
    } else if (from_x) {
      if (!equal_fitness || chance(0.5)) {
        child.push_back(x[i]);
        may_close_cycle->push_back(false);
      }
      ++i;
    } else {
      if (equal_fitness && chance(0.5)) {
        child.push_back(y[j]);
        may_close_cycle->push_back(true);
      }
      ++j;
    }
  }
  return child;
}

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_GENE_ALIGNMENT_H_
