#include "search/codeepneat/blueprint.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "search/api/json_params.h"
#include "search/neat/config_fields.h"

namespace edgenas {
namespace codeepneat {
namespace {

using deepneat::kDagInput;
using deepneat::kDagOutput;

bool Chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

template <typename T>
const T& PickOf(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

const std::vector<neat::ConfigField<BlueprintConfig>>& Fields() {
  static const std::vector<neat::ConfigField<BlueprintConfig>>* fields = [] {
    auto* f = new std::vector<neat::ConfigField<BlueprintConfig>>;
    neat::AppendEvolutionFields(f);
    const std::vector<neat::ConfigField<BlueprintConfig>> own = {
        {"initial_nodes", &BlueprintConfig::initial_nodes, 0, 32},
        {"add_node_rate", &BlueprintConfig::add_node_rate, 0, 1},
        {"add_link_rate", &BlueprintConfig::add_link_rate, 0, 1},
        {"training_mutation_rate", &BlueprintConfig::training_mutation_rate, 0, 1},
        {"disabled_inherit_rate", &BlueprintConfig::disabled_inherit_rate, 0, 1},
        {"add_link_tries", &BlueprintConfig::add_link_tries, 1, 10000},
    };
    f->insert(f->end(), own.begin(), own.end());
    return f;
  }();
  return *fields;
}

}  // namespace

absl::StatusOr<ModuleRef> ModuleRef::FromJson(const nlohmann::json& j, const std::string& path) {
  ModuleRef r;
  JsonParams p(j, path);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  if (absl::Status s = p.Require("species"); !s.ok()) return s;
  if (absl::Status s = p.Int("species", 0, 1 << 30, &r.species); !s.ok()) return s;
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  return r;
}

absl::Status TrainingRanges::Validate(const std::string& path) const {
  const auto bad = [&](const char* field, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(neat::FieldPath(path, field), ": ", why));
  };
  if (!(min_learning_rate > 0 && min_learning_rate <= max_learning_rate && max_learning_rate <= kMaxLearningRate))
    return bad("min_learning_rate", absl::StrCat("needs 0 < min <= max_learning_rate <= ", kMaxLearningRate));
  if (!(min_momentum >= 0 && min_momentum <= max_momentum && max_momentum < 1))
    return bad("min_momentum", "needs 0 <= min <= max_momentum < 1");
  if (batch_sizes.empty()) return bad("batch_sizes", "empty");
  for (int b : batch_sizes)
    if (b < 1 || b > kMaxTrainingBatch) return bad("batch_sizes", absl::StrCat("must be in [1, ", kMaxTrainingBatch, "]"));
  if (pad_crops.empty()) return bad("pad_crops", "empty");
  for (int c : pad_crops)
    if (c < 0 || c > kMaxAugmentPadCrop) return bad("pad_crops", absl::StrCat("must be in [0, ", kMaxAugmentPadCrop, "]"));
  return absl::OkStatus();
}

absl::StatusOr<TrainingRanges> TrainingRanges::FromJson(const nlohmann::json& j, const std::string& path) {
  TrainingRanges r;
  JsonParams p(j, path);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  for (auto [key, field] : {std::pair{"min_learning_rate", &r.min_learning_rate},
                            {"max_learning_rate", &r.max_learning_rate},
                            {"min_momentum", &r.min_momentum},
                            {"max_momentum", &r.max_momentum}})
    if (absl::Status s = p.Double(key, 0, kMaxLearningRate, field); !s.ok()) return s;
  if (absl::Status s = p.IntSet("batch_sizes", 1, kMaxTrainingBatch, &r.batch_sizes); !s.ok()) return s;
  if (absl::Status s = p.IntSet("pad_crops", 0, kMaxAugmentPadCrop, &r.pad_crops); !s.ok()) return s;
  const nlohmann::json* flip = nullptr;
  if (absl::Status s = p.Object("allow_flip", &flip); !s.ok()) return s;
  if (flip != nullptr) {
    if (!flip->is_boolean())
      return absl::InvalidArgumentError(absl::StrCat(p.Field("allow_flip"), ": must be true or false"));
    r.allow_flip = flip->get<bool>();
  }
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  if (absl::Status s = r.Validate(path); !s.ok()) return s;
  return r;
}

nlohmann::json TrainingRanges::ToJson() const {
  return {{"min_learning_rate", min_learning_rate}, {"max_learning_rate", max_learning_rate},
          {"min_momentum", min_momentum},           {"max_momentum", max_momentum},
          {"batch_sizes", batch_sizes},             {"pad_crops", pad_crops},
          {"allow_flip", allow_flip}};
}

TrainingSettings TrainingGenes::Apply(TrainingSettings base) const {
  base.learning_rate = learning_rate;
  base.momentum = momentum;
  base.batch_size = batch_size;
  base.augment_pad_crop = pad_crop;
  base.augment_flip = flip;
  return base;
}

nlohmann::json TrainingGenes::ToJson() const {
  return {{"learning_rate", learning_rate}, {"momentum", momentum}, {"batch_size", batch_size},
          {"pad_crop", pad_crop},           {"flip", flip}};
}

absl::StatusOr<TrainingGenes> TrainingGenes::FromJson(const nlohmann::json& j, const std::string& path) {
  TrainingGenes g;
  JsonParams p(j, path);
  if (absl::Status s = p.CheckObject(); !s.ok()) return s;
  if (absl::Status s = p.Double("learning_rate", 1e-12, kMaxLearningRate, &g.learning_rate); !s.ok()) return s;
  if (absl::Status s = p.Double("momentum", 0, 0.999999, &g.momentum); !s.ok()) return s;
  if (absl::Status s = p.Int("batch_size", 1, kMaxTrainingBatch, &g.batch_size); !s.ok()) return s;
  if (absl::Status s = p.Int("pad_crop", 0, kMaxAugmentPadCrop, &g.pad_crop); !s.ok()) return s;
  const nlohmann::json* flip = nullptr;
  if (absl::Status s = p.Object("flip", &flip); !s.ok()) return s;
  if (flip != nullptr) {
    if (!flip->is_boolean())
      return absl::InvalidArgumentError(absl::StrCat(p.Field("flip"), ": must be true or false"));
    g.flip = flip->get<bool>();
  }
  if (absl::Status s = p.Finish(); !s.ok()) return s;
  return g;
}

TrainingGenes RandomTraining(const TrainingRanges& r, std::mt19937_64& rng) {
  TrainingGenes g;
  // Log-uniform: a learning rate's scale matters, not its digits.
  g.learning_rate = std::exp(std::uniform_real_distribution<double>(
      std::log(r.min_learning_rate), std::log(r.max_learning_rate))(rng));
  g.momentum = std::uniform_real_distribution<double>(r.min_momentum, r.max_momentum)(rng);
  g.batch_size = PickOf(r.batch_sizes, rng);
  g.pad_crop = PickOf(r.pad_crops, rng);
  g.flip = r.allow_flip && Chance(rng, 0.5);
  return g;
}

TrainingGenes MutateTraining(const TrainingGenes& g, const TrainingRanges& r, std::mt19937_64& rng) {
  TrainingGenes m = g;
  for (int tries = 0; tries < 16 && m == g; ++tries) {
    switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
      case 0:
        m.learning_rate = std::clamp(
            g.learning_rate * std::exp2(std::uniform_real_distribution<double>(-1, 1)(rng)),
            r.min_learning_rate, r.max_learning_rate);
        break;
      case 1:
        m.momentum = std::clamp(g.momentum + std::uniform_real_distribution<double>(-0.1, 0.1)(rng),
                                r.min_momentum, r.max_momentum);
        break;
      case 2:
        m.batch_size = PickOf(r.batch_sizes, rng);
        break;
      case 3:
        m.pad_crop = PickOf(r.pad_crops, rng);
        break;
      case 4:
        m.flip = r.allow_flip && !g.flip;
        break;
    }
  }
  return m;
}

double TrainingDistance(const TrainingGenes& a, const TrainingGenes& b) {
  return std::abs(std::log2(a.learning_rate / b.learning_rate)) + 4 * std::abs(a.momentum - b.momentum) +
         0.5 * (a.batch_size != b.batch_size) + 0.5 * (a.pad_crop != b.pad_crop) + 0.5 * (a.flip != b.flip);
}

nlohmann::json Blueprint::ToJson() const {
  nlohmann::json j = graph.ToJson();
  j["training"] = training.ToJson();
  j["fitness"] = fitness;
  return j;
}

absl::StatusOr<Blueprint> Blueprint::FromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("training"))
    return absl::InvalidArgumentError("blueprint: needs training genes");
  nlohmann::json dag = j;
  dag.erase("training");
  absl::StatusOr<deepneat::DagGenome<ModuleRef>> graph = deepneat::DagGenome<ModuleRef>::FromJson(dag);
  if (!graph.ok()) return graph.status();
  absl::StatusOr<TrainingGenes> training = TrainingGenes::FromJson(j["training"], "blueprint.training");
  if (!training.ok()) return training.status();
  Blueprint b;
  b.graph = *std::move(graph);
  b.training = *training;
  b.fitness = b.graph.fitness;
  return b;
}

