// A population evolving under NEAT's scheme, for any kind of genome:
// speciation by compatibility distance, explicit fitness sharing, offspring
// allotted to species by their adjusted fitness, stagnation, elitism, and
// reproduction by crossover and mutation. The caller sets each genome's
// fitness (higher is better, >= 0), then calls Epoch() for the next
// generation. The whole state (genomes, species, the genome kind's own
// state such as its innovation record, the generator) saves to JSON, and a
// population restored from it makes the same next generation.
//
// What differs between genome kinds is in `Ops`, a copyable class with:
//   using Genome = ...;  // a double `fitness`, ==, ToJson(), static FromJson()
//   const EvolutionParams& evolution() const;
//   double Distance(const Genome&, const Genome&) const;
//   size_t Size(const Genome&) const;  // genes, for ties between parents
//   Genome Crossover(const Genome& fitter, const Genome& other, bool equal_fitness,
//                    std::mt19937_64&);
//   // One mutation; with must_change, a genome left as it was is changed anyway.
//   void Mutate(Genome*, bool must_change, std::mt19937_64&);
//   void NextGeneration();  // forgets this generation's innovations
//   nlohmann::json ToJson() const; static absl::StatusOr<Ops> FromJson(const nlohmann::json&);
#ifndef EDGENAS_SEARCH_NEAT_POPULATION_H_
#define EDGENAS_SEARCH_NEAT_POPULATION_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "search/neat/evolution_params.h"

namespace edgenas {
namespace neat {

template <typename Genome>
struct Species {
  int id = 0;
  Genome representative;         // a member of the generation before
  std::vector<int> members;      // indices into the population's genomes
  double best_fitness = -1;      // the best any member ever had
  int improved_generation = 0;   // when best_fitness last rose
  int offspring = 0;             // allotted at the last Epoch
};

template <typename Ops>
class Population {
 public:
  using Genome = typename Ops::Genome;

  // A first generation of `genomes`, exactly population_size of them.
  static absl::StatusOr<Population> Create(Ops ops, std::vector<Genome> genomes, uint64_t seed);

  const Ops& ops() const { return ops_; }
  // For a caller whose genome kind depends on the world between
  // generations (CoDeepNEAT's blueprints point to module species that come
  // and go): the ops and a genome may be changed before evaluation.
  Ops& mutable_ops() { return ops_; }
  Genome& mutable_genome(size_t i) { return genomes_[i]; }
  const EvolutionParams& params() const { return ops_.evolution(); }
  int generation() const { return generation_; }
  const std::vector<Genome>& genomes() const { return genomes_; }
  // Where the caller writes each genome's fitness before Epoch().
  void SetFitness(size_t i, double fitness) { genomes_[i].fitness = fitness; }
  // The species of the last Epoch (or Speciate).
  const std::vector<Species<Genome>>& species() const { return species_; }
  double compatibility_threshold() const { return threshold_; }
  // The best genome seen in any generation.
  const Genome& best() const { return best_; }

  // Speciates the evaluated generation and replaces it with the next.
  void Epoch();

  // The steps of Epoch, public so tests can hold each to its arithmetic.
  // Assigns every genome to the first species whose representative is
  // within the threshold, or founds a species; empty species go.
  void Speciate();
  // Offspring per species: proportional to the sum of its members' shared
  // fitness (fitness / species size); none for a species stagnant for
  // stagnation_generations unless it holds the best; when the population's
  // best has not risen for population_stagnation_generations, only the two
  // best species. The total is exactly the population size.
  void AllotOffspring();
  std::vector<Genome> Reproduce();

  nlohmann::json ToJson() const;
  static absl::StatusOr<Population> FromJson(const nlohmann::json& j);

 private:
  Population() = default;
  static absl::StatusOr<Population> FromJsonUnchecked(const nlohmann::json& j);
  Genome Offspring(const Species<Genome>& s, const std::vector<int>& parents);
  void SteerThreshold();
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  // The better of two parents: the fitter, then the smaller, then the first.
  bool Fitter(const Genome& a, const Genome& b) const {
    if (a.fitness != b.fitness) return a.fitness > b.fitness;
    return ops_.Size(a) <= ops_.Size(b);
  }

