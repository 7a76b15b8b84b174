// An SVG plot of a search: every trial as a dot (validation accuracy against
// latency), the Pareto front as a step line, the latency target as a dashed
// line, labelled axes with units.
#ifndef EDGENAS_SERVER_CLI_PARETO_SVG_H_
#define EDGENAS_SERVER_CLI_PARETO_SVG_H_

#include <string>
#include <vector>

namespace edgenas {

struct PlotPoint {
  double latency_ms, accuracy;
};

std::string ParetoSvg(const std::vector<PlotPoint>& trials, const std::vector<PlotPoint>& front,
                      double target_latency_ms, const std::string& title);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_CLI_PARETO_SVG_H_
