#include "server/store/schema.h"

namespace edgenas {

const std::vector<std::string>& SchemaMigrations() {
  static const std::vector<std::string>* migrations = new std::vector<std::string>{
      // 1: the first schema.
      R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  spec BLOB NOT NULL,              -- edgenas.v1.JobSpec
  state INTEGER NOT NULL,          -- edgenas.v1.JobState
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  checkpoint TEXT,                 -- the strategy's state, JSON
  trials_done INTEGER NOT NULL DEFAULT 0,
  best_reward REAL NOT NULL DEFAULT 0,
  hypervolume REAL NOT NULL DEFAULT 0,
  front_size INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE candidates (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  seq INTEGER NOT NULL,            -- order of submission within the job
  graph_hash TEXT NOT NULL,
  graph BLOB NOT NULL,             -- edgenas.v1.Graph
  created_ms INTEGER NOT NULL,
  UNIQUE (job_id, graph_hash)
);

-- One row per finished candidate: what the strategy was told.
CREATE TABLE trials (
  candidate_id TEXT PRIMARY KEY REFERENCES candidates(id),
  job_id TEXT NOT NULL REFERENCES jobs(id),
  graph_hash TEXT NOT NULL,
  ok INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  val_accuracy REAL NOT NULL DEFAULT 0,
  train_seconds REAL NOT NULL DEFAULT 0,
  latency_ms REAL NOT NULL DEFAULT 0,
  latency_p90_ms REAL NOT NULL DEFAULT 0,
  latency_cv REAL NOT NULL DEFAULT 0,
  device_class TEXT NOT NULL,
  params INTEGER NOT NULL DEFAULT 0,
  flops INTEGER NOT NULL DEFAULT 0,
  reward REAL NOT NULL DEFAULT 0,
  on_front INTEGER NOT NULL DEFAULT 0, -- non-dominated (accuracy up, latency down) in its job
  created_ms INTEGER NOT NULL
);
CREATE INDEX trials_by_job ON trials (job_id, created_ms);
CREATE INDEX trials_front ON trials (job_id, on_front);

-- Training results, reusable by any job with the same training settings.
CREATE TABLE train_results (
  train_key TEXT NOT NULL,         -- hash of dataset and training settings
  graph_hash TEXT NOT NULL,
  val_accuracy REAL NOT NULL,
  train_loss REAL NOT NULL,
  train_seconds REAL NOT NULL,
  images_per_second REAL NOT NULL,
  worker_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (train_key, graph_hash)
);

CREATE TABLE measurements (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  graph_hash TEXT NOT NULL,
  device_class TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  batch INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  repeat_ms TEXT NOT NULL,         -- JSON array, one entry per repeat
  median_ms REAL NOT NULL,
  p90_ms REAL NOT NULL,
  cv REAL NOT NULL,
  fingerprint BLOB NOT NULL,       -- edgenas.v1.Fingerprint
  created_ms INTEGER NOT NULL
);
CREATE INDEX measurements_by_graph ON measurements (graph_hash, device_class);

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  credential_hash TEXT NOT NULL UNIQUE,
  device_class TEXT NOT NULL,
  role INTEGER NOT NULL,
  fingerprint BLOB NOT NULL,
  enrolled_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  tasks_done INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0,
  flagged TEXT NOT NULL DEFAULT ''
);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  kind INTEGER NOT NULL,           -- CreateTokenRequest.Kind
  scopes TEXT NOT NULL DEFAULT '',
  device_class TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,     -- 0: never
  revoked INTEGER NOT NULL DEFAULT 0,
  used INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  candidate_id TEXT NOT NULL REFERENCES candidates(id),
  kind INTEGER NOT NULL,           -- edgenas.v1.TaskKind
  device_class TEXT NOT NULL,      -- who may take it (trainers: '')
  graph_hash TEXT NOT NULL,
  payload BLOB NOT NULL,           -- edgenas.v1.Task without lease fields
  state INTEGER NOT NULL,          -- 0 queued, 1 leased, 2 done, 3 quarantined, 4 cancelled
  attempt INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  result BLOB,                     -- edgenas.v1.ReportResultRequest that was accepted
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX tasks_ready ON tasks (state, kind, device_class, created_ms);
CREATE INDEX tasks_by_candidate ON tasks (candidate_id);

CREATE TABLE models (
  id TEXT PRIMARY KEY,
  candidate_id TEXT NOT NULL REFERENCES candidates(id),
  job_id TEXT NOT NULL REFERENCES jobs(id),
  kind TEXT NOT NULL,              -- "trained", later "compressed"
  bytes BLOB NOT NULL,             -- a model file
  created_ms INTEGER NOT NULL
);
)sql",
      // 2: kernel latencies, for the latency predictor of each device class.
      R"sql(
-- The kernels of an accepted measurement (LatencyMeasurement.kernels): the
-- samples of a device class's lookup table and, with the measurement's
-- median_ms, the pairs its calibration is fitted on.
CREATE TABLE kernel_latencies (
  measurement_id INTEGER NOT NULL REFERENCES measurements(id),
  device_class TEXT NOT NULL,
  key TEXT NOT NULL,               -- the runtime's kernel key
  ms REAL NOT NULL,                -- mean over the net's kernels with this key
  instances INTEGER NOT NULL,      -- how many kernels of the net have this key
  PRIMARY KEY (measurement_id, key)
);
CREATE INDEX kernel_latencies_by_class ON kernel_latencies (device_class, measurement_id);
)sql",
      // 3: a new candidate's sequence number without scanning the job's candidates.
      R"sql(
