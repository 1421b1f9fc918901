// core node descriptions <-> protocol messages (DatasetInfo, ResourceStatus, NodeInfo).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/node/node_client.h"
#include "orchestrator.pb.h"

namespace dim::net {

using DatasetInfos = google::protobuf::RepeatedPtrField<dim::common::DatasetInfo>;

void ToProto(const std::vector<core::DatasetEntry>& datasets, DatasetInfos* out);
std::vector<core::DatasetEntry> DatasetsFromProto(const DatasetInfos& datasets);

using Labels = google::protobuf::Map<std::string, std::string>;
std::map<std::string, std::string> LabelsFromProto(const Labels& labels);

void ToProto(const core::NodeResources& resources, dim::daemon::ResourceStatus* out);
core::NodeResources ResourcesFromProto(const dim::daemon::ResourceStatus& resources);

void ToProto(const core::NodeDescription& node, dim::orchestrator::NodeInfo* out);
core::NodeDescription FromProto(const dim::orchestrator::NodeInfo& node);

}  // namespace dim::net
