// memctl's command plumbing: global options, the per-run context, the table
// of subcommands and their actions, and argument transforms for CLI11.
//
// Parsing and running are separate: each Add*Commands() declares its
// subcommands on the CLI11 app and registers an action per subcommand; main
// parses the command line, then runs the action of the subcommand given (the
// innermost one for a command group such as `file put`).
// Actions report failures by throwing (client::Error from the server,
// std::runtime_error for local problems such as an unreadable file).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/lib/client.h"

namespace memserver::memctl {

struct GlobalOptions {
  // Server address; --server, else $MEMSERVER_ADDRESS. Default: 127.0.0.1:7070.
  std::string server = "127.0.0.1:7070";
  // Deadline of each RPC in seconds; --timeout. Default: 30.
  double timeout_seconds = 30;
  // TLS, token and --as-tenant (client/lib/connection.h).
  client::ConnectionFlags connection;
};

// What an action runs with. The connection is made on first use of client().
class Context {
 public:
  // Borrows `options` and `out`, which outlive the context.
  Context(const GlobalOptions& options, std::ostream& out) : options_(options), out_(out) {}
  client::Client& client();
  std::ostream& out() { return out_; }
  const GlobalOptions& options() const { return options_; }

 private:
  const GlobalOptions& options_;
  std::ostream& out_;
  std::unique_ptr<client::Client> client_;
};

using Action = std::function<void(Context&)>;

class CommandTable {
 public:
  // Registers `action` to run when `command` (a subcommand of the app) is given.
  void Add(CLI::App* command, Action action) { entries_.emplace_back(command, std::move(action)); }
  // The action registered for `command`, or nullptr.
  const Action* Find(const CLI::App* command) const;
  // The action of the subcommand `app` parsed: for a group (`file put`) the
  // innermost one. nullptr when none was parsed or it has no action.
  const Action* FindParsed(const CLI::App& app) const;

 private:
  std::vector<std::pair<const CLI::App*, Action>> entries_;
};

// CLI11 transforms: each rewrites a valid argument into its decimal value (so
// the option binds to an integer) and rejects anything else as a usage error.
CLI::Validator NumberArg();  // see ParseNumber
CLI::Validator SizeArg();    // see ParseSize
CLI::Validator ProtArg();    // see ParseProt
CLI::Validator SignedSizeArg();  // see ParseSignedSize
CLI::Validator LimitArg();   // see ParseLimit
CLI::Validator AdviceArg();  // see ParseAdvice; rewrites to the advice's number

// Adds the required positional PID (decimal or hex) bound to `pid`.
CLI::Option* AddPidArg(CLI::App* command, uint64_t& pid);

// Declares the global options (into `options`) and every subcommand of
// memctl on `app`, registering their actions in `table`.
void AddAllCommands(CLI::App& app, GlobalOptions& options, CommandTable& table);

// create, exit, fork, exec, stat, ps, tenants, limits.
void AddProcessCommands(CLI::App& app, CommandTable& table);
// mmap, munmap, mprotect, mremap.
void AddMemoryCommands(CLI::App& app, CommandTable& table);
// pmap, smaps.
void AddUsageCommands(CLI::App& app, CommandTable& table);
// mlock, munlock, mlockall, munlockall, madvise, msync.
void AddAdviceCommands(CLI::App& app, CommandTable& table);
// brk, sbrk, malloc, calloc, realloc, free.
void AddHeapCommands(CLI::App& app, CommandTable& table);
// read, write.
void AddIoCommands(CLI::App& app, CommandTable& table);
// file put, get, cat, ls, stat, rm, truncate, create.
void AddFileCommands(CLI::App& app, CommandTable& table);
// durability_commands.cc: snapshot, recovery.
void AddDurabilityCommands(CLI::App& app, CommandTable& table);

}  // namespace memserver::memctl
