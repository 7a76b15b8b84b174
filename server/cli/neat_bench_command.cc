// neat-bench: NEAT on the paper's benchmarks (XOR; double pole balancing
// with velocities), over many runs, as the paper reports them.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "runtime/util/flags.h"
#include "search/neat/benchmarks.h"
#include "server/cli/commands.h"

namespace edgenas {

int RunNeatBench(int argc, char** argv) {
  Flags f("edgenas neat-bench --task xor|dpv [flags]",
          "Runs NEAT on XOR or on double pole balancing with velocities (dpv) --runs times and "
          "reports how many runs solved it and the mean number of evaluations, as Stanley & "
          "Miikkulainen (2002) report them: XOR 4,755 evaluations, dpv 3,600.");
  std::string task, config_file;
  int runs = 100, max_generations = 0;
  uint64_t seed = 1;
  bool as_json = false;
  f.String("task", &task, "xor or dpv");
  f.Int("runs", &runs, "independent runs, seeds seed, seed+1, ...");
  f.UInt64("seed", &seed, "seed of the first run");
  f.String("config", &config_file, "a JSON file of NEAT parameters (the paper's by default)");
  f.Int("max-generations", &max_generations, "a run that has not solved by then failed (0: 1000)");
  f.Bool("json", &as_json, "the last line of stdout is one JSON object");
  if (absl::Status s = f.Parse(argc, argv, 2); !s.ok()) {
    std::fprintf(stderr, "edgenas: %s\n\n%s", std::string(s.message()).c_str(), f.Help().c_str());
    return 2;
  }
  if (f.help_requested()) return std::printf("%s", f.Help().c_str()), 0;
  if (task != "xor" && task != "dpv") {
    std::fprintf(stderr, "edgenas: --task: '%s' is not xor or dpv\n", task.c_str());
    return 2;
  }
  if (runs < 1 || runs > 100000) {
    std::fprintf(stderr, "edgenas: --runs: must be in [1, 100000]\n");
    return 2;
  }
  neat::NeatConfig config;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (!in || j.is_discarded()) {
      std::fprintf(stderr, "edgenas: --config %s: not a readable JSON file\n", config_file.c_str());
      return 2;
    }
    absl::StatusOr<neat::NeatConfig> parsed = neat::NeatConfig::FromJson(j);
    if (!parsed.ok()) {
      std::fprintf(stderr, "edgenas: --config %s: %s\n", config_file.c_str(),
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    config = *parsed;
  }
  if (max_generations <= 0) max_generations = 1000;
  const bool tty = isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> evaluations, hidden;
  int solved = 0, epochs = 0;
  double epoch_seconds = 0;
  for (int r = 0; r < runs; ++r) {
    const neat::RunResult result = task == "xor" ? neat::RunXor(config, seed + r, max_generations)
                                                 : neat::RunDoublePole(config, seed + r, max_generations);
    epoch_seconds += result.epoch_seconds;
    epochs += result.epochs;
    if (result.solved) {
      ++solved;
      evaluations.push_back(static_cast<double>(result.evaluations));
      hidden.push_back(result.hidden_nodes);
    }
    std::fprintf(stderr, "%srun %d/%d (seed %llu): %s in %lld evaluations, %d generations%s",
                 tty ? "\r" : "", r + 1, runs, static_cast<unsigned long long>(seed + r),
                 result.solved ? "solved" : "not solved", static_cast<long long>(result.evaluations),
                 result.generations, tty ? "   " : "\n");
  }
  if (tty) std::fprintf(stderr, "\n");
  const auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / v.size();
  };
  const auto stddev = [&](const std::vector<double>& v) {
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return v.size() < 2 ? 0.0 : std::sqrt(s / (v.size() - 1));
  };
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double epoch_ms = epochs > 0 ? 1000 * epoch_seconds / epochs : 0;
  std::printf("%s: %d of %d runs solved; evaluations of the solved: mean %.0f (std %.0f); hidden "
              "nodes of the solutions: mean %.2f; a generation's bookkeeping (population %d): "
              "%.2f ms; %.1f s\n",
              task.c_str(), solved, runs, mean(evaluations), stddev(evaluations), mean(hidden),
              config.population_size, epoch_ms, seconds);
  if (as_json) {
    const nlohmann::json j = {{"task", task},
                              {"runs", runs},
                              {"solved", solved},
                              {"mean_evaluations", mean(evaluations)},
                              {"std_evaluations", stddev(evaluations)},
                              {"mean_hidden_nodes", mean(hidden)},
                              {"epoch_ms", epoch_ms},
                              {"seconds", seconds}};
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace edgenas
