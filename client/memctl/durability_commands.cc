// memctl snapshot, memctl recovery: the server's snapshots and what its last
// start restored.
#include <fmt/format.h>

#include "client/lib/client.h"
#include "client/memctl/commands.h"

namespace memserver::memctl {

namespace {

void AddSnapshot(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "snapshot", "Take a snapshot of every process now and wait until it is durable (as Redis's SAVE)");
  table.Add(cmd, [](Context& ctx) {
    const client::SnapshotInfo s = ctx.client().Snapshot();
    if (s.skipped) {
      ctx.out() << fmt::format("snapshot {} is current: nothing changed since it was taken\n", s.generation);
      return;
    }
    ctx.out() << fmt::format(
        "snapshot {}: {} processes, {} pages written, {} records ({} bytes), paused {:.2f} ms, {:.1f} ms in all\n",
        s.generation, s.processes, s.pages_written, s.records_written, s.record_bytes, s.capture_ms, s.total_ms);
  });
}

void AddRecovery(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("recovery", "What the server's last start restored, and which processes it lost");
  table.Add(cmd, [](Context& ctx) {
    const client::RecoveryReport r = ctx.client().GetRecovery();
    ctx.out() << fmt::format("previous stop: {}\n", r.unclean ? "crash (no final snapshot)" : "clean");
    ctx.out() << fmt::format("snapshot restored: {} (taken at unix ms {}), journal records replayed: {}\n",
                             r.snapshot_generation, r.snapshot_unix_ms, r.journal_records);
    ctx.out() << fmt::format("{:>8}  {:<10}  {:>7}  {:>16}  {}\n", "PID", "FROM", "SYNCED", "DATA_UNIX_MS", "NAME");
    for (const auto& p : r.restored) {
      ctx.out() << fmt::format("{:>8}  {:<10}  {:>7}  {:>16}  {}\n", p.pid, p.in_snapshot ? "snapshot" : "msync",
                               p.synced_ranges, p.data_unix_ms, p.name);
    }
    for (const auto& [pid, name] : r.lost) ctx.out() << fmt::format("{:>8}  {:<10}  {:>7}  {:>16}  {}\n", pid, "LOST", "-", "-", name);
    for (const std::string& d : r.dropped) ctx.out() << "not restored: " << d << "\n";
  });
}

}  // namespace

void AddDurabilityCommands(CLI::App& app, CommandTable& table) {
  AddSnapshot(app, table);
  AddRecovery(app, table);
}

}  // namespace memserver::memctl
