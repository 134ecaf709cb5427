// Snapshots and what the last start recovered.
#include "server/engine/engine.h"
#include "server/service/memory_service.h"

namespace memserver::service {

grpc::Status MemoryServiceImpl::Snapshot(grpc::ServerContext*, const v1::SnapshotRequest*,
                                         v1::SnapshotResponse* response) {
  SnapshotStats stats;
  Status s = engine_->Snapshot(&stats);
  if (s.ok()) {
    response->set_generation(stats.generation);
    response->set_taken_unix_ms(stats.taken_unix_ms);
    response->set_skipped(stats.skipped);
    response->set_processes(stats.processes);
    response->set_pages_written(stats.pages_written);
    response->set_records_written(stats.records_written);
    response->set_record_bytes(stats.record_bytes);
    response->set_capture_ms(stats.capture_ms);
    response->set_total_ms(stats.total_ms);
  }
  return Finish("Snapshot", s);
}

grpc::Status MemoryServiceImpl::GetRecovery(grpc::ServerContext*, const v1::GetRecoveryRequest*,
                                            v1::RecoveryReport* response) {
  const Engine::Recovery& r = engine_->recovery();
  response->set_unclean(r.unclean);
  response->set_snapshot_generation(r.snapshot_generation);
  response->set_snapshot_unix_ms(r.snapshot_unix_ms);
  response->set_journal_records(r.journal_records);
  for (const Engine::RestoredProcess& p : r.restored_processes) {
    v1::RecoveredProcess* out = response->add_restored();
    out->set_pid(p.pid);
    out->set_name(p.name);
    out->set_in_snapshot(p.in_snapshot);
    out->set_synced_ranges(p.synced_ranges);
    out->set_data_unix_ms(p.data_unix_ms);
  }
  for (const auto& [pid, name] : r.lost) {
    v1::LostProcess* out = response->add_lost();
    out->set_pid(pid);
    out->set_name(name);
  }
  for (const std::string& d : r.dropped) response->add_dropped(d);
  response->set_restore_ms(r.restore_ms);
  return grpc::Status::OK;
}

}  // namespace memserver::service