absl::Status BlueprintConfig::Validate(const std::string& path) const {
  if (absl::Status s = neat::CheckFields(*this, Fields(), path); !s.ok()) return s;
  if (absl::Status s = neat::CheckEvolution(*this, path); !s.ok()) return s;
  return training.Validate(neat::FieldPath(path, "training"));
}

absl::StatusOr<BlueprintConfig> BlueprintConfig::FromJson(const nlohmann::json& j, const std::string& path,
                                                          const BlueprintConfig& base) {
  BlueprintConfig c = base;
  nlohmann::json flat = j;
  if (j.is_object() && j.contains("training")) {
    absl::StatusOr<TrainingRanges> r = TrainingRanges::FromJson(j["training"], neat::FieldPath(path, "training"));
    if (!r.ok()) return r.status();
    c.training = *std::move(r);
    flat.erase("training");
  }
  if (absl::Status s = neat::ReadFields(flat, Fields(), path, &c); !s.ok()) return s;
  if (absl::Status s = c.Validate(path); !s.ok()) return s;
  return c;
}

nlohmann::json BlueprintConfig::ToJson() const {
  nlohmann::json j = neat::WriteFields(*this, Fields());
  j["training"] = training.ToJson();
  return j;
}

double BlueprintOps::Distance(const Genome& a, const Genome& b) const {
  const double graph = deepneat::DagDistance<ModuleRef>(
      a.graph, b.graph, config_, [](const ModuleRef& x, const ModuleRef& y) { return x == y ? 0.0 : 1.0; });
  return graph + config_.matching_coefficient * TrainingDistance(a.training, b.training);
}

