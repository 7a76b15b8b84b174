#include "server/jobs/job_queries.h"

#include "absl/strings/str_cat.h"
#include "server/jobs/candidate_rows.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/pareto_book.h"

namespace edgenas {
namespace {

// Runs `fn` in a read transaction and returns what it made.
template <typename T, typename Fn>
absl::StatusOr<T> ReadValue(Store* store, Fn fn) {
  std::optional<T> out;
  absl::Status s = store->Read([&](Db& db) -> absl::Status {
    absl::StatusOr<T> v = fn(db);
    if (!v.ok()) return v.status();
    out = *std::move(v);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return *std::move(out);
}

}  // namespace

absl::StatusOr<v1::Job> JobQueries::Get(const std::string& job_id) {
  return ReadValue<v1::Job>(store_, [&](Db& db) { return ReadJob(db, job_id); });
}

absl::StatusOr<std::vector<v1::Job>> JobQueries::List(int limit) {
  return ReadValue<std::vector<v1::Job>>(store_, [&](Db& db) { return ReadJobs(db, limit); });
}

absl::StatusOr<v1::ParetoFront> JobQueries::ParetoFront(const std::string& job_id,
                                                        const std::string& device_class,
                                                        double max_latency_ms) {
  return ReadValue<v1::ParetoFront>(store_, [&](Db& db) -> absl::StatusOr<v1::ParetoFront> {
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
    if (!job.ok()) return job.status();
    const std::string& job_class = job->spec().objective().device_class();
    if (!device_class.empty() && device_class != job_class)
      return absl::NotFoundError(absl::StrCat("device_class: job ", job_id, " measured on '",
                                              job_class, "', not '", device_class.substr(0, 64),
                                              "'"));
    absl::StatusOr<std::vector<v1::ParetoPoint>> points = ParetoBook::Read(db, job_id);
    if (!points.ok()) return points.status();
    v1::ParetoFront front;
    front.set_job_id(job_id);
    front.set_device_class(job_class);
    // The front of the trials under a latency bound is the front cut at the bound.
    for (v1::ParetoPoint& p : *points)
      if (max_latency_ms <= 0 || p.latency_ms() <= max_latency_ms)
        *front.add_points() = std::move(p);
    front.set_hypervolume(job->hypervolume());
    return front;
  });
}

absl::StatusOr<v1::Candidate> JobQueries::GetCandidate(const std::string& candidate_id) {
  return ReadValue<v1::Candidate>(store_, [&](Db& db) { return ReadCandidate(db, candidate_id); });
}

absl::StatusOr<std::vector<v1::Candidate>> JobQueries::ListCandidates(const std::string& job_id,
                                                                      int limit, int offset) {
  return ReadValue<std::vector<v1::Candidate>>(
      store_, [&](Db& db) -> absl::StatusOr<std::vector<v1::Candidate>> {
        if (absl::Status s = ReadJob(db, job_id).status(); !s.ok()) return s;
        return ReadCandidates(db, job_id, limit, offset);
      });
}

absl::StatusOr<std::string> JobQueries::ModelOfCandidate(const std::string& candidate_id) {
  return ReadValue<std::string>(store_, [&](Db& db) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::optional<v1::TrialResult>> trial = ReadTrial(db, candidate_id);
    if (!trial.ok()) return trial.status();
    if (!*trial || (*trial)->model_id().empty())
      return absl::NotFoundError(absl::StrCat("candidate_id: no trained model for '",
                                              candidate_id.substr(0, 100), "'"));
    return ReadModelBytes(db, (*trial)->model_id());
  });
}

absl::StatusOr<std::string> JobQueries::Model(const std::string& model_id) {
  return ReadValue<std::string>(store_, [&](Db& db) { return ReadModelBytes(db, model_id); });
}

absl::StatusOr<std::string> JobQueries::Checkpoint(const std::string& job_id,
                                                   const std::string& artifact) {
  absl::StatusOr<std::optional<StrategyCheckpoint>> saved =
      ReadValue<std::optional<StrategyCheckpoint>>(store_, [&](Db& db) { return LoadCheckpoint(db, job_id); });
  if (!saved.ok()) return saved.status();
  if (!*saved) return absl::NotFoundError(absl::StrCat("job_id: job '", job_id, "' has no checkpoint yet"));
  if (artifact.empty()) {
    nlohmann::json sizes = nlohmann::json::object();
    for (const auto& [name, bytes] : (*saved)->artifacts) sizes[name] = bytes.size();
    return nlohmann::json{{"state", (*saved)->state}, {"artifacts", sizes}}.dump(2);
  }
  auto it = (*saved)->artifacts.find(artifact);
  if (it == (*saved)->artifacts.end())
    return absl::NotFoundError(absl::StrCat("artifact: job '", job_id, "' has no artifact '", artifact, "'"));
  return it->second;
}

}  // namespace edgenas
