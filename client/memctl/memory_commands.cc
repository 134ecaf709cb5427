// memctl's mapping commands: mmap, munmap, mprotect, pmap.
#include <fmt/format.h>

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
};

void AddMmap(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("mmap", "Map anonymous memory into a process and print its address");
  auto a = std::make_shared<MmapArgs>();
  cmd->add_option("PID", a->pid, "Process id")->required()->transform(NumberArg())->type_name("NUMBER");
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
  table.Add(cmd, [a](Context& ctx) {
    uint32_t flags = client::kMapAnonymous | (a->shared ? client::kMapShared : client::kMapPrivate);
    if (a->fixed) flags |= client::kMapFixed;
    if (a->fixed_noreplace) flags |= client::kMapFixedNoreplace;
    uint64_t addr = ctx.client().Mmap(a->pid, a->addr, a->length, a->prot, flags);
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
  cmd->add_option("PID", r.pid, "Process id")->required()->transform(NumberArg())->type_name("NUMBER");
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

void AddPmap(CLI::App& app, CommandTable& table) {
  auto* cmd = app.add_subcommand("pmap", "List the mappings of a process");
  auto pid = std::make_shared<uint64_t>(0);
  cmd->add_option("PID", *pid, "Process id")->required()->transform(NumberArg())->type_name("NUMBER");
  table.Add(cmd, [pid](Context& ctx) {
    client::Stats stats = ctx.client().GetStats(*pid);
    uint64_t page_size = stats.global.page_size;
    std::vector<client::Mapping> mappings = ctx.client().ListMappings(*pid);
    ctx.out() << fmt::format("{}:   {}\n", *pid, Printable(stats.process.name));
    Table t({"START", "END", "SIZE", "PROT", "FLAGS", "RSS", "SWAP"},
            {false, false, true, false, false, true, true});
    uint64_t size = 0, resident = 0, swapped = 0;
    for (const client::Mapping& m : mappings) {
      t.AddRow({fmt::format("{:016x}", m.start), fmt::format("{:016x}", m.end),
                FormatSize(m.end - m.start), FormatProt(m.prot), FormatMapFlags(m.flags),
                FormatSize(m.resident_pages * page_size), FormatSize(m.swapped_pages * page_size)});
      size += m.end - m.start;
      resident += m.resident_pages;
      swapped += m.swapped_pages;
    }
    t.AddRow({"total", "", FormatSize(size), "", "", FormatSize(resident * page_size),
              FormatSize(swapped * page_size)});
    ctx.out() << t.ToString();
  });
}

}  // namespace

void AddMemoryCommands(CLI::App& app, CommandTable& table) {
  AddMmap(app, table);
  AddMunmap(app, table);
  AddMprotect(app, table);
  AddPmap(app, table);
}

}  // namespace memserver::memctl
