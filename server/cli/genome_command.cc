// edgenas genome: pictures of neuroevolution's genomes and networks, drawn
// by Graphviz's dot (the one command that needs it).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/graph/graph_proto.h"
#include "search/codeepneat/genome_dot.h"
#include "server/cli/client_command_util.h"
#include "server/cli/commands.h"

namespace edgenas {
namespace {

using namespace cli_internal;  // NOLINT: the commands' shared parts

// DOT text to SVG through `dot -Tsvg`.
absl::Status WriteSvg(const std::string& dot_text, const std::string& path) {
  const std::string dot_file = path + ".dot.tmp";
  if (absl::Status s = WriteFileAtomically(dot_file, dot_text); !s.ok()) return s;
  const pid_t pid = fork();
  if (pid == 0) {
    execlp("dot", "dot", "-Tsvg", "-o", path.c_str(), dot_file.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    std::remove(dot_file.c_str());
    return absl::InternalError("cannot run dot");
  }
  std::remove(dot_file.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return absl::FailedPreconditionError(
        "an SVG needs Graphviz's dot: apt-get install graphviz (or write --out FILE.dot)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return absl::InternalError(absl::StrCat("dot failed on ", dot_file));
  return absl::OkStatus();
}

}  // namespace

int RunGenome(int argc, char** argv) {
  Cmd c("edgenas genome (FILE | --candidate ID) --out OUT.svg|OUT.dot [flags]",
        "Draws a genome: FILE is a NEAT, DeepNEAT (neat) or CoDeepNEAT module or blueprint "
        "genome as JSON, or a population as `edgenas checkpoint` saves it (then its best genome, "
        "or --index N); --candidate draws a job's network as it was trained, boxed by the "
        "CoDeepNEAT modules that made it. An .svg needs Graphviz's dot.");
  std::string out, candidate;
  int index = -1;
  c.flags.String("out", &out, "the picture to write: .svg (through dot) or .dot");
  c.flags.String("candidate", &candidate, "a candidate id (job-...) whose network to draw");
  c.flags.Int("index", &index, "which genome of a population (default: its best)");
  if (absl::Status s = c.flags.Parse(argc, argv, 2); !s.ok()) return Usage(c.flags, std::string(s.message()));
  if (c.flags.help_requested()) return std::printf("%s", c.flags.Help().c_str()), 0;
  if (out.empty()) return Usage(c.flags, "--out is required");
  if (!candidate.empty() == (c.flags.positional().size() == 1) || c.flags.positional().size() > 1)
    return Usage(c.flags, "give a FILE or --candidate ID, one of them");
  if (!absl::EndsWith(out, ".svg") && !absl::EndsWith(out, ".dot"))
    return Usage(c.flags, "--out: must end in .svg or .dot");

  absl::StatusOr<std::string> dot;
  if (!candidate.empty()) {
    CONNECT_OR_RETURN(client, c);
    v1::GetCandidateRequest req;
    req.set_candidate_id(candidate);
    v1::Candidate cand;
    auto ctx = (*client)->Context();
    if (absl::Status s = FromGrpc((*client)->search().GetCandidate(ctx.get(), req, &cand)); !s.ok())
      return Fail(s);
    absl::StatusOr<Graph> graph = GraphFromProto(cand.graph());
    if (!graph.ok()) return Fail(graph.status());
    dot = codeepneat::NetworkDot(*graph, absl::StrCat("candidate ", candidate));
  } else {
    const std::string file = c.flags.positional()[0];
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
    if (!in || j.is_discarded()) return Fail(absl::InvalidArgumentError(absl::StrCat(file, ": not a readable JSON file")));
    dot = codeepneat::GenomeJsonDot(j, index, file);
    if (!dot.ok())
      return Fail(absl::InvalidArgumentError(absl::StrCat(file, ": ", dot.status().message())));
  }
  if (!dot.ok()) return Fail(dot.status());
  const absl::Status written =
      absl::EndsWith(out, ".svg") ? WriteSvg(*dot, out) : WriteFileAtomically(out, *dot);
  if (!written.ok()) return Fail(written);
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace edgenas
