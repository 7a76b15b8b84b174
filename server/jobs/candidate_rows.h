// Candidates, their trials, the models they made and the final training of
// winners: the rows and their reading, inside a Store transaction. A graph is
// stored once (graphs), a candidate names it by hash.
#ifndef EDGENAS_SERVER_JOBS_CANDIDATE_ROWS_H_
#define EDGENAS_SERVER_JOBS_CANDIDATE_ROWS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edgenas/v1/job.pb.h"
#include "edgenas/v1/results.pb.h"
#include "server/store/sqlite.h"

namespace edgenas {

// What a candidate is: one evaluation of a graph in a job.
struct CandidateRow {
  std::string id, job_id, graph_hash, eval_key, initial_model_id, parent_model_id;
  int64_t seq = 0;
  v1::TrainingSpec training;
  int64_t created_ms = 0;
};

// The models' kinds: a trial's trained model, weights a strategy started a
// candidate from, and a winner's final training.
inline constexpr char kTrainedModel[] = "trained";
inline constexpr char kInitialModel[] = "initial";
inline constexpr char kFinalModel[] = "final";

absl::Status InsertGraph(Db& db, const std::string& hash, const v1::Graph& graph);
absl::StatusOr<v1::Graph> ReadGraph(Db& db, const std::string& hash);

// Inserts the candidate unless the job has one with its eval_key; its seq is
// the job's next.
absl::Status InsertCandidate(Db& db, const CandidateRow& c);
absl::StatusOr<CandidateRow> ReadCandidateRow(Db& db, const std::string& candidate_id);

// The stored result of a candidate, or nullopt when it has none yet.
absl::StatusOr<std::optional<v1::TrialResult>> ReadTrial(Db& db, const std::string& candidate_id);
// The candidate with its graph and, when finished, its trial.
absl::StatusOr<v1::Candidate> ReadCandidate(Db& db, const std::string& candidate_id);
absl::StatusOr<std::vector<v1::Candidate>> ReadCandidates(Db& db, const std::string& job_id,
                                                          int limit, int offset);

// Inserts a model unless one has its id (ids name their content).
absl::Status InsertModel(Db& db, const std::string& id, const char* kind,
                         const std::string& graph_hash, const std::string& job_id,
                         const std::string& bytes, int64_t now_ms);
// The model file of `model_id`; NotFound names it.
absl::StatusOr<std::string> ReadModelBytes(Db& db, const std::string& model_id);

// A winner's final training, as the trainer reported it.
struct FinalResult {
  std::string candidate_id, job_id;
  bool ok = false;
  std::string error, model_id;
  double test_accuracy = -1;
  int epochs = 0;
  double train_seconds = 0;
};
absl::Status UpsertFinalResult(Db& db, const FinalResult& r, int64_t now_ms);
absl::StatusOr<std::vector<FinalResult>> ReadFinalResults(Db& db, const std::string& job_id);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_JOBS_CANDIDATE_ROWS_H_
