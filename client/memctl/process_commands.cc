// memctl's process commands: create, exit, renew, fork, exec, stat, ps,
// limits.
#include <fmt/format.h>

#include <chrono>
#include <ostream>

#include "client/memctl/commands.h"
#include "server/common/duration.h"
#include "client/memctl/format.h"

namespace memserver::memctl {

namespace {

void AddCreate(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("create", "Create an empty process and print its pid");
  auto name = std::make_shared<std::string>();
  cmd->add_option("--name,-n", *name, "Name shown by ps (at most 256 bytes)")->type_name("NAME");
  auto lease_ms = std::make_shared<uint64_t>(0);
  auto* lease = cmd->add_option("--lease", *lease_ms,
                                "Give the process a lease (30s, 1500ms, 5m, 2h, 1d; at most 30 "
                                "days): the server exits it unless 'memctl renew PID' is run "
                                "within that time")
                    ->transform(CLI::Validator(
                        [](std::string& text) -> std::string {
                          auto ms = ParseDurationMs(text);
                          if (!ms) return "'" + text + "' is not a duration (30s, 1500ms, 5m, 2h, 1d)";
                          text = std::to_string(*ms);
                          return "";
                        },
                        "", ""))
                    ->type_name("DURATION");
  cmd->add_option("--lease-ms", *lease_ms, "The same lease in milliseconds")
      ->transform(NumberArg())
      ->type_name("MS")
      ->excludes(lease);
  table.Add(cmd, [name, lease_ms](Context& ctx) {
    // The process outlives memctl: release the handle instead of exiting it.
    uint64_t pid =
        ctx.client().CreateProcess(*name, std::chrono::milliseconds(*lease_ms)).Release();
    ctx.out() << pid << "\n";
  });
}

void AddRenew(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "renew", "Renew a process's lease: it now ends its full length from now");
  auto pid = std::make_shared<uint64_t>(0);
  AddPidArg(cmd, *pid);
  table.Add(cmd, [pid](Context& ctx) { ctx.client().RenewLease(*pid); });
}

void AddExit(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("exit", "End a process: unmap everything and free its memory");
  auto pid = std::make_shared<uint64_t>(0);
  AddPidArg(cmd, *pid);
  table.Add(cmd, [pid](Context& ctx) { ctx.client().Exit(*pid); });
}

void AddFork(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("fork", "Fork a process (copy-on-write) and print the child's pid");
  auto pid = std::make_shared<uint64_t>(0);
  AddPidArg(cmd, *pid);
  table.Add(cmd, [pid](Context& ctx) {
    // The child outlives memctl: release the handle instead of exiting it.
    uint64_t child = ctx.client().Fork(*pid).Release();
    ctx.out() << child << "\n";
  });
}

void AddExec(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "exec", "Replace a process's memory with an ELF executable of the file store");
  struct Args {
    uint64_t pid = 0;
    std::string path;
  };
  auto a = std::make_shared<Args>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("PATH", a->path, "Executable in the file store (see `memctl file put`)")
      ->required()
      ->type_name("PATH");
  table.Add(cmd, [a](Context& ctx) { ctx.out() << FormatExecImage(ctx.client().Exec(a->pid, a->path)); });
}

struct LimitsArgs {
  uint64_t pid = 0;
  uint64_t as = 0, data = 0, stack = 0, memlock = 0;
  CLI::Option *as_option = nullptr, *data_option = nullptr, *stack_option = nullptr,
              *memlock_option = nullptr;
};

void AddLimits(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "limits", "Print a process's resource limits; with options, set those first");
  auto a = std::make_shared<LimitsArgs>();
  AddPidArg(cmd, a->pid);
  auto limit = [&](const char* name, uint64_t& value, const char* what) {
    return cmd->add_option(name, value, what)->transform(LimitArg())->type_name("LIMIT");
  };
  a->as_option = limit("--as", a->as, "RLIMIT_AS: total mapped bytes ('unlimited' or a size)");
  a->data_option = limit("--data", a->data, "RLIMIT_DATA: private writable mappings and heap");
  a->stack_option = limit("--stack", a->stack, "RLIMIT_STACK: how far the stack may grow");
  a->memlock_option = limit("--memlock", a->memlock, "RLIMIT_MEMLOCK: mlocked bytes");
  table.Add(cmd, [a](Context& ctx) {
    client::Limits update;
    if (a->as_option->count() > 0) update.as = a->as;
    if (a->data_option->count() > 0) update.data = a->data;
    if (a->stack_option->count() > 0) update.stack = a->stack;
    if (a->memlock_option->count() > 0) update.memlock = a->memlock;
    if (update.as || update.data || update.stack || update.memlock) {
      ctx.client().SetLimits(a->pid, update);
    }
    ctx.out() << FormatLimits(ctx.client().GetLimits(a->pid));
  });
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
  t.AddRow({"locked", Pages(g.locked_pages, g.page_size)});
  t.AddRow({"files", std::to_string(g.files)});
  out << t.ToString();
}

