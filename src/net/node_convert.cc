#include "net/node_convert.h"

namespace dim::net {

void ToProto(const std::vector<core::DatasetEntry>& datasets, DatasetInfos* out) {
  for (const auto& d : datasets) {
    auto* info = out->Add();
    info->set_name(d.name);
    info->set_rows(d.shape.rows);
    for (const auto& c : d.shape.columns) info->add_columns(c);
  }
}

std::vector<core::DatasetEntry> DatasetsFromProto(const DatasetInfos& datasets) {
  std::vector<core::DatasetEntry> out;
  for (const auto& d : datasets) {
    core::DatasetEntry e;
    e.name = d.name();
    e.shape.rows = d.rows();
    e.shape.columns.assign(d.columns().begin(), d.columns().end());
    out.push_back(std::move(e));
  }
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
  return d;
}

}  // namespace dim::net