  Ops ops_;
  int generation_ = 0;
  double threshold_ = 3.0;
  std::vector<Genome> genomes_;
  std::vector<Species<Genome>> species_;
  int next_species_id_ = 1;
  std::mt19937_64 rng_;
  Genome best_;
  double best_fitness_ = -1;
  int best_generation_ = 0;  // when the population's best last rose
};

// ---- implementation -------------------------------------------------------

template <typename Ops>
absl::StatusOr<Population<Ops>> Population<Ops>::Create(Ops ops, std::vector<Genome> genomes,
                                                        uint64_t seed) {
  if (static_cast<int>(genomes.size()) != ops.evolution().population_size || genomes.empty())
    return absl::InvalidArgumentError(absl::StrCat("population: ", genomes.size(),
                                                   " genomes for a population_size of ",
                                                   ops.evolution().population_size));
  Population p;
  p.ops_ = std::move(ops);
  p.threshold_ = p.params().compatibility_threshold;
  p.rng_.seed(seed);
  p.genomes_ = std::move(genomes);
  p.best_ = p.genomes_.front();
  return p;
}

template <typename Ops>
void Population<Ops>::Speciate() {
  for (Species<Genome>& s : species_) s.members.clear();
  for (size_t i = 0; i < genomes_.size(); ++i) {
    bool placed = false;
    for (Species<Genome>& s : species_) {
      if (ops_.Distance(genomes_[i], s.representative) < threshold_) {
        s.members.push_back(static_cast<int>(i));
        placed = true;
        break;
      }
    }
    if (!placed) {
      Species<Genome> s;
      s.id = next_species_id_++;
      s.representative = genomes_[i];
      s.members = {static_cast<int>(i)};
      s.improved_generation = generation_;
      species_.push_back(std::move(s));
    }
  }
  species_.erase(std::remove_if(species_.begin(), species_.end(),
                                [](const Species<Genome>& s) { return s.members.empty(); }),
                 species_.end());
}

template <typename Ops>
void Population<Ops>::AllotOffspring() {
  const EvolutionParams& e = params();
  for (const Genome& g : genomes_) {
    if (g.fitness > best_fitness_) {
      best_fitness_ = g.fitness;
      best_ = g;
      best_generation_ = generation_;
    }
  }
  for (Species<Genome>& s : species_) {
    double top = -1;
    for (int m : s.members) top = std::max(top, genomes_[m].fitness);
    if (top > s.best_fitness) {
      s.best_fitness = top;
      s.improved_generation = generation_;
    }
  }
  // Which species may reproduce.
  std::vector<bool> eligible(species_.size(), false);
  size_t best_species = 0;
  for (size_t k = 0; k < species_.size(); ++k)
    if (species_[k].best_fitness > species_[best_species].best_fitness) best_species = k;
  if (generation_ - best_generation_ >= e.population_stagnation_generations) {
    std::vector<size_t> order(species_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return species_[a].best_fitness > species_[b].best_fitness;
    });
    for (size_t k = 0; k < std::min<size_t>(2, order.size()); ++k) eligible[order[k]] = true;
    best_generation_ = generation_;  // a fresh start for the two
  } else {
    for (size_t k = 0; k < species_.size(); ++k)
      eligible[k] = k == best_species ||
                    generation_ - species_[k].improved_generation < e.stagnation_generations;
  }
  // Explicit fitness sharing: a member's fitness divided by its species'
  // size; a species' claim is the sum of its members' shares.
  std::vector<double> claim(species_.size(), 0);
  double total = 0;
  for (size_t k = 0; k < species_.size(); ++k) {
    if (!eligible[k]) continue;
    for (int m : species_[k].members)
      claim[k] += std::max(0.0, genomes_[m].fitness) / species_[k].members.size();
    total += claim[k];
  }
  if (total <= 0) {  // nothing to tell them apart: equal claims
    for (size_t k = 0; k < species_.size(); ++k) claim[k] = eligible[k] ? 1 : 0;
    total = std::accumulate(claim.begin(), claim.end(), 0.0);
  }
  // Largest remainders, so the total is exactly the population size.
  const int n = e.population_size;
  int given = 0;
  std::vector<std::pair<double, size_t>> remainders;
  for (size_t k = 0; k < species_.size(); ++k) {
    const double exact = n * claim[k] / total;
    species_[k].offspring = static_cast<int>(std::floor(exact));
    given += species_[k].offspring;
    remainders.push_back({exact - species_[k].offspring, k});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t r = 0; given < n; r = (r + 1) % remainders.size()) {
    ++species_[remainders[r].second].offspring;
    ++given;
  }
}

template <typename Ops>
typename Ops::Genome Population<Ops>::Offspring(const Species<Genome>& s,
                                                const std::vector<int>& parents) {
  const EvolutionParams& e = params();
  Genome child;
  if (parents.size() == 1 || Chance(e.mutate_only_rate)) {
    child = genomes_[parents[Pick(parents.size())]];
    ops_.Mutate(&child, /*must_change=*/true, rng_);
  } else {
    const Genome& a = genomes_[parents[Pick(parents.size())]];
    const Genome* b = nullptr;
    if (species_.size() > 1 && Chance(e.interspecies_mating_rate)) {
      const Species<Genome>* other = &species_[Pick(species_.size())];
      if (other->id == s.id) other = &species_[(other - species_.data() + 1) % species_.size()];
      b = &genomes_[other->members[Pick(other->members.size())]];
    } else {
      b = &genomes_[parents[Pick(parents.size())]];
    }
    const bool equal = a.fitness == b->fitness;
    child = Fitter(a, *b) ? ops_.Crossover(a, *b, equal, rng_) : ops_.Crossover(*b, a, equal, rng_);
    // A child of a genome and itself (or of two identical genomes) is a
    // copy: it is always mutated, lest a generation spend evaluations on
    // clones (NEAT C++ does the same).
    const bool clone = &a == b || ops_.Distance(a, *b) == 0;
    if (clone || !Chance(e.mate_only_rate)) ops_.Mutate(&child, clone, rng_);
  }
  child.fitness = 0;
  return child;
}

template <typename Ops>
std::vector<typename Ops::Genome> Population<Ops>::Reproduce() {
  const EvolutionParams& e = params();
  std::vector<Genome> next;
  next.reserve(e.population_size);
  for (const Species<Genome>& s : species_) {
    int left = s.offspring;
    if (left == 0) continue;
    std::vector<int> ranked = s.members;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](int a, int b) { return genomes_[a].fitness > genomes_[b].fitness; });
    if (static_cast<int>(ranked.size()) > e.elitism_min_species_size) {
      next.push_back(genomes_[ranked.front()]);  // the champion, unchanged
      next.back().fitness = 0;
      --left;
    }
    const size_t survivors = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(e.survival_threshold * ranked.size())));
    const std::vector<int> parents(ranked.begin(),
                                   ranked.begin() + std::min(survivors, ranked.size()));
    for (; left > 0; --left) next.push_back(Offspring(s, parents));
  }
  return next;
}

