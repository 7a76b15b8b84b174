// Structured pruning by filter norm (Li, Kadav, Durdanovic, Samet and Graf,
// "Pruning Filters for Efficient ConvNets", ICLR 2017): a conv's filters
// with the smallest sums of absolute weights are removed, with the matching
// input channels of the layers that read them, so the graph itself becomes
// smaller and faster (unlike magnitude pruning, which leaves zeros in place).
// The accuracy lost is recovered by fine-tuning the pruned model.
#ifndef EDGENAS_RUNTIME_COMPRESS_FILTER_PRUNING_H_
#define EDGENAS_RUNTIME_COMPRESS_FILTER_PRUNING_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/model_file/model_file.h"

namespace edgenas {

// sum_{c, i, j} |W[f, c, i, j]| of each output filter f of a conv with
// groups 1 (each output unit's weights for a dense).
absl::StatusOr<std::vector<double>> FilterL1Norms(const Model& model, const std::string& node);

// Removes round(fraction * n) of the node's n filters, those with the
// smallest L1 norms (ties: the later filter goes first), keeping at least
// one; the channels follow through the graph as runtime/morph's Narrow
// describes. fraction in [0, 1).
absl::StatusOr<Model> PruneFilters(const Model& model, const std::string& node, double fraction);

struct FilterPruningReport {
  std::vector<std::string> pruned;                            // convs pruned by their own ranking
  std::vector<std::string> followed;                          // convs that lost channels with another
  std::vector<std::pair<std::string, std::string>> skipped;   // conv, why
};

// Every conv with groups 1, in graph order, each ranked on its own as Li et
// al. prune layers independently; a conv whose channels already changed
// with an earlier one (the other side of a residual add) is not pruned
// again. Convs where the channels cannot follow (the graph output, a
// grouped reader) are skipped with the reason.
absl::StatusOr<Model> PruneFiltersEverywhere(const Model& model, double fraction,
                                             FilterPruningReport* report);

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_COMPRESS_FILTER_PRUNING_H_
