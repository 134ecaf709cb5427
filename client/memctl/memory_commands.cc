// memctl's mapping commands: mmap, munmap, mprotect, mremap.
#include <ostream>

#include "client/memctl/commands.h"
#include "client/memctl/format.h"

namespace memserver::memctl {

namespace {

struct MmapArgs {
  uint64_t pid = 0;
  uint64_t length = 0;
  uint64_t addr = 0;
  uint32_t prot = client::kProtRead | client::kProtWrite;
  bool shared = false;
  bool fixed = false;
  bool fixed_noreplace = false;
  std::string file;
  uint64_t offset = 0;
  bool populate = false;
  bool locked = false;
  CLI::Option* file_option = nullptr;
};

void AddMmap(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "mmap", "Map anonymous memory, or a file of the file store, and print its address");
  auto a = std::make_shared<MmapArgs>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("LENGTH", a->length, "Bytes, rounded up to pages (4096, 4KiB, 1MiB)")
      ->required()
      ->transform(SizeArg())->type_name("SIZE");
  CLI::Option* addr =
      cmd->add_option("--addr", a->addr, "Address hint, or the exact address with --fixed*")
          ->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("--prot", a->prot, "Protection: rw (default), r, rwx, none, ...")
      ->transform(ProtArg())->type_name("PROT");
  cmd->add_flag("--shared", a->shared, "MAP_SHARED instead of MAP_PRIVATE");
  CLI::Option* fixed =
      cmd->add_flag("--fixed", a->fixed, "MAP_FIXED: map exactly at --addr, replacing what is there");
  CLI::Option* noreplace = cmd->add_flag("--fixed-noreplace", a->fixed_noreplace,
                                         "MAP_FIXED_NOREPLACE: map exactly at --addr, fail if taken");
  fixed->needs(addr)->excludes(noreplace);
  noreplace->needs(addr);
  a->file_option = cmd->add_option("--file", a->file, "Map this file of the file store (not anonymous)")
                       ->type_name("PATH");
  cmd->add_option("--offset", a->offset, "Page-aligned byte offset in the --file")
      ->transform(SizeArg())
      ->type_name("SIZE")
      ->needs(a->file_option);
  cmd->add_flag("--populate", a->populate, "MAP_POPULATE: fault every page in before returning");
  cmd->add_flag("--locked", a->locked, "MAP_LOCKED: lock the pages in memory, as mlock");
  table.Add(cmd, [a](Context& ctx) {
    client::MmapArgs args;
    args.addr = a->addr;
    args.length = a->length;
    args.prot = a->prot;
    args.flags = a->shared ? client::kMapShared : client::kMapPrivate;
    if (a->file_option->count() > 0) {
      args.path = a->file;
      args.offset = a->offset;
    } else {
      args.flags |= client::kMapAnonymous;
    }
    if (a->fixed) args.flags |= client::kMapFixed;
    if (a->fixed_noreplace) args.flags |= client::kMapFixedNoreplace;
    if (a->populate) args.flags |= client::kMapPopulate;
    if (a->locked) args.flags |= client::kMapLocked;
    uint64_t addr = ctx.client().Mmap(a->pid, args);
    ctx.out() << FormatAddress(addr) << "\n";
  });
}

struct RangeArgs {
  uint64_t pid = 0;
  uint64_t addr = 0;
  uint64_t length = 0;
  uint32_t prot = 0;
};

void AddRangeOptions(CLI::App* cmd, RangeArgs& r) {
  AddPidArg(cmd, r.pid);
  cmd->add_option("ADDR", r.addr, "Page-aligned start address")->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("LENGTH", r.length, "Bytes (4096, 4KiB, 1MiB)")->required()->transform(SizeArg())->type_name("SIZE");
}

void AddMunmap(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("munmap", "Unmap the pages of [ADDR, ADDR+LENGTH)");
  auto r = std::make_shared<RangeArgs>();
  AddRangeOptions(cmd, *r);
  table.Add(cmd, [r](Context& ctx) { ctx.client().Munmap(r->pid, r->addr, r->length); });
}

void AddMprotect(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("mprotect", "Set the protection of [ADDR, ADDR+LENGTH)");
  auto r = std::make_shared<RangeArgs>();
  AddRangeOptions(cmd, *r);
  cmd->add_option("PROT", r->prot, "Protection: none, r, rw, rx, rwx, ...")
      ->required()
      ->transform(ProtArg())->type_name("PROT");
  table.Add(cmd, [r](Context& ctx) { ctx.client().Mprotect(r->pid, r->addr, r->length, r->prot); });
}

struct MremapArgs {
  uint64_t pid = 0;
  uint64_t addr = 0;
  uint64_t old_size = 0;
  uint64_t new_size = 0;
  bool may_move = false;
  uint64_t new_addr = 0;
  CLI::Option* fixed = nullptr;
};

void AddMremap(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand(
      "mremap", "Resize the mapping at ADDR from OLD to NEW bytes and print its address");
  auto a = std::make_shared<MremapArgs>();
  AddPidArg(cmd, a->pid);
  cmd->add_option("ADDR", a->addr, "Page-aligned start of the mapping")
      ->required()->transform(NumberArg())->type_name("NUMBER");
  cmd->add_option("OLD", a->old_size, "Current size in bytes")
      ->required()->transform(SizeArg())->type_name("SIZE");
  cmd->add_option("NEW", a->new_size, "New size in bytes")
      ->required()->transform(SizeArg())->type_name("SIZE");
  cmd->add_flag("--maymove", a->may_move, "MREMAP_MAYMOVE: move the mapping if it cannot grow in place");
  a->fixed = cmd->add_option("--fixed", a->new_addr,
                             "MREMAP_FIXED (implies --maymove): move it to exactly this address")
                 ->transform(NumberArg())->type_name("ADDR");
  table.Add(cmd, [a](Context& ctx) {
    uint32_t flags = a->may_move ? client::kMremapMayMove : 0;
    if (a->fixed->count() > 0) flags |= client::kMremapMayMove | client::kMremapFixed;
    uint64_t addr = ctx.client().Mremap(a->pid, a->addr, a->old_size, a->new_size, flags, a->new_addr);
    ctx.out() << FormatAddress(addr) << "\n";
  });
}

}  // namespace

void AddMemoryCommands(CLI::App& app, CommandTable& table) {
  AddMmap(app, table);
  AddMunmap(app, table);
  AddMprotect(app, table);
  AddMremap(app, table);
}

}  // namespace memserver::memctl
