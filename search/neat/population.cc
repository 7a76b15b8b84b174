#include "search/neat/population.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace edgenas {
namespace neat {
namespace {

bool Chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

size_t Pick(std::mt19937_64& rng, size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}

// The better of two parents: the fitter, then the smaller, then the first.
bool Fitter(const Genome& a, const Genome& b) {
  if (a.fitness != b.fitness) return a.fitness > b.fitness;
  return a.connections.size() <= b.connections.size();
}

}  // namespace

Population::Population(NeatConfig config, int inputs, int outputs, uint64_t seed)
    : config_(std::move(config)),
      inputs_(inputs),
      outputs_(outputs),
      threshold_(config_.compatibility_threshold),
      innovations_(MinimalInnovations(inputs, outputs)),
      rng_(seed) {
  for (int i = 0; i < config_.population_size; ++i)
    genomes_.push_back(MinimalGenome(inputs, outputs, config_, rng_));
  best_ = genomes_.front();
}

absl::StatusOr<Population> Population::FromGenomes(NeatConfig config, int inputs, int outputs,
                                                   std::vector<Genome> genomes, uint64_t seed) {
  if (static_cast<int>(genomes.size()) != config.population_size)
    return absl::InvalidArgumentError(absl::StrCat("population: ", genomes.size(),
                                                   " genomes for a population_size of ",
                                                   config.population_size));
  int next_node = FirstOutputNode(inputs) + outputs;
  int64_t next_innovation = 0;
  for (const Genome& g : genomes) {
    for (const NodeGene& n : g.nodes) next_node = std::max(next_node, n.id + 1);
    for (const ConnectionGene& c : g.connections)
      next_innovation = std::max(next_innovation, c.innovation + 1);
  }
  Population p;
  p.config_ = std::move(config);
  p.inputs_ = inputs;
  p.outputs_ = outputs;
  p.threshold_ = p.config_.compatibility_threshold;
  p.innovations_ = InnovationRecord(next_node, next_innovation);
  p.rng_.seed(seed);
  p.genomes_ = std::move(genomes);
  p.best_ = p.genomes_.front();
  return p;
}

void Population::Speciate() {
  for (Species& s : species_) s.members.clear();
  for (size_t i = 0; i < genomes_.size(); ++i) {
    bool placed = false;
    for (Species& s : species_) {
      if (CompatibilityDistance(genomes_[i], s.representative, config_) < threshold_) {
        s.members.push_back(static_cast<int>(i));
        placed = true;
        break;
      }
    }
    if (!placed) {
      Species s;
      s.id = next_species_id_++;
      s.representative = genomes_[i];
      s.members = {static_cast<int>(i)};
      s.best_fitness = -1;
      s.improved_generation = generation_;
      species_.push_back(std::move(s));
    }
  }
  species_.erase(std::remove_if(species_.begin(), species_.end(),
                                [](const Species& s) { return s.members.empty(); }),
                 species_.end());
}

void Population::AllotOffspring() {
  double lowest = 0;
  for (const Genome& g : genomes_) lowest = std::min(lowest, g.fitness);
  for (size_t i = 0; i < genomes_.size(); ++i) {
    if (genomes_[i].fitness > best_fitness_) {
      best_fitness_ = genomes_[i].fitness;
      best_ = genomes_[i];
      best_generation_ = generation_;
    }
  }
  for (Species& s : species_) {
    double top = -1;
    for (int m : s.members) top = std::max(top, genomes_[m].fitness);
    if (top > s.best_fitness) {
      s.best_fitness = top;
      s.improved_generation = generation_;
    }
  }
  // Which species may reproduce: not stagnant, or holding the best genome;
  // when the whole population stagnates, only its two best species.
  std::vector<bool> eligible(species_.size(), false);
  size_t best_species = 0;
  for (size_t k = 0; k < species_.size(); ++k)
    if (species_[k].best_fitness > species_[best_species].best_fitness) best_species = k;
  if (generation_ - best_generation_ >= config_.population_stagnation_generations) {
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
                    generation_ - species_[k].improved_generation < config_.stagnation_generations;
  }
  // Explicit fitness sharing: a member's fitness divided by its species'
  // size; a species' claim is the sum of its members' shares.
  std::vector<double> claim(species_.size(), 0);
  double total = 0;
  for (size_t k = 0; k < species_.size(); ++k) {
    if (!eligible[k]) continue;
    for (int m : species_[k].members)
      claim[k] += (genomes_[m].fitness - lowest) / species_[k].members.size();
    total += claim[k];
  }
  if (total <= 0) {  // nothing to tell them apart: equal claims
    for (size_t k = 0; k < species_.size(); ++k) claim[k] = eligible[k] ? 1 : 0;
    total = std::accumulate(claim.begin(), claim.end(), 0.0);
  }
  // Largest remainders, so the total is exactly the population size.
  const int n = config_.population_size;
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

void Population::Mutate(Genome* g, bool must_change) {
  bool changed = false;
  if (Chance(rng_, config_.add_node_rate)) {
    changed = MutateAddNode(g, &innovations_, rng_);
  } else if (Chance(rng_, config_.add_link_rate)) {
    changed = MutateAddLink(g, &innovations_, config_, rng_);
  } else if (Chance(rng_, config_.weight_mutation_rate)) {
    MutateWeights(g, config_, rng_);
    changed = true;
  }
  if (must_change && !changed) MutateWeights(g, config_, rng_);
}

Genome Population::Offspring(const Species& s, const std::vector<int>& parents) {
  Genome child;
  if (parents.size() == 1 || Chance(rng_, config_.mutate_only_rate)) {
    child = genomes_[parents[Pick(rng_, parents.size())]];
    Mutate(&child, /*must_change=*/true);
  } else {
    const Genome& a = genomes_[parents[Pick(rng_, parents.size())]];
    const Genome* b = nullptr;
    if (species_.size() > 1 && Chance(rng_, config_.interspecies_mating_rate)) {
      const Species* other = &species_[Pick(rng_, species_.size())];
      if (other->id == s.id) other = &species_[(other - species_.data() + 1) % species_.size()];
      b = &genomes_[other->members[Pick(rng_, other->members.size())]];
    } else {
      b = &genomes_[parents[Pick(rng_, parents.size())]];
    }
    const bool equal = a.fitness == b->fitness;
    child = Fitter(a, *b) ? Crossover(a, *b, equal, config_, rng_)
                          : Crossover(*b, a, equal, config_, rng_);
    // A child of a genome and itself (or of two identical genomes) is a
    // copy: it is always mutated, lest a generation spend evaluations on
    // clones (NEAT C++ does the same).
    const bool clone = &a == b || CompatibilityDistance(a, *b, config_) == 0;
    if (clone || !Chance(rng_, config_.mate_only_rate)) Mutate(&child, clone);
  }
  child.fitness = 0;
  return child;
}

std::vector<Genome> Population::Reproduce() {
  std::vector<Genome> next;
  next.reserve(config_.population_size);
  for (const Species& s : species_) {
    int left = s.offspring;
    if (left == 0) continue;
    std::vector<int> ranked = s.members;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](int a, int b) { return genomes_[a].fitness > genomes_[b].fitness; });
    if (static_cast<int>(ranked.size()) > config_.elitism_min_species_size) {
      next.push_back(genomes_[ranked.front()]);  // the champion, unchanged
      next.back().fitness = 0;
      --left;
    }
    const size_t survivors = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(config_.survival_threshold * ranked.size())));
    const std::vector<int> parents(ranked.begin(), ranked.begin() + std::min(survivors, ranked.size()));
    for (; left > 0; --left) next.push_back(Offspring(s, parents));
  }
  return next;
}

