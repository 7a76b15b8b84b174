// A genome's phenotype: the network its enabled connections make, with the
// steepened sigmoid 1 / (1 + e^(-slope x)) on hidden and output nodes.
// Feed-forward networks are evaluated in topological order; recurrent ones
// update every node once per activation from the values of the one before,
// so signals travel one link per step and state carries over.
#ifndef EDGENAS_SEARCH_NEAT_NETWORK_H_
#define EDGENAS_SEARCH_NEAT_NETWORK_H_

#include <vector>

#include "search/neat/genome.h"

namespace edgenas {
namespace neat {

class Network {
 public:
  Network(const Genome& genome, const NeatConfig& config);

  // One activation: `inputs` (the bias is added) to the outputs' values.
  const std::vector<double>& Activate(const std::vector<double>& inputs);
  // Clears a recurrent network's state.
  void Reset();

  int inputs() const { return inputs_; }

 private:
  struct Link {
    int from, to;  // indices into values_
    double weight;
  };
  double Sigmoid(double x) const;

  int inputs_ = 0;
  bool recurrent_ = false;
  double slope_ = 4.9;
  std::vector<int> order_;   // feed-forward: nodes to compute, in order
  std::vector<int> outputs_; // indices of the output nodes
  int bias_ = -1;
  std::vector<std::vector<Link>> incoming_;  // per node
  std::vector<double> values_, next_;
  std::vector<double> out_;
};

}  // namespace neat
}  // namespace edgenas

#endif  // EDGENAS_SEARCH_NEAT_NETWORK_H_
