// memctl's memory-policy commands: mlock, munlock, mlockall, munlockall,
// madvise, msync.
#include "client/memctl/commands.h"

namespace memserver::memctl {

namespace {

struct RangeArgs {
  uint64_t pid = 0;
  uint64_t addr = 0;
  uint64_t length = 0;
};

void AddRange(CLI::App* cmd, RangeArgs& r) {
  AddPidArg(cmd, r.pid);
  cmd->add_option("ADDR", r.addr, "Page-aligned start address")
      ->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("LENGTH", r.length, "Bytes (4096, 4KiB, 1MiB)")
      ->required()->transform(SizeArg())->type_name("SIZE");
}

void AddMlock(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("mlock", "Lock the pages of [ADDR, ADDR+LENGTH) in memory");
  auto r = std::make_shared<RangeArgs>();
  AddRange(cmd, *r);
  table.Add(cmd, [r](Context& ctx) { ctx.client().Mlock(r->pid, r->addr, r->length); });
}

void AddMunlock(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("munlock", "Unlock the pages of [ADDR, ADDR+LENGTH)");
  auto r = std::make_shared<RangeArgs>();
  AddRange(cmd, *r);
  table.Add(cmd, [r](Context& ctx) { ctx.client().Munlock(r->pid, r->addr, r->length); });
}

struct MlockallArgs {
  uint64_t pid = 0;
  bool current = false;
  bool future = false;
};

void AddMlockall(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "mlockall", "Lock all current and/or future mappings (at least one of --current, --future)");
  auto a = std::make_shared<MlockallArgs>();
  AddPidArg(cmd, a->pid);
  CLI::Option_group* which = cmd->add_option_group("which", "What to lock");
  which->add_flag("--current", a->current, "MCL_CURRENT: the pages mapped now");
  which->add_flag("--future", a->future, "MCL_FUTURE: mappings made from now on");
  which->require_option(1, 2);
  table.Add(cmd, [a](Context& ctx) {
    uint32_t flags = (a->current ? client::kMclCurrent : 0) | (a->future ? client::kMclFuture : 0);
    ctx.client().Mlockall(a->pid, flags);
  });
}

void AddMunlockall(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("munlockall", "Unlock every mapping and stop locking new ones");
  auto pid = std::make_shared<uint64_t>(0);
  AddPidArg(cmd, *pid);
  table.Add(cmd, [pid](Context& ctx) { ctx.client().Munlockall(*pid); });
}

struct MadviseArgs {
  RangeArgs range;
  int advice = 0;
};

void AddMadvise(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("madvise", "Give advice about the use of [ADDR, ADDR+LENGTH)");
  auto a = std::make_shared<MadviseArgs>();
  AddRange(cmd, a->range);
  cmd->add_option("ADVICE", a->advice,
                  "normal, random, sequential, willneed, dontneed, free, dontfork, dofork, "
                  "wipeonfork or keeponfork")
      ->required()
      ->transform(AdviceArg())
      ->type_name("ADVICE");
  table.Add(cmd, [a](Context& ctx) {
    ctx.client().Madvise(a->range.pid, a->range.addr, a->range.length,
                         static_cast<client::Advice>(a->advice));
  });
}

struct MsyncArgs {
  RangeArgs range;
  bool async = false;
  bool sync = false;
  bool invalidate = false;
};

void AddMsync(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "msync",
      "Make [ADDR, ADDR+LENGTH) durable: with --sync (the default) it survives a crash of the server once "
      "this returns; --async writes back shared file mappings only");
  auto a = std::make_shared<MsyncArgs>();
  AddRange(cmd, a->range);
  CLI::Option* async = cmd->add_flag("--async", a->async, "MS_ASYNC: schedule the writes and return");
  CLI::Option* sync = cmd->add_flag("--sync", a->sync, "MS_SYNC: return once durable (the default)");
  async->excludes(sync);
  cmd->add_flag("--invalidate", a->invalidate, "MS_INVALIDATE");
  table.Add(cmd, [a](Context& ctx) {
    uint32_t flags = a->async ? client::kMsAsync : client::kMsSync;
    if (a->invalidate) flags |= client::kMsInvalidate;
    ctx.client().Msync(a->range.pid, a->range.addr, a->range.length, flags);
  });
}

}  // namespace

void AddAdviceCommands(CLI::App& app, CommandTable& table) {
  AddMlock(app, table);
  AddMunlock(app, table);
  AddMlockall(app, table);
  AddMunlockall(app, table);
  AddMadvise(app, table);
  AddMsync(app, table);
}

}  // namespace memserver::memctl