void Population::SteerThreshold() {
  if (config_.target_species <= 0) return;
  const int n = static_cast<int>(species_.size());
  if (n < config_.target_species) threshold_ -= config_.threshold_step;
  if (n > config_.target_species) threshold_ += config_.threshold_step;
  threshold_ = std::max(threshold_, config_.threshold_floor);
}

void Population::Epoch() {
  Speciate();
  AllotOffspring();
  SteerThreshold();
  std::vector<Genome> next = Reproduce();
  // The next generation is compared with a random member of this one.
  for (Species& s : species_) s.representative = genomes_[s.members[Pick(rng_, s.members.size())]];
  genomes_ = std::move(next);
  innovations_.NextGeneration();
  ++generation_;
}

nlohmann::json Population::ToJson() const {
  nlohmann::json genomes = nlohmann::json::array(), species = nlohmann::json::array();
  for (const Genome& g : genomes_) genomes.push_back(g.ToJson());
  for (const Species& s : species_)
    species.push_back({{"id", s.id},
                       {"representative", s.representative.ToJson()},
                       {"members", s.members},
                       {"best_fitness", s.best_fitness},
                       {"improved_generation", s.improved_generation},
                       {"offspring", s.offspring}});
  std::ostringstream rng;
  rng << rng_;
  return {{"config", config_.ToJson()},
          {"inputs", inputs_},
          {"outputs", outputs_},
          {"generation", generation_},
          {"threshold", threshold_},
          {"genomes", genomes},
          {"species", species},
          {"next_species_id", next_species_id_},
          {"innovations", innovations_.ToJson()},
          {"rng", rng.str()},
          {"best", best_.ToJson()},
          {"best_fitness", best_fitness_},
          {"best_generation", best_generation_}};
}

