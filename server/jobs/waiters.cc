#include "server/jobs/waiters.h"

#include <vector>

namespace edgenas {

std::shared_future<TrialResult> Waiters::ExpectTrial(const std::string& job_id,
                                                     const std::string& candidate_id, bool* fresh) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Pending<TrialResult>>& p = trials_[candidate_id];
  *fresh = p == nullptr;
  if (*fresh) {
    p = std::make_shared<Pending<TrialResult>>();
    p->job_id = job_id;
    p->future = p->promise.get_future().share();
  }
  return p->future;
}

std::shared_future<TaskResult> Waiters::ExpectTask(const std::string& job_id,
                                                   const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto p = std::make_shared<Pending<TaskResult>>();
  p->job_id = job_id;
  p->future = p->promise.get_future().share();
  tasks_[task_id] = p;
  return p->future;
}

bool Waiters::ResolveTrial(const std::string& candidate_id, const TrialResult& result) {
  std::shared_ptr<Pending<TrialResult>> p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = trials_.find(candidate_id);
    if (it == trials_.end()) return false;
    p = std::move(it->second);
    trials_.erase(it);
  }
  p->promise.set_value(result);
  return true;
}

bool Waiters::ResolveTask(const std::string& task_id, const TaskResult& result) {
  std::shared_ptr<Pending<TaskResult>> p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find(task_id);
    if (it == tasks_.end()) return false;
    p = std::move(it->second);
    tasks_.erase(it);
  }
  p->promise.set_value(result);
  return true;
}

void Waiters::FailJob(const std::string& job_id, const std::string& why) {
  std::vector<std::shared_ptr<Pending<TrialResult>>> trials;
  std::vector<std::shared_ptr<Pending<TaskResult>>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = trials_.begin(); it != trials_.end();) {
      if (it->second->job_id != job_id) {
        ++it;
        continue;
      }
      trials.push_back(std::move(it->second));
      it = trials_.erase(it);
    }
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      if (it->second->job_id != job_id) {
        ++it;
        continue;
      }
      tasks.push_back(std::move(it->second));
      it = tasks_.erase(it);
    }
  }
  for (auto& p : trials) {
    TrialResult r;
    r.error = why;
    p->promise.set_value(r);
  }
  for (auto& p : tasks) {
    TaskResult r;
    r.error = why;
    p->promise.set_value(r);
  }
}

}  // namespace edgenas
