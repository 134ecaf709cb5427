// Snapshots and what the last start recovered.
//
// With tenants, taking a snapshot (work over every tenant's memory) is an
// admin's call, as Redis's SAVE is an administrative command; the recovery
// report shows each tenant only its own processes (restored or lost), and
// only an admin what could not come back (it names other tenants' files).
#include "server/engine/engine.h"
#include "server/service/memory_service.h"

namespace memserver::service {

namespace {

// Without tenants everyone is the one user; with them, only admins.
bool MaySeeEverything(const Caller& caller) { return caller.admin || caller.spec == nullptr; }

}  // namespace

grpc::Status MemoryServiceImpl::Snapshot(grpc::ServerContext* context, const v1::SnapshotRequest*,
                                         v1::SnapshotResponse* response) {
  return Serve("Snapshot", context, [&](const Caller& caller) {
    if (!MaySeeEverything(caller)) {
      return Status::PermissionDenied(
          "only an admin tenant may take a snapshot (the server takes one every --snapshot-interval; "
          "msync with MS_SYNC makes a range durable at once)",
          nullptr);
    }
    SnapshotStats stats;
    MEMSERVER_RETURN_IF_ERROR(engine_->Snapshot(&stats));
    response->set_generation(stats.generation);
    response->set_taken_unix_ms(stats.taken_unix_ms);
    response->set_skipped(stats.skipped);
    response->set_processes(stats.processes);
    response->set_pages_written(stats.pages_written);
    response->set_records_written(stats.records_written);
    response->set_record_bytes(stats.record_bytes);
    response->set_capture_ms(stats.capture_ms);
    response->set_total_ms(stats.total_ms);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::GetRecovery(grpc::ServerContext* context, const v1::GetRecoveryRequest*,
                                            v1::RecoveryReport* response) {
  return Serve("GetRecovery", context, [&](const Caller& caller) {
    const bool everything = MaySeeEverything(caller);
    // The owner of a restored (live or since exited) or lost pid; a pid whose
    // owner is unknown now (it exited) is shown to admins only.
    auto mine = [&](Pid pid) {
      if (everything) return true;
      std::string owner;
      Status s = engine_->ProcessOwner(pid, &owner);
      return (s.ok() || s.process_lost()) && caller.MayUse(owner);
    };
    const Engine::Recovery& r = engine_->recovery();
    response->set_unclean(r.unclean);
    response->set_snapshot_generation(r.snapshot_generation);
    response->set_snapshot_unix_ms(r.snapshot_unix_ms);
    response->set_journal_records(r.journal_records);
    for (const Engine::RestoredProcess& p : r.restored_processes) {
      if (!mine(p.pid)) continue;
      v1::RecoveredProcess* out = response->add_restored();
      out->set_pid(p.pid);
      out->set_name(p.name);
      out->set_in_snapshot(p.in_snapshot);
      out->set_synced_ranges(p.synced_ranges);
      out->set_data_unix_ms(p.data_unix_ms);
    }
    for (const auto& [pid, name] : r.lost) {
      if (!mine(pid)) continue;
      v1::LostProcess* out = response->add_lost();
      out->set_pid(pid);
      out->set_name(name);
    }
    if (everything) {
      for (const std::string& d : r.dropped) response->add_dropped(d);
    }
    response->set_restore_ms(r.restore_ms);
    return Status::OK();
  });
}

}  // namespace memserver::service
