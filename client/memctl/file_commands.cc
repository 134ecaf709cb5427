// memctl's file store commands, the `file` group: put, get, cat, ls, stat,
// rm, truncate, create.
#include <fmt/format.h>

#include <ostream>

#include "client/memctl/commands.h"
#include "client/memctl/format.h"

namespace memserver::memctl {

namespace {

constexpr size_t kMaxPathChars = 4096;  // the server's bound on paths

void AddPut(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand("put", "Copy the local file LOCAL to REMOTE in the file store");
  struct Args {
    std::string local, remote;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("LOCAL", a->local, "Local file")->required()->type_name("LOCAL");
  cmd->add_option("REMOTE", a->remote, "Absolute path in the file store (/bin/true)")
      ->required()
      ->type_name("REMOTE");
  table.Add(cmd, [a](Context& ctx) { ctx.client().UploadFile(a->local, a->remote); });
}

void AddGet(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand("get", "Copy REMOTE from the file store to the local file LOCAL");
  struct Args {
    std::string remote, local;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("REMOTE", a->remote, "Path in the file store")->required()->type_name("REMOTE");
  cmd->add_option("LOCAL", a->local, "Local file, created or truncated")->required()->type_name("LOCAL");
  table.Add(cmd, [a](Context& ctx) { ctx.client().DownloadFile(a->remote, a->local); });
}

void AddCat(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand("cat", "Write the content of REMOTE to standard output");
  auto path = std::make_shared<std::string>();
  cmd->add_option("REMOTE", *path, "Path in the file store")->required()->type_name("REMOTE");
  table.Add(cmd, [path](Context& ctx) {
    constexpr uint64_t kChunk = client::Client::kFileChunkBytes;
    for (uint64_t offset = 0;;) {
      std::string data = ctx.client().ReadFile(*path, offset, kChunk);
      ctx.out().write(data.data(), static_cast<std::streamsize>(data.size()));
      offset += data.size();
      if (data.size() < kChunk) break;
    }
  });
}

void PrintFiles(std::ostream& out, const std::vector<client::FileInfo>& files, bool owners = false) {
  std::vector<std::string> head = {"INODE", "SIZE", "CACHED", "PATH"};
  std::vector<bool> right = {true, true, true, false};
  if (owners) {
    head.insert(head.begin() + 3, "OWNER");
    right.insert(right.begin() + 3, false);
  }
  Table t(head, right);
  for (const client::FileInfo& f : files) {
    std::vector<std::string> row = {std::to_string(f.inode), std::to_string(f.size), std::to_string(f.cached_pages),
                                    Printable(f.path, kMaxPathChars)};
    if (owners) row.insert(row.begin() + 3, f.owner.empty() ? "-" : Printable(f.owner, 64));
    t.AddRow(row);
  }
  out << t.ToString();
}

void AddLs(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand(
      "ls", "List the files whose path starts with PREFIX (size in bytes, cached in pages)");
  auto prefix = std::make_shared<std::string>();
  cmd->add_option("PREFIX", *prefix, "Path prefix (default: every file)")->type_name("PREFIX");
  auto all = std::make_shared<bool>(false);
  cmd->add_flag("--all-tenants,-A", *all, "every tenant's files, with an OWNER column (admins only)");
  table.Add(cmd, [prefix, all](Context& ctx) {
    PrintFiles(ctx.out(), ctx.client().ListFiles(*prefix, *all), *all);
  });
}

void AddStat(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand("stat", "Print a file's inode, size and cached pages");
  auto path = std::make_shared<std::string>();
  cmd->add_option("PATH", *path, "Path in the file store")->required()->type_name("PATH");
  table.Add(cmd, [path](Context& ctx) {
    client::FileInfo f = ctx.client().StatFile(*path);
    Table t({"file", Printable(f.path, kMaxPathChars)}, {});
    t.AddRow({"inode", std::to_string(f.inode)});
    t.AddRow({"size", fmt::format("{} ({} bytes)", FormatSize(f.size), f.size)});
    t.AddRow({"cached", fmt::format("{} pages", f.cached_pages)});
    ctx.out() << t.ToString();
  });
}

void AddRm(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand("rm", "Delete a file");
  auto path = std::make_shared<std::string>();
  cmd->add_option("PATH", *path, "Path in the file store")->required()->type_name("PATH");
  table.Add(cmd, [path](Context& ctx) { ctx.client().DeleteFile(*path); });
}

void AddTruncate(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand("truncate", "Set a file's size: cut, or extend with zeros");
  struct Args {
    std::string path;
    uint64_t size = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("PATH", a->path, "Path in the file store")->required()->type_name("PATH");
  cmd->add_option("SIZE", a->size, "New size in bytes")->required()->transform(SizeArg())->type_name("SIZE");
  table.Add(cmd, [a](Context& ctx) { ctx.client().TruncateFile(a->path, a->size); });
}

void AddCreate(CLI::App& group, CommandTable& table) {
  auto* cmd = group.add_subcommand("create", "Create an empty file (an existing one is an error)");
  struct Args {
    std::string path;
    bool truncate = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("PATH", a->path, "Absolute path in the file store")->required()->type_name("PATH");
  cmd->add_flag("--truncate", a->truncate, "Empty an existing file instead of failing");
  table.Add(cmd, [a](Context& ctx) { ctx.client().CreateFile(a->path, a->truncate); });
}

}  // namespace

void AddFileCommands(CLI::App& app, CommandTable& table) {
  auto* group = app.add_subcommand("file", "The server's file store: put, get, cat, ls, stat, rm, truncate, create");
  group->require_subcommand(1);
  AddPut(*group, table);
  AddGet(*group, table);
  AddCat(*group, table);
  AddLs(*group, table);
  AddStat(*group, table);
  AddRm(*group, table);
  AddTruncate(*group, table);
  AddCreate(*group, table);
}

}  // namespace memserver::memctl
