// Function-preserving morphs of a trained model (Net2Net, network morphism):
// each takes a model (graph + weights + metadata) and returns a child that
// computes the same function in inference, up to rounding, with a larger or
// deeper graph. They know nothing of any search strategy; a search enumerates
// the places where each applies with MorphSites and picks among them.
//
// A morph that does not apply at the place it is asked for returns
// FAILED_PRECONDITION with a message that names the node and says why
// ("node 'pool1' is a max_pool: widen needs a conv or dense producer"); an
// option that is malformed (an unknown node, a width that does not grow)
// returns INVALID_ARGUMENT naming the option.
//
// The child keeps the parent's preprocessing and provenance (graph_hash, when
// the parent had one, becomes the child's), records the morph under
// provenance "morph" and drops the parent's metrics, which describe another
// graph. New nodes are named "<anchor>_<morph><k>/<part>" like blocks.h names
// block parts, k the smallest number that makes the prefix unused.
#ifndef EDGENAS_RUNTIME_MORPH_MORPH_H_
#define EDGENAS_RUNTIME_MORPH_MORPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph/graph.h"
#include "runtime/model_file/model_file.h"

namespace edgenas {

// ---- deepen (Net2DeeperNet) ----------------------------------------------

enum class DeepenLayer {
  kAuto,                // a conv after a (C, H, W) value, a dense after a flat one
  kConv,                // kernel x kernel conv, C -> C, identity kernel
  kDepthwiseSeparable,  // depthwise kernel x kernel + pointwise 1x1, both identity
  kDense,               // C -> C identity matrix
};

enum class DeepenActivation {
  // After a relu or relu6 the new layer ends in the same activation: exact,
  // since act(I act(v)) = act(v) for these idempotent activations. After
  // another activation (sigmoid, tanh, hard-sigmoid, elu, hard-swish) the
  // morph is refused: act(act(v)) != act(v) there. After anything that is not
  // an activation the new layer is linear.
  kSameAsAnchor,
  kNone,  // always linear: exact wherever it is inserted
};

struct DeepenOptions {
  // The node ("input" for the graph input) whose value the new layer reads;
  // every reader of that value then reads the new layer instead.
  std::string after;
  DeepenLayer layer = DeepenLayer::kAuto;
  int kernel = 3;  // conv and depthwise: odd, "same" padding
  // A batch norm after each new conv or dense, its statistics and affine set
  // so it is the identity in inference. In training a batch norm normalizes
  // by the batch's statistics, so a child trained from there does not start
  // exactly at its parent; without batch norm it does.
  bool batch_norm = true;
  DeepenActivation activation = DeepenActivation::kSameAsAnchor;
};

absl::StatusOr<Model> Deepen(const Model& parent, const DeepenOptions& options);

// ---- widen (Net2WiderNet) ------------------------------------------------

struct WidenOptions {
  std::string node;  // a conv with groups 1 or a dense
  int width = 0;     // its new out_channels or units: more than it has
  // Seeds the replica choice g(j) (uniform in [0, n) for j >= n) and the noise.
  uint64_t seed = 1;
  // Symmetry breaking, a separate step after the exact widening, 0 = off:
  // replicas' outgoing weights get normal noise of this standard deviation,
  // relative to the RMS of the weights it perturbs, minus its mean over each
  // replica set. Replicas carry equal values, so the sum over a set is
  // unchanged and the function is preserved up to rounding, yet their
  // gradients differ from the first step of training on.
  float noise = 0;
};

// Replicates the node's output channels (units) with g(j) = j for j < n and
// uniform in [0, n) above, copying incoming weights, bias and, downstream,
// batch-norm statistics and affine; the values' readers (convs, denses) divide
// their weights for a channel by its replica count. The widening follows the
// value through per-channel ops (batch norm, activations, pooling, dropout,
// flatten, depthwise convs, whose groups grow with it), and through adds and
// multiplies, whose other inputs are widened alike (a residual's other branch,
// squeeze-and-excite's gate), and concats.
absl::StatusOr<Model> Widen(const Model& parent, const WidenOptions& options);

// ---- narrow (the inverse of widen) ---------------------------------------

struct NarrowOptions {
  std::string node;       // a conv with groups 1 or a dense
  std::vector<int> keep;  // the output channels (units) kept: ascending, distinct
};

// Keeps only `keep` of the node's output channels and, wherever the value
// flows (as for Widen: batch norm, activations, pools, depthwise convs,
// residual adds and SE gates, whose other inputs keep the same channels, and
// concats), the matching ones; its readers keep their input columns for
// them. Not function-preserving: what the dropped channels contributed is
// lost (filter pruning, which then fine-tunes, is built on it).
absl::StatusOr<Model> Narrow(const Model& parent, const NarrowOptions& options);

// ---- skip connections ----------------------------------------------------

enum class SkipKind {
  kAdd,     // to + branch(from), the branch a 1x1 conv (dense) of zero weights
  kConcat,  // concat(to, from); to's readers' weights for from's channels are 0
};

struct SkipOptions {
  std::string from;  // a node or "input", not downstream of `to`
  std::string to;    // a node; its readers then read the merge
  SkipKind kind = SkipKind::kAdd;
};

// When from's height and width are larger than to's, the branch strides down
// to them (a 1x1 conv of stride s with ceil(H_from / s) = H_to); the concat's
// strided branch copies from's channels (identity weights).
absl::StatusOr<Model> AddSkip(const Model& parent, const SkipOptions& options);

// ---- enlarge a kernel ----------------------------------------------------

struct EnlargeOptions {
  std::string node;  // a conv, any groups
  // The new kernel height and width: at least the old ones, grown by an even
  // amount; 0 grows both by 2 (3x3 -> 5x5).
  int kernel = 0;
};

// The old kernel sits at the centre of the new one, zeros around it, and the
// padding grows by dilation * (new - old) / 2 so the output shape is unchanged.
absl::StatusOr<Model> EnlargeKernel(const Model& parent, const EnlargeOptions& options);

// ---- where each morph applies --------------------------------------------

enum class MorphKind { kDeepen, kWiden, kSkipAdd, kSkipConcat, kEnlarge };
const char* MorphKindName(MorphKind kind);  // "deepen", "widen", "skip_add", ...

struct MorphSite {
  MorphKind kind;
  std::string node;  // deepen: after; widen, enlarge: the node; skips: from
  std::string to;    // skips only
};

// Every place where a morph applies with its default options (deepen with
// DeepenLayer::kAuto and kSameAsAnchor, widen to any larger width, enlarge by
// 2), in node order. `graph` must pass AnalyzeGraph.
absl::StatusOr<std::vector<MorphSite>> MorphSites(const Graph& graph);

// Whether the morph applies at the site, and why not: the error the morph
// itself would return, without touching any weight.
absl::Status CheckDeepen(const Graph& graph, const DeepenOptions& options);
absl::Status CheckWiden(const Graph& graph, const std::string& node);
absl::Status CheckSkip(const Graph& graph, const SkipOptions& options);
absl::Status CheckEnlarge(const Graph& graph, const EnlargeOptions& options);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_MORPH_MORPH_H_
