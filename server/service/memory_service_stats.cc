// Stats, listings and resource limits. A tenant sees its own processes and
// figures; an admin every tenant's (server/service/auth.h).
#include <map>
#include <vector>

#include "server/engine/engine.h"
#include "server/service/memory_service.h"
#include "server/service/proto_conversion.h"

namespace memserver::service {

namespace {

// The per-tenant entries of GetStats: the caller's own, or (admin) every
// tenant of the table and every owner the engine has seen.
void AddTenantStats(const Engine& engine, const CallLimiter& limiter, const Caller& caller, v1::GlobalStats* out) {
  std::map<std::string, v1::TenantStats> entries;
  auto entry = [&](const std::string& name) -> v1::TenantStats* {
    if (!caller.admin && name != caller.tenant) return nullptr;
    v1::TenantStats& t = entries[name];
    if (t.name().empty() && !name.empty()) {
      t.set_name(name);
      t.set_max_processes(kUnlimited);
      t.set_max_files(kUnlimited);
      t.set_max_file_count(kUnlimited);
      t.set_max_locked(kUnlimited);
      t.set_max_resident(kUnlimited);
      t.set_max_swap(kUnlimited);
      t.set_max_streams(kUnlimited);
      t.set_max_calls(kUnlimited);
    }
    return &t;
  };
  if (caller.table != nullptr) {
    for (const TenantSpec& spec : caller.table->tenants()) {
      if (v1::TenantStats* t = entry(spec.name)) {
        t->set_admin(spec.admin);
        t->set_max_streams(spec.max_streams);
        t->set_max_calls(spec.max_calls);
        t->set_max_processes(spec.quota.max_processes);
        t->set_max_files(spec.quota.max_file_bytes);
        t->set_max_file_count(spec.quota.max_files);
        t->set_max_locked(spec.quota.max_locked_bytes);
        t->set_max_resident(spec.quota.max_resident_bytes);
        t->set_max_swap(spec.quota.max_swap_bytes);
      }
    }
  }
  for (const TenantUsage& u : engine.TenantUsages()) {
    if (u.owner.empty() && caller.table != nullptr) continue;  // no-tenant leftovers: counted in the totals
    if (v1::TenantStats* t = entry(u.owner)) {
      t->set_processes(u.used[static_cast<int>(TenantResource::kProcesses)]);
      t->set_file_bytes(u.used[static_cast<int>(TenantResource::kFileBytes)]);
      t->set_files(u.used[static_cast<int>(TenantResource::kFiles)]);
      t->set_locked_bytes(u.used[static_cast<int>(TenantResource::kLockedBytes)]);
      t->set_resident_bytes(u.used[static_cast<int>(TenantResource::kResidentBytes)]);
      t->set_swap_bytes(u.used[static_cast<int>(TenantResource::kSwapBytes)]);
    }
  }
  for (const auto& [name, open] : limiter.TenantCounts()) {
    if (name.empty() && caller.table != nullptr) continue;
    if (v1::TenantStats* t = entry(name)) {
      t->set_streams(open.streams);
      t->set_calls(open.calls);
    }
  }
  for (auto& [name, t] : entries) *out->add_tenants() = std::move(t);
  if (!caller.admin) {
    // A tenant's totals are its own.
    const v1::TenantStats* own = nullptr;
    for (const v1::TenantStats& t : out->tenants()) {
      if (t.name() == caller.tenant) own = &t;
    }
    out->set_processes(own ? own->processes() : 0);
    out->set_files(own ? own->files() : 0);
  }
}

}  // namespace

grpc::Status MemoryServiceImpl::GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                                         v1::GetStatsResponse* response) {
  return Serve("GetStats", context, [&](const Caller& caller) {
    if (request->pid() != 0) {
      MEMSERVER_RETURN_IF_ERROR(CheckProcess(caller, request->pid()));
      ProcessStats stats;
      MEMSERVER_RETURN_IF_ERROR(engine_->GetProcessStats(request->pid(), &stats));
      ToProto(stats, response->mutable_process());
    }
    ToProto(engine_->GetGlobalStats(), response->mutable_global());
    if (auth_->tenants() != nullptr) AddTenantStats(*engine_, *limiter_, caller, response->mutable_global());
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::ListProcesses(grpc::ServerContext* context, const v1::ListProcessesRequest* request,
                                              v1::ListProcessesResponse* response) {
  return Serve("ListProcesses", context, [&](const Caller& caller) {
    if (request->all_tenants() && !caller.admin) {
      return Status::PermissionDenied("only an admin tenant may list every tenant's processes", nullptr);
    }
    for (const ProcessStats& stats : engine_->ListProcesses()) {
      if (request->all_tenants() || stats.owner == caller.ns) ToProto(stats, response->add_processes());
    }
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::ListMappings(grpc::ServerContext* context, const v1::ListMappingsRequest* request,
                                             v1::ListMappingsResponse* response) {
  return ServeProcess("ListMappings", context, request->pid(), [&](const Caller&) {
    std::vector<MappingInfo> mappings;
    MEMSERVER_RETURN_IF_ERROR(engine_->ListMappings(request->pid(), &mappings));
    for (const MappingInfo& m : mappings) ToProto(m, response->add_mappings());
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::GetLimits(grpc::ServerContext* context, const v1::GetLimitsRequest* request,
                                          v1::GetLimitsResponse* response) {
  return ServeProcess("GetLimits", context, request->pid(), [&](const Caller&) {
    ProcessLimits limits;
    MEMSERVER_RETURN_IF_ERROR(engine_->GetLimits(request->pid(), &limits));
    ToProto(limits, response->mutable_limits());
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::SetLimits(grpc::ServerContext* context, const v1::SetLimitsRequest* request,
                                          v1::SetLimitsResponse*) {
  // Only the fields the request sets change. The engine takes whole limits,
  // so this reads, merges and writes back: two concurrent SetLimits on one
  // process changing different fields may lose one of the changes.
  return ServeProcess("SetLimits", context, request->pid(), [&](const Caller&) {
    ProcessLimits limits;
    MEMSERVER_RETURN_IF_ERROR(engine_->GetLimits(request->pid(), &limits));
    MergeFromProto(request->limits(), &limits);
    return engine_->SetLimits(request->pid(), limits);
  });
}

}  // namespace memserver::service
