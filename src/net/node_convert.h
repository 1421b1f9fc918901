// core node descriptions <-> protocol messages (DatasetInfo, NodeInfo).
#pragma once

#include <vector>

#include "core/node/node_client.h"
#include "orchestrator.pb.h"

namespace dim::net {

using DatasetInfos = google::protobuf::RepeatedPtrField<dim::common::DatasetInfo>;

void ToProto(const std::vector<core::DatasetEntry>& datasets, DatasetInfos* out);
std::vector<core::DatasetEntry> DatasetsFromProto(const DatasetInfos& datasets);

void ToProto(const core::NodeDescription& node, dim::orchestrator::NodeInfo* out);
core::NodeDescription FromProto(const dim::orchestrator::NodeInfo& node);

}  // namespace dim::net
