#include "core/custody/custody.h"

#include <algorithm>
#include <cstdio>
#include <future>

#include "core/sha256.h"
#include "core/text.h"

namespace dim::core {
namespace {

std::string Listed(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// The job a task belongs to: a pipeline step's task id is JOB.stepK.tryN.
std::string JobOf(const std::string& task_id) { return task_id.substr(0, task_id.find('.')); }

}  // namespace

std::string DefaultLedgerPath(const std::string& models_dir) {
  std::string dir = models_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".ledger.db";
}

std::vector<std::string> TaskModels(const NodeTask& task) {
  std::vector<std::string> out;
  if (task.kind == NodeTaskKind::kComparative) {
    out = task.model_ids;
  } else {
    out = task.through;
    out.push_back(task.model_id);
  }
  return out;
}

std::string_view TaskPattern(const NodeTask& task) {
  switch (task.kind) {
    case NodeTaskKind::kComparative:
      return "comparative";
    case NodeTaskKind::kStep:
      return "chained";
    case NodeTaskKind::kSummary:
      break;
  }
  return "collaborative";
}

NodeCustody::NodeCustody(std::string node_id, int64_t min_samples, std::unique_ptr<Ledger> ledger,
                         const Clock& clock)
    : node_id_(std::move(node_id)),
      min_samples_(min_samples),
      ledger_(std::move(ledger)),
      clock_(clock) {}

void NodeCustody::SetPolicy(SitePolicy policy) {
  std::lock_guard lock(mu_);
  policy_ = std::move(policy);
}

Status NodeCustody::Refuse(StatusCode code, const std::string& dataset,
                           const std::string& why) const {
  return {code, "dataset '" + dataset + "' on node '" + node_id_ + "': " + why};
}

Status NodeCustody::CheckModels(const DatasetRules& rules, const NodeTask& task,
                                const std::vector<std::string>& model_sha256s,
                                bool all_known) const {
  if (!rules.models) return Status::Ok();
  const auto& allowed = *rules.models;
  const auto ids = TaskModels(task);
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string id = ids[i];
    const std::string sha = i < model_sha256s.size() ? model_sha256s[i] : std::string();
    const bool by_name = std::find(allowed.begin(), allowed.end(), id) != allowed.end();
    const bool by_sha =
        !sha.empty() && std::find(allowed.begin(), allowed.end(), "sha256:" + sha) != allowed.end();
    if (by_name || by_sha) continue;
    // Not here yet: it may match by digest once fetched, and is checked again then.
    const bool some_by_digest = std::any_of(allowed.begin(), allowed.end(),
                                            [](const auto& m) { return m.starts_with("sha256:"); });
    if (sha.empty() && !all_known && some_by_digest) continue;
    return Refuse(StatusCode::kPermissionDenied, task.dataset,
                  "model '" + Snippet(id) + "' is not allowed (models: " + Listed(allowed) + ")");
  }
  return Status::Ok();
}

Result<Admission> NodeCustody::Admit(NodeTask& task, const std::vector<std::string>& model_sha256s,
                                     bool reserve) {
  std::lock_guard lock(mu_);
  const DatasetRules rules = policy_.For(task.dataset);
  const std::string& ds = task.dataset;
  Admission a;
  a.dataset = ds;
  a.min_samples = rules.min_samples.value_or(min_samples_);
  const std::string pattern(TaskPattern(task));
  if (rules.patterns &&
      std::find(rules.patterns->begin(), rules.patterns->end(), pattern) == rules.patterns->end()) {
    return Refuse(
        StatusCode::kFailedPrecondition, ds,
        "pattern " + pattern + " is not allowed (patterns: " + Listed(*rules.patterns) + ")");
  }
  if (rules.users &&
      std::find(rules.users->begin(), rules.users->end(), task.user_id) == rules.users->end()) {
    return Refuse(StatusCode::kPermissionDenied, ds,
                  (task.user_id.empty() ? std::string("an unnamed user")
                                        : "user '" + Snippet(task.user_id) + "'") +
                      " is not allowed (users: " + Listed(*rules.users) + ")");
  }
  DIM_RETURN_IF_ERROR(CheckModels(rules, task, model_sha256s, /*all_known=*/false));
  if (rules.max_rows_returned && task.kind == NodeTaskKind::kStep && task.input_rows &&
      task.input_rows->rows() > *rules.max_rows_returned) {
    return Refuse(StatusCode::kFailedPrecondition, ds,
                  "max_rows_returned " + std::to_string(*rules.max_rows_returned) +
                      ": this step would return " + std::to_string(task.input_rows->rows()) +
                      " rows");
  }
  auto& dp = task.differential_privacy;
  if (rules.dp_required.value_or(false) && !dp) {
    return Refuse(StatusCode::kFailedPrecondition, ds,
                  task.kind == NodeTaskKind::kSummary
                      ? "differential privacy is required, and this job asks none (give "
                        "differential_privacy {epsilon, clip})"
                      : "differential privacy is required, and " + pattern +
                            " tasks release figures without noise");
  }
  if (!dp) return a;
  a.epsilon = dp->epsilon;
  if (rules.clip) {
    // The site's bounds win: a job may clip tighter, never wider.
    const double lo = std::max(dp->clip_lo, rules.clip->first);
    const double hi = std::min(dp->clip_hi, rules.clip->second);
    if (lo < hi) {
      dp->clip_lo = lo;
      dp->clip_hi = hi;
    } else {
      dp->clip_lo = rules.clip->first;
      dp->clip_hi = rules.clip->second;
    }
  }
  if (rules.max_epsilon_per_job && dp->epsilon > *rules.max_epsilon_per_job) {
    return Refuse(StatusCode::kFailedPrecondition, ds,
                  "max_epsilon_per_job " + ShortNumber(*rules.max_epsilon_per_job) + ", this job asks " +
                      ShortNumber(dp->epsilon));
  }
  if (rules.budget) {
    if (!ledger_) {
      return Refuse(StatusCode::kFailedPrecondition, ds,
                    "a privacy budget is set, but this node keeps no ledger to count it");
    }
    DIM_ASSIGN_OR_RETURN(double spent, ledger_->Spent(ds));
    for (const auto& [id, r] : reserved_) {
      if (r.first == ds) spent += r.second;
    }
    // A little slack for the sum of many small ε's in floating point.
    if (spent + dp->epsilon > *rules.budget * (1 + 1e-9)) {
      return Refuse(StatusCode::kFailedPrecondition, ds,
                    "privacy budget exhausted: " + ShortNumber(spent) + " of " + ShortNumber(*rules.budget) +
                        " spent, this job asks " + ShortNumber(dp->epsilon));
    }
  }
  a.epsilon = dp->epsilon;
  if (reserve) {
    a.id = next_id_++;
    reserved_[a.id] = {ds, dp->epsilon};
  }
  return a;
}

void NodeCustody::ReleaseAsync(const Admission& admission, const NodeTask& task,
                               const std::string& bytes, int64_t rows,
                               const std::vector<std::string>& model_sha256s,
                               std::function<void(Status)> done) {
  Status allowed;
  {
    std::lock_guard lock(mu_);
    allowed = CheckModels(policy_.For(task.dataset), task, model_sha256s, /*all_known=*/true);
  }
  if (!allowed.ok() || !ledger_) {
    Abandon(admission);
    done(allowed);
    return;
  }
  LedgerEntry e;
  e.time = FormatIso8601(clock_.Now());
  e.job_id = JobOf(task.job_id);
  e.task_id = task.job_id;
  e.user = task.user_id;
  e.pattern = std::string(TaskPattern(task));
  e.dataset = task.dataset;
  for (const auto& sha : model_sha256s) e.model_sha256 += (e.model_sha256.empty() ? "" : ",") + sha;
  e.rows = rows;
  e.epsilon = admission.epsilon;
  e.release_sha256 = Sha256Hex(bytes);
  // The reservation is freed once the entry is on disk: the ε counts without a gap.
  ledger_->AppendAsync(
      std::move(e), [this, admission, done = std::move(done)](Result<LedgerEntry> appended) {
        Abandon(admission);
        done(appended.ok()
                 ? Status::Ok()
                 : Status::Unavailable("the release could not be recorded, so it was not sent: " +
                                       appended.status().message()));
      });
}

Status NodeCustody::Release(const Admission& admission, const NodeTask& task,
                            const std::string& bytes, int64_t rows,
                            const std::vector<std::string>& model_sha256s) {
  std::promise<Status> outcome;
  auto future = outcome.get_future();
  ReleaseAsync(admission, task, bytes, rows, model_sha256s,
               [&](Status s) { outcome.set_value(std::move(s)); });
  return future.get();
}

void NodeCustody::Abandon(const Admission& admission) {
  if (admission.id == 0) return;
  std::lock_guard lock(mu_);
  reserved_.erase(admission.id);
}

DatasetPolicySummary NodeCustody::Summary(const std::string& dataset) {
  DatasetRules rules;
  {
    std::lock_guard lock(mu_);
    rules = policy_.For(dataset);
  }
  DatasetPolicySummary c;
  c.min_samples = rules.min_samples.value_or(min_samples_);
  c.dp_required = rules.dp_required.value_or(false);
  c.max_epsilon_per_job = rules.max_epsilon_per_job.value_or(0);
  c.budget = rules.budget.value_or(0);
  if (ledger_) {
    auto spent = ledger_->Spent(dataset);
    if (spent.ok()) c.spent = *spent;
  }
  return c;
}

}  // namespace dim::core
