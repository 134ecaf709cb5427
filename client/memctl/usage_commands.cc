// memctl's memory-use listings: pmap (like pmap -x) and smaps (like
// /proc/PID/smaps and smaps_rollup). The layouts are in usage_format.h.
#include <ostream>

#include "client/memctl/commands.h"
#include "client/memctl/usage_format.h"

namespace memserver::memctl {

namespace {

void AddPmap(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("pmap", "List the mappings of a process with their sizes, like pmap -x");
  auto pid = std::make_shared<uint64_t>(0);
  AddPidArg(cmd, *pid);
  table.Add(cmd, [pid](Context& ctx) {
    client::Stats stats = ctx.client().GetStats(*pid);
    std::vector<client::Mapping> mappings = ctx.client().ListMappings(*pid);
    ctx.out() << FormatPmap(*pid, stats.process.name, mappings);
  });
}

void AddSmaps(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "smaps", "Print the memory use of each mapping and the totals, like /proc/PID/smaps");
  auto pid = std::make_shared<uint64_t>(0);
  AddPidArg(cmd, *pid);
  table.Add(cmd, [pid](Context& ctx) { ctx.out() << FormatSmaps(ctx.client().ListMappings(*pid)); });
}

}  // namespace

void AddUsageCommands(CLI::App& app, CommandTable& table) {
  AddPmap(app, table);
  AddSmaps(app, table);
}

}  // namespace memserver::memctl
