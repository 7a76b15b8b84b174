// The commands that talk to edgenasd: submit, jobs, job, watch, cancel,
// pareto, candidate, model, tokens, workers.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "server/cli/client.h"
#include "server/cli/client_command_util.h"
#include "server/cli/commands.h"
#include "server/cli/pareto_svg.h"
#include "server/spec/job_spec.h"

namespace edgenas {
namespace {

using nlohmann::json;
using namespace cli_internal;  // NOLINT: the commands' shared parts

std::string Bar(int done, int total, int width) {
  const int fill = total > 0 ? std::min(width, done * width / total) : 0;
  return std::string(fill, '#') + std::string(width - fill, '.');
}

std::string Clock(double seconds) {
  const int s = static_cast<int>(seconds);
  return absl::StrFormat("%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
}

// A line per event; in a log (not a terminal) only when the line changed:
// trials that finish together carry the same latest state.
void PrintProgress(const v1::ProgressEvent& e, bool tty, double target_ms, std::string* previous) {
  // The budget counts trials and the work of other tasks alike.
  const double spent = e.trials_done() + e.work_done();
  const std::string done = e.work_done() > 0
                               ? absl::StrFormat("%d+%.1f", e.trials_done(), e.work_done())
                               : absl::StrCat(e.trials_done());
  std::string line = absl::StrFormat(
      "trials %s/%d [%s] %s  best acc within %g ms: %.2f%%  front %d  hv %.4f  %s%s", done,
      e.max_trials(), Bar(static_cast<int>(spent), e.max_trials(), 24), Clock(e.elapsed_seconds()),
      target_ms, 100 * e.best_accuracy_within_target(), e.front_size(), e.hypervolume(),
      StateName(e.state()), e.phase() == "final training" ? " (final training)" : "");
  if (tty) {
    std::fprintf(stderr, "\r%-120s", line.c_str());
  } else if (line != *previous) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  *previous = std::move(line);
  std::fflush(stderr);
}

// Streams a job's progress until it ends; returns its last event.
absl::StatusOr<v1::ProgressEvent> Watch(Client& client, const std::string& job_id) {
  v1::Job job;
  {
    auto ctx = client.Context();
    v1::GetJobRequest req;
    req.set_job_id(job_id);
    if (absl::Status s = FromGrpc(client.search().GetJob(ctx.get(), req, &job)); !s.ok()) return s;
  }
  const double target = job.spec().objective().target_latency_ms();
  const bool tty = isatty(STDERR_FILENO);
  v1::ProgressEvent last;
  // A watch lasts as long as the job: the deadline covers its whole budget.
  auto ctx = client.Context(job.spec().budget().max_minutes() * 60.0 + 3600);
  v1::WatchJobRequest req;
  req.set_job_id(job_id);
  std::unique_ptr<grpc::ClientReader<v1::ProgressEvent>> reader = client.search().WatchJob(ctx.get(), req);
  v1::ProgressEvent e;
  std::string previous;
  while (reader->Read(&e)) {
    last = e;
    PrintProgress(e, tty, target, &previous);
  }
  if (tty) std::fprintf(stderr, "\n");
  if (absl::Status s = FromGrpc(reader->Finish()); !s.ok()) return s;
  return last;
}

int Submit(int argc, char** argv) {
  Cmd c("edgenas submit JOB.json [--watch] [flags]",
        "Submits a search job (see the README's job spec reference) and prints its id.");
  bool watch = false;
  c.flags.Bool("watch", &watch, "then follow its progress until it ends");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  std::ifstream in(c.arg());
  if (!in) return Fail(absl::NotFoundError(absl::StrCat(c.arg(), ": cannot open")));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<v1::JobSpec> spec = JobSpecFromJson(text.str());
  if (!spec.ok()) return Fail(absl::Status(spec.status().code(), absl::StrCat(c.arg(), ": ", spec.status().message())));
  CONNECT_OR_RETURN(client, c);
  v1::SubmitJobRequest req;
  *req.mutable_spec() = *spec;
  v1::SubmitJobResponse resp;
  auto ctx = (*client)->Context();
  if (absl::Status s = FromGrpc((*client)->search().SubmitJob(ctx.get(), req, &resp)); !s.ok()) return Fail(s);
  if (!watch) {
    std::printf(c.as_json ? "{\"job_id\": \"%s\"}\n" : "%s\n", resp.job_id().c_str());
    return 0;
  }
  std::fprintf(stderr, "submitted %s\n", resp.job_id().c_str());
  absl::StatusOr<v1::ProgressEvent> last = Watch(**client, resp.job_id());
  if (!last.ok()) return Fail(last.status());
  if (c.as_json) {
    json j = ToJson(*last);
    j["job_id"] = resp.job_id();
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n", resp.job_id().c_str());
  }
  return last->state() == v1::JOB_SUCCEEDED ? 0 : 1;
}

int Jobs(int argc, char** argv) {
  Cmd c("edgenas jobs [flags]", "Lists jobs, newest first.");
  int limit = 50;
  c.flags.Int("limit", &limit, "at most this many");
  PARSE_OR_RETURN(c, argc, argv, 2, 0);
  CONNECT_OR_RETURN(client, c);
  v1::ListJobsRequest req;
  req.set_limit(limit);
  v1::ListJobsResponse resp;
  auto ctx = (*client)->Context();
  if (absl::Status s = FromGrpc((*client)->search().ListJobs(ctx.get(), req, &resp)); !s.ok()) return Fail(s);
  if (c.as_json) return std::printf("%s\n", ToJson(resp).dump().c_str()), 0;
  std::printf("%-20s %-24s %-10s %8s %10s %6s\n", "job", "name", "state", "trials", "best", "front");
  for (const v1::Job& j : resp.jobs())
    std::printf("%-20s %-24s %-10s %4d/%-4d %10.4f %6d\n", j.id().c_str(), j.spec().name().substr(0, 24).c_str(),
                StateName(j.state()), j.trials_done(), j.spec().budget().max_trials(), j.best_reward(),
                j.front_size());
  return 0;
}

int JobCmd(int argc, char** argv) {
  Cmd c("edgenas job ID [flags]", "Shows one job: its spec, state and figures.");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  CONNECT_OR_RETURN(client, c);
  v1::GetJobRequest req;
  req.set_job_id(c.arg());
  v1::Job job;
  auto ctx = (*client)->Context();
  if (absl::Status s = FromGrpc((*client)->search().GetJob(ctx.get(), req, &job)); !s.ok()) return Fail(s);
  json j = ToJson(job);
  j["spec"] = JobSpecToJson(job.spec());
  if (c.as_json) return std::printf("%s\n", j.dump().c_str()), 0;
  std::printf("job %s (%s): %s\n", job.id().c_str(), job.spec().name().c_str(), StateName(job.state()));
  std::printf("trials %d of %d; best reward %.4f; front %d points; hypervolume %.4f\n", job.trials_done(),
              job.spec().budget().max_trials(), job.best_reward(), job.front_size(), job.hypervolume());
  if (!job.error().empty()) std::printf("error: %s\n", job.error().c_str());
  std::printf("spec: %s\n", j["spec"].dump(2).c_str());
  return 0;
}

int WatchCmd(int argc, char** argv) {
  Cmd c("edgenas watch ID [flags]", "Follows a job's progress until it ends.");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  CONNECT_OR_RETURN(client, c);
  absl::StatusOr<v1::ProgressEvent> last = Watch(**client, c.arg());
  if (!last.ok()) return Fail(last.status());
  if (c.as_json) std::printf("%s\n", ToJson(*last).dump().c_str());
  return 0;
}

int Cancel(int argc, char** argv) {
  Cmd c("edgenas cancel ID [flags]", "Cancels a job.");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  CONNECT_OR_RETURN(client, c);
  v1::CancelJobRequest req;
  req.set_job_id(c.arg());
  v1::CancelJobResponse resp;
  auto ctx = (*client)->Context();
  if (absl::Status s = FromGrpc((*client)->search().CancelJob(ctx.get(), req, &resp)); !s.ok()) return Fail(s);
  if (c.as_json) return std::printf("%s\n", ToJson(resp.job()).dump().c_str()), 0;
  std::printf("%s: %s\n", resp.job().id().c_str(), StateName(resp.job().state()));
  return 0;
}

// Every candidate of a job, page by page.
absl::StatusOr<std::vector<v1::Candidate>> AllCandidates(Client& client, const std::string& job_id) {
  constexpr int kPage = 1000;
  std::vector<v1::Candidate> all;
  for (int offset = 0;; offset += kPage) {
    v1::ListCandidatesRequest req;
    req.set_job_id(job_id);
    req.set_limit(kPage);
    req.set_offset(offset);
    v1::ListCandidatesResponse page;
    auto ctx = client.Context();
    if (absl::Status s = FromGrpc(client.search().ListCandidates(ctx.get(), req, &page)); !s.ok()) return s;
    all.insert(all.end(), page.candidates().begin(), page.candidates().end());
    if (page.candidates_size() < kPage) return all;
  }
}

int Trials(int argc, char** argv) {
  Cmd c("edgenas trials ID [flags]",
        "Lists every trial of a job: candidate, validation accuracy, latency, parameters, "
        "multiply-adds, reward (with --json, one object per line).");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  CONNECT_OR_RETURN(client, c);
  absl::StatusOr<std::vector<v1::Candidate>> all = AllCandidates(**client, c.arg());
  if (!all.ok()) return Fail(all.status());
  if (!c.as_json)
    std::printf("%-32s %-6s %9s %11s %10s %13s %8s\n", "candidate", "state", "accuracy",
                "latency ms", "params", "mult-adds", "reward");
  for (const v1::Candidate& cand : *all) {
    const v1::TrialResult& r = cand.result();
    const bool ok = cand.has_result() && r.status() == v1::TRIAL_OK;
    if (c.as_json) {
      const nlohmann::json j = {{"candidate_id", cand.id()},
                                {"ok", ok},
                                {"val_accuracy", r.train().val_accuracy()},
                                {"latency_ms", r.latency().median_ms()},
                                {"params", r.params()},
                                {"flops", r.flops()},
                                {"reward", r.reward()}};
      std::printf("%s\n", j.dump().c_str());
      continue;
    }
    std::printf("%-32s %-6s %8.2f%% %11.4f %10lld %13lld %8.4f\n", cand.id().c_str(),
                !cand.has_result() ? "open" : ok ? "ok" : "failed", 100 * r.train().val_accuracy(),
                r.latency().median_ms(), static_cast<long long>(r.params()),
                static_cast<long long>(r.flops()), r.reward());
  }
  return 0;
}

int Pareto(int argc, char** argv) {
  Cmd c("edgenas pareto ID [flags]",
        "Prints the Pareto front of accuracy against latency of a job (and plots it with --svg).");
  std::string device_class, svg;
  double max_latency = 0;
  c.flags.String("device-class", &device_class, "the device class (default: the job's)");
  c.flags.Double("max-latency", &max_latency, "only points at or under this latency in ms (0: all)");
  c.flags.String("svg", &svg, "write a plot of every trial and the front to this file");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  CONNECT_OR_RETURN(client, c);
  v1::GetParetoFrontRequest req;
  req.set_job_id(c.arg());
  req.set_device_class(device_class);
  req.set_max_latency_ms(max_latency);
  v1::ParetoFront front;
  auto ctx = (*client)->Context();
  if (absl::Status s = FromGrpc((*client)->search().GetParetoFront(ctx.get(), req, &front)); !s.ok())
    return Fail(s);
  if (!svg.empty()) {
    v1::Job job;
    std::vector<PlotPoint> trials, points;
    v1::GetJobRequest jr;
    jr.set_job_id(c.arg());
    auto jctx = (*client)->Context();
    if (absl::Status s = FromGrpc((*client)->search().GetJob(jctx.get(), jr, &job)); !s.ok()) return Fail(s);
    absl::StatusOr<std::vector<v1::Candidate>> all = AllCandidates(**client, c.arg());
    if (!all.ok()) return Fail(all.status());
    for (const v1::Candidate& cand : *all)
      if (cand.result().status() == v1::TRIAL_OK)
        trials.push_back({cand.result().latency().median_ms(), cand.result().train().val_accuracy()});
    for (const v1::ParetoPoint& p : front.points()) points.push_back({p.latency_ms(), p.accuracy()});
    std::ofstream out(svg);
    out << ParetoSvg(trials, points, job.spec().objective().target_latency_ms(),
                     absl::StrCat(job.spec().name(), " (", job.id(), ") on ", front.device_class()));
    if (!out) return Fail(absl::InternalError(absl::StrCat(svg, ": cannot write")));
    std::fprintf(stderr, "wrote %s\n", svg.c_str());
  }
  if (c.as_json) return std::printf("%s\n", ToJson(front).dump().c_str()), 0;
  std::printf("Pareto front of %s on %s: %d points, hypervolume %.4f\n", front.job_id().c_str(),
              front.device_class().c_str(), front.points_size(), front.hypervolume());
  // Accuracy is the search's, on the validation split; "test (final)" is the
  // test accuracy of the point's final training, where the job retrained it.
  std::printf("%-32s %9s %11s %10s %13s %8s %12s\n", "candidate", "accuracy", "latency ms", "params",
              "mult-adds", "reward", "test (final)");
  bool retrained = false;
  for (const v1::ParetoPoint& p : front.points()) {
    const std::string test = p.final_test_accuracy() >= 0
                                 ? absl::StrFormat("%.2f%%", 100 * p.final_test_accuracy())
                                 : std::string("-");
    retrained |= p.final_test_accuracy() >= 0;
    std::printf("%-32s %8.2f%% %11.4f %10lld %13lld %8.4f %12s\n", p.candidate_id().c_str(),
                100 * p.accuracy(), p.latency_ms(), static_cast<long long>(p.params()),
                static_cast<long long>(p.flops()), p.reward(), test.c_str());
  }
  for (const v1::ParetoPoint& p : front.points())
    if (!p.final_model_id().empty())
      std::printf("final model of %s: %s\n", p.candidate_id().c_str(), p.final_model_id().c_str());
  if (!retrained && front.points_size() > 0)
    std::printf("(no final training: the job's final_training.winners is 0, or it is still running)\n");
  return 0;
}

int CandidateCmd(int argc, char** argv) {
  Cmd c("edgenas candidate ID [flags]", "Shows one candidate: its graph and its trial.");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  CONNECT_OR_RETURN(client, c);
  v1::GetCandidateRequest req;
  req.set_candidate_id(c.arg());
  v1::Candidate cand;
  auto ctx = (*client)->Context();
  if (absl::Status s = FromGrpc((*client)->search().GetCandidate(ctx.get(), req, &cand)); !s.ok()) return Fail(s);
  if (c.as_json) return std::printf("%s\n", ToJson(cand).dump().c_str()), 0;
  const v1::TrialResult& r = cand.result();
  std::printf("candidate %s of job %s, graph %s, %d nodes\n", cand.id().c_str(), cand.job_id().c_str(),
              cand.graph_hash().c_str(), cand.graph().nodes_size());
  if (!cand.has_result()) {
    std::printf("no result yet\n");
  } else if (r.status() == v1::TRIAL_OK) {
    std::printf("validation accuracy %.2f%%, latency %.4f ms (p90 %.4f, cv %.1f%%), %lld params, %lld mult-adds, reward %.4f\n",
                100 * r.train().val_accuracy(), r.latency().median_ms(), r.latency().p90_ms(),
                100 * r.latency().cv(), static_cast<long long>(r.params()), static_cast<long long>(r.flops()), r.reward());
  } else {
    std::printf("failed: %s\n", r.error().c_str());
  }
  return 0;
}

int ModelCmd(int argc, char** argv) {
  Cmd c("edgenas model ID --out FILE [flags]",
        "Downloads a model file: a candidate's trained model (ID is a candidate id, job-...), or a "
        "model by its id (a winner's final model, final-..., as `pareto` shows it).");
  std::string out;
  c.flags.String("out", &out, "where to write the model file");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  if (out.empty()) return Usage(c.flags, "--out is required");
  CONNECT_OR_RETURN(client, c);
  v1::DownloadModelRequest req;
  // Candidates are named after their job; models are not.
  if (absl::StartsWith(c.arg(), "job-")) {
    req.set_candidate_id(c.arg());
  } else {
    req.set_model_id(c.arg());
  }
  auto ctx = (*client)->Context(600);
  auto reader = (*client)->search().DownloadModel(ctx.get(), req);
  absl::StatusOr<std::string> bytes = ReadChunks(*reader);
  if (!bytes.ok()) return Fail(bytes.status());
  if (absl::Status s = WriteFileAtomically(out, *bytes); !s.ok()) return Fail(s);
  if (c.as_json) return std::printf("{\"path\": \"%s\", \"bytes\": %zu}\n", out.c_str(), bytes->size()), 0;
  std::printf("wrote %s (%zu bytes)\n", out.c_str(), bytes->size());
  return 0;
}

int CheckpointCmd(int argc, char** argv) {
  Cmd c("edgenas checkpoint JOB_ID --out DIR [flags]",
        "Downloads a job's strategy checkpoint: DIR/state.json (the strategy's state and its "
        "artifacts' sizes) and each artifact as DIR/NAME (a NEAT population is JSON that "
        "`edgenas genome` draws).");
  std::string dir;
  c.flags.String("out", &dir, "the directory to write into (made if missing)");
  PARSE_OR_RETURN(c, argc, argv, 2, 1);
  if (dir.empty()) return Usage(c.flags, "--out is required");
  CONNECT_OR_RETURN(client, c);
  const auto download = [&](const std::string& artifact) -> absl::StatusOr<std::string> {
    v1::DownloadCheckpointRequest req;
    req.set_job_id(c.arg());
    req.set_artifact(artifact);
    auto ctx = (*client)->Context(600);
    auto reader = (*client)->search().DownloadCheckpoint(ctx.get(), req);
    return ReadChunks(*reader);
  };
  absl::StatusOr<std::string> index = download("");
  if (!index.ok()) return Fail(index.status());
  const nlohmann::json listing = nlohmann::json::parse(*index, nullptr, false);
  if (listing.is_discarded() || !listing.contains("artifacts"))
    return Fail(absl::InternalError("the server sent a checkpoint listing that is not JSON"));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Fail(absl::InternalError(absl::StrCat(dir, ": cannot make the directory")));
  std::vector<std::string> written = {dir + "/state.json"};
  if (absl::Status s = WriteFileAtomically(written[0], *index); !s.ok()) return Fail(s);
  for (const auto& [name, size] : listing["artifacts"].items()) {
    absl::StatusOr<std::string> bytes = download(name);
    if (!bytes.ok()) return Fail(bytes.status());
    written.push_back(dir + "/" + name);
    if (absl::Status s = WriteFileAtomically(written.back(), *bytes); !s.ok()) return Fail(s);
  }
  if (c.as_json) return std::printf("%s\n", nlohmann::json{{"files", written}}.dump().c_str()), 0;
  for (const std::string& f : written) std::printf("wrote %s\n", f.c_str());
  return 0;
}

}  // namespace

int RunClientCommand(const std::string& cmd, int argc, char** argv) {
  if (cmd == "submit") return Submit(argc, argv);
  if (cmd == "jobs") return Jobs(argc, argv);
  if (cmd == "job") return JobCmd(argc, argv);
  if (cmd == "watch") return WatchCmd(argc, argv);
  if (cmd == "cancel") return Cancel(argc, argv);
  if (cmd == "pareto") return Pareto(argc, argv);
  if (cmd == "candidate") return CandidateCmd(argc, argv);
  if (cmd == "trials") return Trials(argc, argv);
  if (cmd == "model") return ModelCmd(argc, argv);
  if (cmd == "checkpoint") return CheckpointCmd(argc, argv);
  return RunAdminCommand(cmd, argc, argv);
}

}  // namespace edgenas