CREATE INDEX IF NOT EXISTS candidates_by_job_seq ON candidates (job_id, seq);
)sql",
      // 4: redundancy: how often a worker agreed with its class, and trials
      // whose latency is being checked again after a worker was flagged.
      R"sql(
ALTER TABLE workers ADD COLUMN agreements INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN disagreements INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN recheck INTEGER NOT NULL DEFAULT 0;
)sql",
      // 5: the trials being checked again, found without scanning every trial
      // (housekeeping asks every 5 s; almost always there are none).
      R"sql(
CREATE INDEX IF NOT EXISTS trials_rechecking ON trials (recheck) WHERE recheck = 1;
)sql",
      // 6: the search API. A graph is stored once; a candidate is an
      // evaluation (graph, initial weights, training settings: its key);
      // training results and models are found by that key across jobs;
      // checkpoints carry artifacts; tasks are named kinds of the runtime's
      // registry, with a purpose; latency is keyed by batch, threads and
      // precision too; the final training of winners has its results.
      // Rows of earlier versions keep working: their candidates get keys
      // no new request has, and their task kinds are named as they were
      // numbered (1 train, 2 measure_latency).
      R"sql(
CREATE TABLE graphs (
  hash TEXT PRIMARY KEY,           -- canonical graph hash
  graph BLOB NOT NULL              -- edgenas.v1.Graph
);
INSERT OR IGNORE INTO graphs (hash, graph) SELECT graph_hash, graph FROM candidates;

CREATE TABLE candidates_v6 (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  seq INTEGER NOT NULL,            -- order of submission within the job
  graph_hash TEXT NOT NULL REFERENCES graphs(hash),
  eval_key TEXT NOT NULL,          -- search/api EvaluationKey
  initial_model_id TEXT NOT NULL DEFAULT '',
  parent_model_id TEXT NOT NULL DEFAULT '',
  training BLOB NOT NULL DEFAULT x'',  -- edgenas.v1.TrainingSpec it trains with
  created_ms INTEGER NOT NULL,
  UNIQUE (job_id, eval_key)
);
INSERT INTO candidates_v6 (id, job_id, seq, graph_hash, eval_key, created_ms)
  SELECT id, job_id, seq, graph_hash, 'v5-' || id, created_ms FROM candidates;
DROP TABLE candidates;
ALTER TABLE candidates_v6 RENAME TO candidates;
CREATE INDEX candidates_by_job_seq ON candidates (job_id, seq);