void PrintProcess(std::ostream& out, const client::ProcessStats& p, uint32_t page_size) {
  Table t({fmt::format("process {}", p.pid), ""}, {});
  t.AddRow({"name", Printable(p.name)});
  t.AddRow({"virtual", fmt::format("{} in {} mappings", FormatSize(p.virtual_bytes), p.mappings)});
  t.AddRow({"resident", Pages(p.resident_pages, page_size)});
  t.AddRow({"swapped", Pages(p.swapped_pages, page_size)});
  t.AddRow({"faults", fmt::format("{} minor, {} major", p.minor_faults, p.major_faults)});
  t.AddRow({"brk", FormatAddress(p.brk)});
  t.AddRow({"locked", FormatSize(p.locked_bytes)});
  t.AddRow({"usage", fmt::format("rss {}, pss {}, uss {}, swap {}", FormatSize(p.usage.rss),
                                 FormatSize(p.usage.pss), FormatSize(p.usage.uss),
                                 FormatSize(p.usage.swap))});
  t.AddRow({"limits", fmt::format("as {}, data {}, stack {}, memlock {}", FormatLimit(p.limits.as),
                                  FormatLimit(p.limits.data), FormatLimit(p.limits.stack),
                                  FormatLimit(p.limits.memlock))});
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
  auto all = std::make_shared<bool>(false);
  cmd->add_flag("--all-tenants,-A", *all, "every tenant's processes, with an OWNER column (admins only)");
  table.Add(cmd, [all](Context& ctx) {
    // Two calls, so a process created in between may show; sizes come from
    // ListProcesses alone and are consistent per process.
    uint32_t page_size = ctx.client().GetGlobalStats().page_size;
    std::vector<std::string> head = {"PID", "NAME", "VSZ", "RSS", "SWAP", "MAPS", "MINFLT", "MAJFLT"};
    std::vector<bool> right = {true, false, true, true, true, true, true, true};
    if (*all) {
      head.insert(head.begin() + 1, "OWNER");
      right.insert(right.begin() + 1, false);
    }
    Table t(head, right);
    for (const client::ProcessStats& p : ctx.client().ListProcesses(*all)) {
      std::vector<std::string> row = {std::to_string(p.pid), Printable(p.name, 32), FormatSize(p.virtual_bytes),
                                      FormatSize(p.resident_pages * page_size),
                                      FormatSize(p.swapped_pages * page_size), std::to_string(p.mappings),
                                      std::to_string(p.minor_faults), std::to_string(p.major_faults)};
      if (*all) row.insert(row.begin() + 1, p.owner.empty() ? "-" : Printable(p.owner, 64));
      t.AddRow(row);
    }
    ctx.out() << t.ToString();
  });
}

// "12 / 64", "12 / -" without a quota; sizes with units.
std::string Quota(uint64_t used, uint64_t max, bool bytes) {
  auto f = [&](uint64_t v) { return bytes ? FormatSize(v) : std::to_string(v); };
  return f(used) + " / " + (max == client::kNoQuota ? std::string("-") : f(max));
}

void AddTenants(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "tenants", "Show each tenant's use and quotas (your own; an admin sees every tenant)");
  table.Add(cmd, [](Context& ctx) {
    Table t({"TENANT", "ADMIN", "PROCS", "FILES", "FILE BYTES", "LOCKED", "RESIDENT", "SWAP", "STREAMS", "CALLS"},
            {false, false, true, true, true, true, true, true, true, true});
    for (const auto& x : ctx.client().GetGlobalStats().tenants) {
      t.AddRow({Printable(x.name, 64), x.admin ? "yes" : "", Quota(x.processes, x.max_processes, false),
                Quota(x.files, x.max_file_count, false), Quota(x.file_bytes, x.max_files, true),
                Quota(x.locked_bytes, x.max_locked, true), Quota(x.resident_bytes, x.max_resident, true),
                Quota(x.swap_bytes, x.max_swap, true), Quota(x.streams, x.max_streams, false),
                Quota(x.calls, x.max_calls, false)});
    }
    ctx.out() << t.ToString();
  });
}

}  // namespace

void AddProcessCommands(CLI::App& app, CommandTable& table) {
  AddCreate(app, table);
  AddExit(app, table);
  AddRenew(app, table);
  AddFork(app, table);
  AddExec(app, table);
  AddStat(app, table);
  AddPs(app, table);
  AddTenants(app, table);
  AddLimits(app, table);
}

}  // namespace memserver::memctl
