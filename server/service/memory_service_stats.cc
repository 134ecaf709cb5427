// Stats, listings and resource limits.
#include <vector>

#include "server/engine/engine.h"
#include "server/service/memory_service.h"
#include "server/service/proto_conversion.h"

namespace memserver::service {

grpc::Status MemoryServiceImpl::GetStats(grpc::ServerContext*, const v1::GetStatsRequest* request,
                                         v1::GetStatsResponse* response) {
  if (request->pid() != 0) {
    ProcessStats stats;
    Status s = engine_->GetProcessStats(request->pid(), &stats);
    if (!s.ok()) return Finish("GetStats", s);
    ToProto(stats, response->mutable_process());
  }
  ToProto(engine_->GetGlobalStats(), response->mutable_global());
  return grpc::Status::OK;
}

grpc::Status MemoryServiceImpl::ListProcesses(grpc::ServerContext*,
                                              const v1::ListProcessesRequest*,
                                              v1::ListProcessesResponse* response) {
  for (const ProcessStats& stats : engine_->ListProcesses()) {
    ToProto(stats, response->add_processes());
  }
  return grpc::Status::OK;
}

grpc::Status MemoryServiceImpl::ListMappings(grpc::ServerContext*,
                                             const v1::ListMappingsRequest* request,
                                             v1::ListMappingsResponse* response) {
  std::vector<MappingInfo> mappings;
  Status s = engine_->ListMappings(request->pid(), &mappings);
  if (s.ok()) {
    for (const MappingInfo& m : mappings) ToProto(m, response->add_mappings());
  }
  return Finish("ListMappings", s);
}

grpc::Status MemoryServiceImpl::GetLimits(grpc::ServerContext*, const v1::GetLimitsRequest* request,
                                          v1::GetLimitsResponse* response) {
  ProcessLimits limits;
  Status s = engine_->GetLimits(request->pid(), &limits);
  if (s.ok()) ToProto(limits, response->mutable_limits());
  return Finish("GetLimits", s);
}

grpc::Status MemoryServiceImpl::SetLimits(grpc::ServerContext*, const v1::SetLimitsRequest* request,
                                          v1::SetLimitsResponse*) {
  // Only the fields the request sets change. The engine takes whole limits,
  // so this reads, merges and writes back: two concurrent SetLimits on one
  // process changing different fields may lose one of the changes.
  ProcessLimits limits;
  Status s = engine_->GetLimits(request->pid(), &limits);
  if (s.ok()) {
    MergeFromProto(request->limits(), &limits);
    s = engine_->SetLimits(request->pid(), limits);
  }
  return Finish("SetLimits", s);
}

}  // namespace memserver::service
