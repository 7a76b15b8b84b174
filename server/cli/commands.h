// The edgenas CLI's subcommands. Each takes the whole argv (argv[1] is the
// subcommand) and returns the process exit code: 0 ok, 1 failure, 2 usage.
#ifndef EDGENAS_SERVER_CLI_COMMANDS_H_
#define EDGENAS_SERVER_CLI_COMMANDS_H_

#include <string>

namespace edgenas {

int RunTrain(int argc, char** argv);
int RunBench(int argc, char** argv);
int RunInfo(int argc, char** argv);
// eval: a model file's accuracy on a dataset split (server/cli/eval_command.cc).
int RunEval(int argc, char** argv);
// predict: classes of images under a model file (server/cli/predict_command.cc).
int RunPredict(int argc, char** argv);
// morph: one function-preserving morph of a model file (server/cli/morph_command.cc).
int RunMorph(int argc, char** argv);
// latency-model: the latency predictor's error on this machine.
int RunLatencyModel(int argc, char** argv);
// neat-bench: NEAT on XOR and double pole balancing.
int RunNeatBench(int argc, char** argv);
// Pictures of genomes, populations and assembled networks (genome_command.cc).
int RunGenome(int argc, char** argv);

// submit, jobs, job, watch, cancel, pareto, candidate, model, tokens,
// workers; -1 when `cmd` is none of them.
int RunClientCommand(const std::string& cmd, int argc, char** argv);
// tokens, workers; -1 when `cmd` is neither.
int RunAdminCommand(const std::string& cmd, int argc, char** argv);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_CLI_COMMANDS_H_
