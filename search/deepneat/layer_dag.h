// How a DAG of layer genes becomes a graph of the IR, by rule, so every
// genome decodes to a valid graph and none is refused:
//
//  - Only live nodes count: those on an enabled path from the input to the
//    output. A genome whose output cannot be reached is its head alone.
//  - A node with several inputs merges them: spatial maps are average-pooled
//    down to the smallest one's height and width, then concatenated; when
//    any input is flat (after a dense layer), the spatial ones are globally
//    pooled and flattened first.
//  - A stride-2 layer downsamples only while the map is at least 8x8, so the
//    last map stays at least 4x4 (as in the mobile space); otherwise it runs
//    at stride 1.
//  - On a flat input a convolutional layer (conv, dw_separable, mbconv, fire)
//    is a dense layer of its width (a convolution of a 1x1 map is exactly
//    that) and pooling passes its input through; a dense layer globally
//    pools a spatial input before it.
//  - The head: global average pooling (for a spatial map) and a dense layer
//    of the class count.
#ifndef EDGENAS_SEARCH_DEEPNEAT_LAYER_DAG_H_
#define EDGENAS_SEARCH_DEEPNEAT_LAYER_DAG_H_

#include <string>
#include <vector>

#include "runtime/graph/blocks.h"
#include "runtime/graph/graph.h"
#include "search/deepneat/dag_genome.h"
#include "search/deepneat/layer_gene.h"

namespace edgenas {
namespace deepneat {

using LayerGenome = DagGenome<LayerGene>;

// A value of the graph being built and its shape.
struct Tensor {
  std::string name;
  int channels = 0, height = 0, width = 0;
  bool flat = false;
};

// The merge rule above; one input is returned as it is. New nodes are
// named `prefix` + "/merge...".
Tensor MergeTensors(GraphBuilder& b, const std::vector<Tensor>& inputs, const std::string& prefix);
// One layer on `in`, its nodes named `prefix` + "/...".
Tensor ApplyLayer(GraphBuilder& b, const LayerGene& layer, const Tensor& in, const std::string& prefix);
// The live layers of `g` after `in`; node n's parts are named
// `prefix` + "n<id>/...", the merge of its inputs `prefix` + "n<id>/in/...".
// Returns the DAG's output (its merged inputs).
Tensor BuildLayerDag(GraphBuilder& b, const LayerGenome& g, const Tensor& in, const std::string& prefix);
// The head: "pool" (for a spatial map) and "classifier".
void BuildHead(GraphBuilder& b, const Tensor& in, int num_classes);

// The whole network of one DeepNEAT genome: input, layers, head.
Graph DecodeNetwork(const LayerGenome& g, const Shape3& input, int num_classes);

}  // namespace deepneat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_DEEPNEAT_LAYER_DAG_H_
