// Auto-Keras's optimisation of the acquisition function (Jin, Song and Hu,
// KDD 2019, section 3.2): simulated annealing over the tree of morphs that
// grows from the models trained so far. A node of the tree is a trained
// model (its root) and the morphs applied to it in order; its children are
// a few random one-step morphs of it. The search keeps a priority queue of
// nodes by acquisition value, seeded with the trained models; it pops the
// best, expands it with probability exp(min((a - a_best) / T, 1)), and cools
// T by a constant factor until T falls below its minimum. It returns the
// expanded node with the highest acquisition value.
#ifndef EDGENAS_SEARCH_MORPHISM_MORPH_TREE_H_
#define EDGENAS_SEARCH_MORPHISM_MORPH_TREE_H_

#include <functional>
#include <list>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime/model_file/model_file.h"
#include "runtime/morph/morph.h"
#include "search/morphism/architecture_distance.h"

namespace edgenas {
namespace morphism {

// One morph with everything it needs to be applied again identically.
struct MorphStep {
  MorphKind kind = MorphKind::kDeepen;
  std::string node;  // deepen: after; widen, enlarge: the node; skips: from
  std::string to;    // skips only
  int width = 0;     // widen only: the new width
  uint64_t seed = 0;  // widen only: replica choice and noise

  nlohmann::json ToJson() const;
  static absl::StatusOr<MorphStep> FromJson(const nlohmann::json& j, const std::string& field);
};

struct MorphSettings {
  bool deepen_batch_norm = true;  // DeepenOptions::batch_norm
  float widen_noise = 0.01f;      // WidenOptions::noise: symmetry breaking, function kept
};

// The parent with `steps` applied in order.
absl::StatusOr<Model> ApplyMorphs(const Model& parent, const std::vector<MorphStep>& steps,
                                  const MorphSettings& settings);

struct AnnealingSettings {
  // Auto-Keras's defaults: T from 1 to 1e-4, cooled by 0.9 (88 steps), 8
  // neighbours per expanded node.
  double initial_temperature = 1.0;
  double min_temperature = 1e-4;
  double cooling = 0.9;
  int neighbours = 8;
};

struct MorphCandidate {
  int root = -1;  // index of the trained model it grows from
  std::vector<MorphStep> steps;
  Graph graph;
  ArchitectureDescriptor descriptor;
  std::string graph_hash;  // CanonicalHash
  int64_t flops = 0;
  double acquisition = 0;
};

struct TreeSearchStats {
  int expanded = 0;   // nodes popped and expanded
  int generated = 0;  // neighbours scored
  int refused = 0;    // neighbours over the size bound or already seen
  int failed = 0;     // morphs MorphSites listed that then did not apply
};

class MorphTreeSearch {
 public:
  // `load` gives a trained model by its index; `acquisition` scores an
  // architecture (higher is better). A neighbour above `max_flops`
  // multiply-adds or whose graph hash is in `seen` is not scored.
  MorphTreeSearch(std::function<absl::StatusOr<Model>(int)> load,
                  std::function<double(const ArchitectureDescriptor&)> acquisition,
                  AnnealingSettings annealing, MorphSettings morph, int64_t max_flops)
      : load_(std::move(load)),
        acquisition_(std::move(acquisition)),
        annealing_(annealing),
        morph_(morph),
        max_flops_(max_flops) {
    // The tree needs the children's graphs only, and widen's noise changes
    // weights, never the graph: it is left to the child that is trained.
    morph_.widen_noise = 0;
  }

  // The best node found from `roots` (the trained models' graphs, by index);
  // nullopt when no morph of any expanded node was new and within the bound.
  absl::StatusOr<std::optional<MorphCandidate>> Search(const std::vector<Graph>& roots,
                                                       const std::set<std::string>& seen,
                                                       std::mt19937_64& rng,
                                                       TreeSearchStats* stats = nullptr);

 private:
  // Up to annealing_.neighbours random one-step morphs of the node: a morph
  // kind drawn uniformly among those that apply, then a place for it.
  absl::StatusOr<std::vector<MorphCandidate>> Neighbours(const MorphCandidate& node,
                                                         std::set<std::string>* seen,
                                                         std::mt19937_64& rng,
                                                         TreeSearchStats* stats);  // not null

  // The root's model, from load_ or from the few kept since (most recently
  // used first).
  absl::StatusOr<const Model*> LoadRoot(int root);

  std::function<absl::StatusOr<Model>(int)> load_;
  std::function<double(const ArchitectureDescriptor&)> acquisition_;
  std::list<std::pair<int, Model>> loaded_;
  AnnealingSettings annealing_;
  MorphSettings morph_;
  int64_t max_flops_;
};

}  // namespace morphism
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_MORPHISM_MORPH_TREE_H_
