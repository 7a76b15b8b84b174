#include "server/jobs/progress_hub.h"

#include <algorithm>
#include <vector>

#include "server/jobs/job_rows.h"
#include "server/jobs/pareto_book.h"

namespace edgenas {

int ProgressHub::Subscribe(const std::string& job_id, Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  const int id = next_++;
  listeners_[id] = {job_id, std::move(listener)};
  return id;
}

void ProgressHub::Unsubscribe(int subscription) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.erase(subscription);
}

absl::StatusOr<v1::ProgressEvent> ProgressHub::Snapshot(const std::string& job_id) {
  v1::ProgressEvent e;
  absl::Status s = store_->Read([&](Db& db) {
    absl::StatusOr<v1::Job> job = ReadJob(db, job_id);
    if (!job.ok()) return job.status();
    absl::StatusOr<std::vector<v1::ParetoPoint>> front = ParetoBook::Read(db, job_id);
    if (!front.ok()) return front.status();
    e.set_job_id(job_id);
    e.set_state(job->state());
    e.set_phase(job->phase());
    e.set_trials_done(job->trials_done());
    e.set_work_done(job->work_done());
    e.set_max_trials(job->spec().budget().max_trials());
    const int64_t end = job->finished_at_ms() > 0 ? job->finished_at_ms() : clock_();
    e.set_elapsed_seconds(job->started_at_ms() > 0 ? (end - job->started_at_ms()) / 1000.0 : 0);
    e.set_best_reward(job->best_reward());
    // Along the front accuracy grows with latency: the last point within
    // the target is the most accurate one that meets it.
    const double target = job->spec().objective().target_latency_ms();
    double best = 0;
    for (const v1::ParetoPoint& p : *front)
      if (p.latency_ms() <= target) best = std::max(best, p.accuracy());
    e.set_best_accuracy_within_target(best);
    e.set_front_size(static_cast<int>(front->size()));
    e.set_hypervolume(job->hypervolume());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return e;
}

void ProgressHub::Publish(const std::string& job_id, const std::string& message,
                          const TrialResult* last) {
  std::vector<Listener> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, l] : listeners_)
      if (l.first == job_id) targets.push_back(l.second);
  }
  if (targets.empty()) return;  // nobody watches: no snapshot to read
  absl::StatusOr<v1::ProgressEvent> e = Snapshot(job_id);
  if (!e.ok()) return;
  e->set_message(message);
  if (last) {
    v1::TrialResult* t = e->mutable_last_trial();
    t->set_candidate_id(last->candidate_id);
    t->set_model_id(last->model_id);
    t->set_graph_hash(last->graph_hash);
    t->set_status(last->ok ? v1::TRIAL_OK : v1::TRIAL_FAILED);
    t->set_error(last->error);
    t->mutable_train()->set_val_accuracy(last->val_accuracy);
    t->mutable_latency()->set_median_ms(last->latency_ms);
    t->set_params(last->params);
    t->set_flops(last->flops);
    t->set_reward(last->reward);
    e->set_trial_number(last->sequence);
  }
  for (const Listener& l : targets) l(*e);
}

}  // namespace edgenas
