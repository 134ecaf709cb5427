// memctl's process commands: create, exit, stat, ps.
#include <fmt/format.h>

#include <ostream>

#include "client/memctl/commands.h"
#include "client/memctl/format.h"

namespace memserver::memctl {

namespace {

void AddCreate(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("create", "Create an empty process and print its pid");
  auto name = std::make_shared<std::string>();
  cmd->add_option("--name,-n", *name, "Name shown by ps (at most 256 bytes)")->type_name("NAME");
  table.Add(cmd, [name](Context& ctx) {
    // The process outlives memctl: release the handle instead of exiting it.
    uint64_t pid = ctx.client().CreateProcess(*name).Release();
    ctx.out() << pid << "\n";
  });
}

void AddExit(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("exit", "End a process: unmap everything and free its memory");
  auto pid = std::make_shared<uint64_t>(0);
  cmd->add_option("PID", *pid, "Process id")->required()->transform(NumberArg())->type_name("NUMBER");
  table.Add(cmd, [pid](Context& ctx) { ctx.client().Exit(*pid); });
}

std::string Pages(uint64_t pages, uint32_t page_size) {
  return fmt::format("{} ({} pages)", FormatSize(pages * page_size), pages);
}

void PrintGlobal(std::ostream& out, const client::GlobalStats& g) {
  Table t({"server", ""}, {});
  t.AddRow({"page size", FormatSize(g.page_size)});
  t.AddRow({"policy", Printable(g.policy)});
  t.AddRow({"frames", fmt::format("{} total, {} free", g.frames_total, g.frames_free)});
  t.AddRow({"memory", fmt::format("{} total, {} free", FormatSize(g.frames_total * g.page_size),
                                   FormatSize(g.frames_free * g.page_size))});
  t.AddRow({"processes", std::to_string(g.processes)});
  t.AddRow({"pages", fmt::format("{} live, {} zero, {} in swap", g.pages, g.zero_pages, g.swap_pages)});
  t.AddRow({"faults", fmt::format("{} minor, {} major", g.minor_faults, g.major_faults)});
  t.AddRow({"paging", fmt::format("{} in, {} out", g.page_ins, g.page_outs)});
  t.AddRow({"evictions", fmt::format("{} ({} clean, {} zero)", g.evictions, g.clean_evictions,
                                     g.zero_evictions)});
  out << t.ToString();
}

void PrintProcess(std::ostream& out, const client::ProcessStats& p, uint32_t page_size) {
  Table t({fmt::format("process {}", p.pid), ""}, {});
  t.AddRow({"name", Printable(p.name)});
  t.AddRow({"virtual", fmt::format("{} in {} mappings", FormatSize(p.virtual_bytes), p.mappings)});
  t.AddRow({"resident", Pages(p.resident_pages, page_size)});
  t.AddRow({"swapped", Pages(p.swapped_pages, page_size)});
  t.AddRow({"faults", fmt::format("{} minor, {} major", p.minor_faults, p.major_faults)});
  out << t.ToString();
}

void AddStat(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("stat", "Print the server's statistics, and a process's with PID");
  auto pid = std::make_shared<uint64_t>(0);
  CLI::Option* pid_option = cmd->add_option("PID", *pid, "Process id")->transform(NumberArg())->type_name("NUMBER");
  table.Add(cmd, [pid, pid_option](Context& ctx) {
    if (pid_option->count() == 0) {
      PrintGlobal(ctx.out(), ctx.client().GetGlobalStats());
      return;
    }
    client::Stats stats = ctx.client().GetStats(*pid);
    PrintGlobal(ctx.out(), stats.global);
    ctx.out() << "\n";
    PrintProcess(ctx.out(), stats.process, stats.global.page_size);
  });
}

void AddPs(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("ps", "List the live processes with their sizes and faults");
  table.Add(cmd, [](Context& ctx) {
    // Two calls, so a process created in between may show; sizes come from
    // ListProcesses alone and are consistent per process.
    uint32_t page_size = ctx.client().GetGlobalStats().page_size;
    Table t({"PID", "NAME", "VSZ", "RSS", "SWAP", "MAPS", "MINFLT", "MAJFLT"},
            {true, false, true, true, true, true, true, true});
    for (const client::ProcessStats& p : ctx.client().ListProcesses()) {
      t.AddRow({std::to_string(p.pid), Printable(p.name, 32), FormatSize(p.virtual_bytes),
                FormatSize(p.resident_pages * page_size), FormatSize(p.swapped_pages * page_size),
                std::to_string(p.mappings), std::to_string(p.minor_faults),
                std::to_string(p.major_faults)});
    }
    ctx.out() << t.ToString();
  });
}

}  // namespace

void AddProcessCommands(CLI::App& app, CommandTable& table) {
  AddCreate(app, table);
  AddExit(app, table);
  AddStat(app, table);
  AddPs(app, table);
}

}  // namespace memserver::memctl