template <typename Ops>
void Population<Ops>::SteerThreshold() {
  const EvolutionParams& e = params();
  if (e.target_species <= 0) return;
  const int n = static_cast<int>(species_.size());
  if (n < e.target_species) threshold_ -= e.threshold_step;
  if (n > e.target_species) threshold_ += e.threshold_step;
  threshold_ = std::max(threshold_, e.threshold_floor);
}

template <typename Ops>
void Population<Ops>::Epoch() {
  Speciate();
  AllotOffspring();
  SteerThreshold();
  std::vector<Genome> next = Reproduce();
  // The next generation is compared with a random member of this one.
  for (Species<Genome>& s : species_) s.representative = genomes_[s.members[Pick(s.members.size())]];
  genomes_ = std::move(next);
  ops_.NextGeneration();
  ++generation_;
}

template <typename Ops>
nlohmann::json Population<Ops>::ToJson() const {
  nlohmann::json genomes = nlohmann::json::array(), species = nlohmann::json::array();
  for (const Genome& g : genomes_) genomes.push_back(g.ToJson());
  for (const Species<Genome>& s : species_)
    species.push_back({{"id", s.id},
                       {"representative", s.representative.ToJson()},
                       {"members", s.members},
                       {"best_fitness", s.best_fitness},
                       {"improved_generation", s.improved_generation},
                       {"offspring", s.offspring}});
  std::ostringstream rng;
  rng << rng_;
  return {{"ops", ops_.ToJson()},
          {"generation", generation_},
          {"threshold", threshold_},
          {"genomes", genomes},
          {"species", species},
          {"next_species_id", next_species_id_},
          {"rng", rng.str()},
          {"best", best_.ToJson()},
          {"best_fitness", best_fitness_},
          {"best_generation", best_generation_}};
}