BlueprintOps::Genome BlueprintOps::Crossover(const Genome& fitter, const Genome& other,
                                             bool equal_fitness, std::mt19937_64& rng) const {
  Blueprint child;
  child.graph = deepneat::DagCrossover(fitter.graph, other.graph, equal_fitness,
                                       config_.disabled_inherit_rate, rng);
  // Each global hyperparameter from either parent.
  const TrainingGenes& a = fitter.training;
  const TrainingGenes& b = other.training;
  child.training.learning_rate = Chance(rng, 0.5) ? a.learning_rate : b.learning_rate;
  child.training.momentum = Chance(rng, 0.5) ? a.momentum : b.momentum;
  child.training.batch_size = Chance(rng, 0.5) ? a.batch_size : b.batch_size;
  child.training.pad_crop = Chance(rng, 0.5) ? a.pad_crop : b.pad_crop;
  child.training.flip = Chance(rng, 0.5) ? a.flip : b.flip;
  return child;
}

int BlueprintOps::RandomSpecies(std::mt19937_64& rng) const {
  return module_species_.empty() ? 0 : PickOf(module_species_, rng);
}

bool BlueprintOps::PointElsewhere(Genome* g, std::mt19937_64& rng) const {
  std::vector<size_t> hidden;
  for (size_t i = 0; i < g->graph.nodes.size(); ++i)
    if (g->graph.nodes[i].id != kDagInput && g->graph.nodes[i].id != kDagOutput) hidden.push_back(i);
  if (hidden.empty() || module_species_.size() < 2) return false;
  ModuleRef& ref = g->graph.nodes[PickOf(hidden, rng)].payload;
  const int before = ref.species;
  while (ref.species == before) ref.species = RandomSpecies(rng);
  return true;
}