CREATE TABLE train_results_v6 (
  eval_key TEXT PRIMARY KEY,
  graph_hash TEXT NOT NULL,
  val_accuracy REAL NOT NULL,
  train_loss REAL NOT NULL,
  initial_loss REAL NOT NULL DEFAULT 0,
  train_seconds REAL NOT NULL,
  images_per_second REAL NOT NULL,
  model_id TEXT NOT NULL DEFAULT '',   -- the trained model
  worker_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
INSERT INTO train_results_v6 (eval_key, graph_hash, val_accuracy, train_loss, train_seconds,
                              images_per_second, worker_id, created_ms)
  SELECT 'v5-' || train_key || '-' || graph_hash, graph_hash, val_accuracy, train_loss,
         train_seconds, images_per_second, worker_id, created_ms FROM train_results;
DROP TABLE train_results;
ALTER TABLE train_results_v6 RENAME TO train_results;

CREATE TABLE models_v6 (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,              -- trained, initial, final
  graph_hash TEXT NOT NULL,
  job_id TEXT NOT NULL,            -- the job that made it (provenance)
  bytes BLOB NOT NULL,             -- a model file
  created_ms INTEGER NOT NULL
);
INSERT INTO models_v6 (id, kind, graph_hash, job_id, bytes, created_ms)
  SELECT m.id, m.kind, c.graph_hash, m.job_id, m.bytes, m.created_ms
  FROM models m JOIN candidates c ON c.id = m.candidate_id;
DROP TABLE models;
ALTER TABLE models_v6 RENAME TO models;

ALTER TABLE trials ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
ALTER TABLE trials ADD COLUMN initial_loss REAL NOT NULL DEFAULT 0;
UPDATE trials SET model_id = candidate_id || '-trained'
  WHERE EXISTS (SELECT 1 FROM models m WHERE m.id = trials.candidate_id || '-trained');

CREATE TABLE tasks_v6 (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  candidate_id TEXT REFERENCES candidates(id),  -- NULL for a strategy's own task
  purpose INTEGER NOT NULL,        -- server/tasks TaskPurpose
  kind TEXT NOT NULL,              -- runtime/tasks registry name
  device_class TEXT NOT NULL,      -- who may take it (trainers: '')
  graph_hash TEXT NOT NULL,        -- '' for kinds without a graph
  payload BLOB NOT NULL,           -- edgenas.v1.Task without lease fields and graph
  work REAL NOT NULL DEFAULT 0,    -- what it spends of the budget, in trial-equivalents
  state INTEGER NOT NULL,          -- server/tasks TaskState
  attempt INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  result BLOB,                     -- edgenas.v1.ReportResultRequest that was accepted
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
INSERT INTO tasks_v6 (id, job_id, candidate_id, purpose, kind, device_class, graph_hash, payload,
                      state, attempt, failures, lease_owner, lease_expires_ms, last_error, result,
                      created_ms, updated_ms)
  SELECT id, job_id, candidate_id, 0,
         CASE kind WHEN 1 THEN 'train' WHEN 2 THEN 'measure_latency' ELSE 'unknown' END,
         device_class, graph_hash, payload, state, attempt, failures, lease_owner,
         lease_expires_ms, last_error, result, created_ms, updated_ms FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v6 RENAME TO tasks;
CREATE INDEX tasks_ready ON tasks (state, kind, device_class, created_ms);
CREATE INDEX tasks_by_candidate ON tasks (candidate_id);
CREATE INDEX tasks_by_job ON tasks (job_id, state);

ALTER TABLE measurements ADD COLUMN precision TEXT NOT NULL DEFAULT 'fp32';
DROP INDEX measurements_by_graph;
CREATE INDEX measurements_by_key ON measurements (graph_hash, device_class, batch, threads, precision);
CREATE INDEX measurements_by_task ON measurements (task_id);
CREATE INDEX measurements_by_scope ON measurements (device_class, batch, threads, precision);

ALTER TABLE jobs ADD COLUMN work_done REAL NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN phase TEXT NOT NULL DEFAULT 'search';

-- The artifacts of a job's checkpoint (jobs.checkpoint lists them).
CREATE TABLE artifacts (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  name TEXT NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (job_id, name)
);

-- One row per winner of a job's final training.
CREATE TABLE final_models (
  candidate_id TEXT PRIMARY KEY REFERENCES candidates(id),
  job_id TEXT NOT NULL REFERENCES jobs(id),
  ok INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  model_id TEXT NOT NULL DEFAULT '',
  test_accuracy REAL NOT NULL DEFAULT -1,
  epochs INTEGER NOT NULL DEFAULT 0,
  train_seconds REAL NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL
);
CREATE INDEX final_models_by_job ON final_models (job_id);
)sql",
  };
  return *migrations;
}

}  // namespace edgenas
