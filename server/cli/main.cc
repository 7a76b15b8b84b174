// edgenas: the user's command line.
#include <cstdio>
#include <cstring>
#include <string>

#include "server/cli/commands.h"
#include "runtime/util/mutex_checks.h"

namespace {

constexpr char kUsage[] =
    "usage: edgenas COMMAND [flags]   (edgenas COMMAND --help for its flags)\n"
    "\n"
    "on this machine:\n"
    "  train    train an architecture (--arch FILE.json or --preset NAME) on a dataset\n"
    "  bench    measure inference latency or training throughput\n"
    "  info     summarize a model file or an architecture\n"
    "  eval     a model file's accuracy, per class and confusion matrix, on a dataset split\n"
    "  predict  the most probable classes of PNG, JPEG or IDX images under a model file\n"
    "  morph    deepen, widen, add a skip or enlarge a kernel of a model file, keeping its function\n"
    "  latency-model  fit the kernel latency predictor here and report its held-out error\n"
    "  neat-bench     NEAT on XOR or double pole balancing, as its paper reports them\n"
    "  genome   draw a NEAT/DeepNEAT genome, a CoDeepNEAT module, blueprint or network (SVG, DOT)\n"
    "\n"
    "with edgenasd (--server HOST:PORT, --token-file FILE, or EDGENAS_SERVER, EDGENAS_TOKEN_FILE):\n"
    "  submit     submit a search job (JOB.json), optionally --watch it\n"
    "  jobs       list jobs\n"
    "  job        show a job\n"
    "  watch      follow a job's progress\n"
    "  cancel     cancel a job\n"
    "  pareto     the Pareto front of a job (table, --json, --svg FILE)\n"
    "  candidate  show a candidate and its trial\n"
    "  trials     list every trial of a job\n"
    "  model      download a candidate's trained model\n"
    "  checkpoint download a job's strategy checkpoint (a NEAT population, ...)\n"
    "  tokens     create, list or revoke tokens (create an enrollment token for a device)\n"
    "  workers    list or revoke enrolled workers\n";

}  // namespace

int main(int argc, char** argv) {
  edgenas::MutexChecksFollowBuildType();
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  if (cmd == "train") return edgenas::RunTrain(argc, argv);
  if (cmd == "bench") return edgenas::RunBench(argc, argv);
  if (cmd == "info") return edgenas::RunInfo(argc, argv);
  if (cmd == "eval") return edgenas::RunEval(argc, argv);
  if (cmd == "predict") return edgenas::RunPredict(argc, argv);
  if (cmd == "morph") return edgenas::RunMorph(argc, argv);
  if (cmd == "latency-model") return edgenas::RunLatencyModel(argc, argv);
  if (cmd == "neat-bench") return edgenas::RunNeatBench(argc, argv);
  if (cmd == "genome") return edgenas::RunGenome(argc, argv);
  if (int rc = edgenas::RunClientCommand(cmd, argc, argv); rc >= 0) return rc;
  std::fprintf(stderr, "edgenas: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