void BlueprintOps::Mutate(Genome* g, bool must_change, std::mt19937_64& rng) {
  bool changed = false;
  if (Chance(rng, config_.add_node_rate)) {
    changed = deepneat::DagAddNode(&g->graph, &record_, ModuleRef{RandomSpecies(rng)}, rng);
  } else if (Chance(rng, config_.add_link_rate)) {
    changed = deepneat::DagAddLink(&g->graph, &record_, config_.add_link_tries, rng);
  } else if (Chance(rng, config_.training_mutation_rate)) {
    const TrainingGenes before = g->training;
    g->training = MutateTraining(g->training, config_.training, rng);
    changed = !(g->training == before);
  } else {
    changed = PointElsewhere(g, rng);
  }
  if (must_change && !changed) {
    const TrainingGenes before = g->training;
    g->training = MutateTraining(g->training, config_.training, rng);
    if (g->training == before) deepneat::DagAddNode(&g->graph, &record_, ModuleRef{RandomSpecies(rng)}, rng);
  }
}

std::vector<BlueprintOps::Genome> BlueprintOps::FirstGeneration(std::mt19937_64& rng) {
  std::vector<Genome> out;
  for (int i = 0; i < config_.population_size; ++i) {
    Blueprint b;
    b.graph = deepneat::BareDag<ModuleRef>();
    for (int k = 0; k < config_.initial_nodes; ++k) {
      deepneat::DagLink& last = b.graph.links.back();
      const neat::InnovationRecord::Split s = record_.SplitOf(last.innovation);
      last.enabled = false;
      const deepneat::DagLink in{last.in, s.node, true, s.in_innovation};
      const deepneat::DagLink out_link{s.node, kDagOutput, true, s.out_innovation};
      b.graph.nodes.push_back({s.node, ModuleRef{RandomSpecies(rng)}});
      b.graph.links.push_back(in);
      b.graph.links.push_back(out_link);
    }
    b.training = RandomTraining(config_.training, rng);
    out.push_back(std::move(b));
  }
  return out;
}

bool BlueprintOps::Repoint(Genome* g, std::mt19937_64& rng) const {
  const std::set<int> known(module_species_.begin(), module_species_.end());
  bool changed = false;
  for (auto& node : g->graph.nodes) {
    if (node.id == kDagInput || node.id == kDagOutput || known.count(node.payload.species)) continue;
    node.payload.species = RandomSpecies(rng);
    changed = true;
  }
  return changed;
}

nlohmann::json BlueprintOps::ToJson() const {
  return {{"config", config_.ToJson()}, {"innovations", record_.ToJson()}, {"module_species", module_species_}};
}

absl::StatusOr<BlueprintOps> BlueprintOps::FromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("config") || !j.contains("innovations") ||
      !j.contains("module_species") || !j["module_species"].is_array())
    return absl::InvalidArgumentError("blueprints.ops: needs config, innovations and module_species");
  absl::StatusOr<BlueprintConfig> config = BlueprintConfig::FromJson(j["config"], "blueprints.config");
  if (!config.ok()) return config.status();
  absl::StatusOr<neat::InnovationRecord> record = neat::InnovationRecord::FromJson(j["innovations"]);
  if (!record.ok()) return record.status();
  BlueprintOps ops(*std::move(config));
  ops.record_ = *std::move(record);
  for (const nlohmann::json& id : j["module_species"]) {
    if (!id.is_number_integer()) return absl::InvalidArgumentError("blueprints.ops.module_species: integers");
    ops.module_species_.push_back(id.get<int>());
  }
  return ops;
}

}  // namespace codeepneat
}  // namespace edgenas