template <typename Ops>
absl::StatusOr<Population<Ops>> Population<Ops>::FromJson(const nlohmann::json& j) {
  // nlohmann throws on a value of the wrong type: a broken checkpoint is an
  // error here, at the edge, not an exception further up.
  try {
    return FromJsonUnchecked(j);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("population: not a saved population (", e.what(), ")"));
  }
}

template <typename Ops>
absl::StatusOr<Population<Ops>> Population<Ops>::FromJsonUnchecked(const nlohmann::json& j) {
  const auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("population: ", what));
  };
  for (const char* key : {"ops", "generation", "threshold", "genomes", "species", "next_species_id",
                          "rng", "best", "best_fitness", "best_generation"})
    if (!j.is_object() || !j.contains(key)) return bad(absl::StrCat(key, ": missing"));
  Population p;
  absl::StatusOr<Ops> ops = Ops::FromJson(j["ops"]);
  if (!ops.ok()) return ops.status();
  p.ops_ = *std::move(ops);
  p.generation_ = j["generation"].get<int>();
  p.threshold_ = j["threshold"].get<double>();
  for (const nlohmann::json& g : j["genomes"]) {
    absl::StatusOr<Genome> genome = Genome::FromJson(g);
    if (!genome.ok()) return genome.status();
    p.genomes_.push_back(*std::move(genome));
  }
  if (static_cast<int>(p.genomes_.size()) != p.params().population_size)
    return bad("genomes: not population_size of them");
  for (const nlohmann::json& sj : j["species"]) {
    Species<Genome> s;
    absl::StatusOr<Genome> rep = Genome::FromJson(sj.at("representative"));
    if (!rep.ok()) return rep.status();
    s.id = sj.at("id").get<int>();
    s.representative = *std::move(rep);
    s.members = sj.at("members").get<std::vector<int>>();
    for (int m : s.members)
      if (m < 0 || m >= static_cast<int>(p.genomes_.size())) return bad("species: a member out of range");
    s.best_fitness = sj.at("best_fitness").get<double>();
    s.improved_generation = sj.at("improved_generation").get<int>();
    s.offspring = sj.at("offspring").get<int>();
    p.species_.push_back(std::move(s));
  }
  p.next_species_id_ = j["next_species_id"].get<int>();
  std::istringstream rng(j["rng"].get<std::string>());
  rng >> p.rng_;
  if (rng.fail()) return bad("rng: not a saved generator state");
  absl::StatusOr<Genome> best = Genome::FromJson(j["best"]);
  if (!best.ok()) return best.status();
  p.best_ = *std::move(best);
  p.best_fitness_ = j["best_fitness"].get<double>();
  p.best_generation_ = j["best_generation"].get<int>();
  return p;
}

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_POPULATION_H_
