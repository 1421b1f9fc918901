#include "net/node_convert.h"

namespace dim::net {

void ToProto(const std::vector<core::DatasetEntry>& datasets, DatasetInfos* out) {
  for (const auto& d : datasets) {
    auto* info = out->Add();
    info->set_name(d.name);
    info->set_rows(d.shape.rows);
    for (const auto& c : d.shape.columns) info->add_columns(c);
    if (d.policy) {
      auto* p = info->mutable_policy();
      p->set_min_samples(d.policy->min_samples);
      p->set_dp_required(d.policy->dp_required);
      p->set_max_epsilon_per_job(d.policy->max_epsilon_per_job);
      p->set_privacy_budget(d.policy->budget);
      p->set_privacy_spent(d.policy->spent);
    }
  }
}

std::vector<core::DatasetEntry> DatasetsFromProto(const DatasetInfos& datasets) {
  std::vector<core::DatasetEntry> out;
  for (const auto& d : datasets) {
    core::DatasetEntry e;
    e.name = d.name();
    e.shape.rows = d.rows();
    e.shape.columns.assign(d.columns().begin(), d.columns().end());
    if (d.has_policy()) {
      const auto& p = d.policy();
      e.policy = core::DatasetPolicySummary{.min_samples = p.min_samples(),
                                            .dp_required = p.dp_required(),
                                            .max_epsilon_per_job = p.max_epsilon_per_job(),
                                            .budget = p.privacy_budget(),
                                            .spent = p.privacy_spent()};
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::map<std::string, std::string> LabelsFromProto(const Labels& labels) {
  return {labels.begin(), labels.end()};
}

void ToProto(const core::NodeResources& r, dim::daemon::ResourceStatus* out) {
  out->set_cpu_available(r.cpu_available);
  out->set_memory_available_gb(r.memory_available_gb);
  out->set_gpu_available(r.gpu_available);
  out->set_cpu_percent(static_cast<float>(r.cpu_percent));
  out->set_memory_percent(static_cast<float>(r.memory_percent));
}

core::NodeResources ResourcesFromProto(const dim::daemon::ResourceStatus& r) {
  core::NodeResources out;
  out.known = true;
  out.cpu_available = r.cpu_available();
  out.memory_available_gb = r.memory_available_gb();
  out.gpu_available = r.gpu_available();
  out.cpu_percent = r.cpu_percent();
  out.memory_percent = r.memory_percent();
  return out;
}

void ToProto(const core::NodeDescription& d, dim::orchestrator::NodeInfo* n) {
  n->set_node_id(d.id);
  n->set_address(d.address);
  n->set_status(d.active ? dim::common::NODE_STATUS_ACTIVE : dim::common::NODE_STATUS_INACTIVE);
  n->set_source(d.source);
  n->set_last_seen(d.last_seen);
  ToProto(d.datasets, n->mutable_datasets());
  for (const auto& m : d.models) n->add_models(m);
  n->set_active_jobs(d.active_jobs);
  n->set_queued_jobs(d.queued_jobs);
  n->set_max_concurrent_jobs(d.max_concurrent_jobs);
  n->set_error(d.error);
  for (const auto& [key, value] : d.labels) (*n->mutable_labels())[key] = value;
  if (d.resources.known) ToProto(d.resources, n->mutable_resources());
  n->set_reputation(d.reputation);
  n->set_tasks_succeeded(d.tasks_succeeded);
  n->set_tasks_failed(d.tasks_failed);
}

core::NodeDescription FromProto(const dim::orchestrator::NodeInfo& n) {
  core::NodeDescription d;
  d.id = n.node_id();
  d.address = n.address();
  d.active = n.status() == dim::common::NODE_STATUS_ACTIVE;
  d.source = n.source();
  d.last_seen = n.last_seen();
  d.described = true;
  d.datasets = DatasetsFromProto(n.datasets());
  d.models.assign(n.models().begin(), n.models().end());
  d.active_jobs = n.active_jobs();
  d.queued_jobs = n.queued_jobs();
  d.max_concurrent_jobs = n.max_concurrent_jobs();
  d.error = n.error();
  d.labels = LabelsFromProto(n.labels());
  if (n.has_resources()) d.resources = ResourcesFromProto(n.resources());
  d.reputation = n.reputation();
  d.tasks_succeeded = n.tasks_succeeded();
  d.tasks_failed = n.tasks_failed();
  return d;
}

}  // namespace dim::net
