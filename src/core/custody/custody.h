// A node's custody of its data: its site policy, its release ledger and the privacy budget
// summed from it (SPEC section 6). Every task is admitted against the policy and the budget
// before it runs (its ε reserved, so that tasks running at once cannot overspend), and every
// release is recorded before it leaves: a release that could not be recorded does not.
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/custody/ledger.h"
#include "core/custody/site_policy.h"
#include "core/node/dataset_catalog.h"
#include "core/node/node_task.h"
#include "core/status.h"

namespace dim::core {

// A task let in: what it reserved, and the rules it runs under.
struct Admission {
  int64_t id = 0;  // 0: nothing reserved
  std::string dataset;
  double epsilon = 0;  // reserved until Release or Abandon
  int64_t min_samples = 0;
};

// Where a node keeps its ledger unless told: "<models>.ledger.db", beside its models folder.
std::string DefaultLedgerPath(const std::string& models_dir);

// "collaborative", "comparative", "chained" for a task's kind.
std::string_view TaskPattern(const NodeTask& task);
// The task's models, in the order their digests are given to NodeCustody.
std::vector<std::string> TaskModels(const NodeTask& task);

class NodeCustody final {
 public:
  // `ledger`: where releases are recorded (null: not recorded, and no budget can be kept:
  // a policy with a budget then refuses every DP task). `min_samples`: the node's own
  // (--min-samples), which a dataset's min_samples overrides.
  NodeCustody(std::string node_id, int64_t min_samples, std::unique_ptr<Ledger> ledger,
              const Clock& clock);

  // Replaces the policy (at start, and on SIGHUP).
  void SetPolicy(SitePolicy policy);

  // Checks `task` against its dataset's rules and budget; reserves its ε. May tighten the
  // task's clip to the site's bounds. `model_sha256s`: the digests of the task's models
  // where known ("" where not yet). PERMISSION_DENIED for a user or model not allowed;
  // FAILED_PRECONDITION for the other rules, naming the dataset, the rule and the figures.
  // With `reserve` false (a dry run) nothing is reserved.
  Result<Admission> Admit(NodeTask& task, const std::vector<std::string>& model_sha256s,
                          bool reserve = true);
  // Records the release of `bytes` (the task's document, as it leaves), then frees the
  // reservation. The models' digests are known now: a model a `models` rule does not allow
  // is PERMISSION_DENIED here. UNAVAILABLE when the ledger cannot take it: then the task
  // must fail, its result unreleased.
  // `done` is called once the release is on disk (from the ledger's thread), or at once
  // when it is refused or there is no ledger.
  void ReleaseAsync(const Admission& admission, const NodeTask& task, const std::string& bytes,
                    int64_t rows, const std::vector<std::string>& model_sha256s,
                    std::function<void(Status)> done);
  // ReleaseAsync, waiting for its outcome.
  Status Release(const Admission& admission, const NodeTask& task, const std::string& bytes,
                 int64_t rows, const std::vector<std::string>& model_sha256s);
  // Frees a reservation of a task that released nothing.
  void Abandon(const Admission& admission);

  // A dataset's rules and budget, for heartbeats and `dim health --node`.
  DatasetPolicySummary Summary(const std::string& dataset);
  Ledger* ledger() { return ledger_.get(); }

 private:
  Status Refuse(StatusCode code, const std::string& dataset, const std::string& why) const;
  Status CheckModels(const DatasetRules& rules, const NodeTask& task,
                     const std::vector<std::string>& model_sha256s, bool all_known) const;

  const std::string node_id_;
  const int64_t min_samples_;
  std::unique_ptr<Ledger> ledger_;
  const Clock& clock_;
  std::mutex mu_;
  SitePolicy policy_;
  int64_t next_id_ = 1;
  std::map<int64_t, std::pair<std::string, double>> reserved_;  // id -> (dataset, ε)
};

}  // namespace dim::core
