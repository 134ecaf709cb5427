// memctl's heap commands: brk, sbrk, and the server-side allocator (malloc,
// calloc, realloc, free).
#include <ostream>

#include "client/memctl/commands.h"
#include "client/memctl/format.h"

namespace memserver::memctl {

namespace {

void AddBrk(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("brk", "Print the program break, or move it to ADDR and print it");
  struct Args {
    uint64_t pid = 0;
    uint64_t addr = 0;
  };
  auto a = std::make_shared<Args>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("ADDR", a->addr, "New break (omitted: only print it)")
      ->transform(NumberArg())->type_name("NUMBER");
  table.Add(cmd, [a](Context& ctx) {
    ctx.out() << FormatAddress(ctx.client().Brk(a->pid, a->addr)) << "\n";
  });
}

void AddSbrk(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "sbrk", "Move the break by INCR bytes (negative: shrink) and print the previous break");
  struct Args {
    uint64_t pid = 0;
    int64_t increment = 0;
  };
  auto a = std::make_shared<Args>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("INCR", a->increment, "Bytes, may be negative: 4096, 1MiB, -4KiB")
      ->required()->transform(SignedSizeArg())->type_name("SIZE");
  table.Add(cmd, [a](Context& ctx) {
    ctx.out() << FormatAddress(ctx.client().Sbrk(a->pid, a->increment)) << "\n";
  });
}

void AddMalloc(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("malloc", "Allocate SIZE bytes on the process's heap and print the address");
  struct Args {
    uint64_t pid = 0;
    uint64_t size = 0;
  };
  auto a = std::make_shared<Args>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("SIZE", a->size, "Bytes")->required()->transform(SizeArg())->type_name("SIZE");
  table.Add(cmd, [a](Context& ctx) {
    ctx.out() << FormatAddress(ctx.client().Malloc(a->pid, a->size)) << "\n";
  });
}

void AddCalloc(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("calloc", "Allocate N zeroed elements of SIZE bytes and print the address");
  struct Args {
    uint64_t pid = 0;
    uint64_t count = 0;
    uint64_t size = 0;
  };
  auto a = std::make_shared<Args>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("N", a->count, "Number of elements")->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("SIZE", a->size, "Bytes per element")->required()->transform(SizeArg())->type_name("SIZE");
  table.Add(cmd, [a](Context& ctx) {
    ctx.out() << FormatAddress(ctx.client().Calloc(a->pid, a->count, a->size)) << "\n";
  });
}

void AddRealloc(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("realloc", "Resize the block at ADDR to SIZE bytes and print its address");
  struct Args {
    uint64_t pid = 0;
    uint64_t addr = 0;
    uint64_t size = 0;
  };
  auto a = std::make_shared<Args>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("ADDR", a->addr, "A block from malloc (0: allocate)")
      ->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("SIZE", a->size, "New size (0: free)")->required()->transform(SizeArg())->type_name("SIZE");
  table.Add(cmd, [a](Context& ctx) {
    ctx.out() << FormatAddress(ctx.client().Realloc(a->pid, a->addr, a->size)) << "\n";
  });
}

void AddFree(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("free", "Free the block at ADDR");
  struct Args {
    uint64_t pid = 0;
    uint64_t addr = 0;
  };
  auto a = std::make_shared<Args>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("ADDR", a->addr, "A block from malloc")->required()->transform(NumberArg())->type_name("NUMBER");
  table.Add(cmd, [a](Context& ctx) { ctx.client().Free(a->pid, a->addr); });
}

}  // namespace

void AddHeapCommands(CLI::App& app, CommandTable& table) {
  AddBrk(app, table);
  AddSbrk(app, table);
  AddMalloc(app, table);
  AddCalloc(app, table);
  AddRealloc(app, table);
  AddFree(app, table);
}

}  // namespace memserver::memctl