absl::StatusOr<Population> Population::FromJson(const nlohmann::json& j) {
  // nlohmann throws on a value of the wrong type: a broken checkpoint is an
  // error here, at the edge, not an exception further up.
  try {
    return FromJsonUnchecked(j);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("population: not a saved population (", e.what(), ")"));
  }
}

absl::StatusOr<Population> Population::FromJsonUnchecked(const nlohmann::json& j) {
  const auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("population: ", what));
  };
  for (const char* key : {"config", "inputs", "outputs", "generation", "threshold", "genomes",
                          "species", "next_species_id", "innovations", "rng", "best",
                          "best_fitness", "best_generation"})
    if (!j.is_object() || !j.contains(key)) return bad(absl::StrCat(key, ": missing"));
  Population p;
  absl::StatusOr<NeatConfig> config = NeatConfig::FromJson(j["config"], "population.config");
  if (!config.ok()) return config.status();
  p.config_ = *config;
  p.inputs_ = j["inputs"].get<int>();
  p.outputs_ = j["outputs"].get<int>();
  p.generation_ = j["generation"].get<int>();
  p.threshold_ = j["threshold"].get<double>();
  for (const nlohmann::json& g : j["genomes"]) {
    absl::StatusOr<Genome> genome = Genome::FromJson(g);
    if (!genome.ok()) return genome.status();
    p.genomes_.push_back(*std::move(genome));
  }
  if (static_cast<int>(p.genomes_.size()) != p.config_.population_size)
    return bad("genomes: not population_size of them");
  for (const nlohmann::json& sj : j["species"]) {
    Species s;
    absl::StatusOr<Genome> rep = Genome::FromJson(sj.at("representative"));
    if (!rep.ok()) return rep.status();
    s.id = sj.at("id").get<int>();
    s.representative = *std::move(rep);
    s.members = sj.at("members").get<std::vector<int>>();
    s.best_fitness = sj.at("best_fitness").get<double>();
    s.improved_generation = sj.at("improved_generation").get<int>();
    s.offspring = sj.at("offspring").get<int>();
    p.species_.push_back(std::move(s));
  }
  p.next_species_id_ = j["next_species_id"].get<int>();
  absl::StatusOr<InnovationRecord> record = InnovationRecord::FromJson(j["innovations"]);
  if (!record.ok()) return record.status();
  p.innovations_ = *std::move(record);
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
