// memctl: a command-line client of memserver. See `memctl --help`.
//
// Exit status: 0 on success, 1 when the server (or a local file) reports an
// error, 2 on a usage error. Errors go to stderr, prefixed "memctl: ".
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "client/memctl/commands.h"

namespace {

using memserver::client::Error;
using memserver::client::FaultKind;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// "segmentation fault (SEGV_MAPERR) at 0x7f0000001000".
std::string DescribeFault(const Error& e) {
  const char* what = e.fault_kind() == FaultKind::kBusError ? "bus error" : "segmentation fault";
  return fmt::format("{} ({}) at {:#x}", what, memserver::client::FaultKindName(e.fault_kind()),
                     e.fault_address());
}

int Run(int argc, char** argv) {
  memserver::memctl::GlobalOptions options;
  CLI::App app("memctl: inspect and drive the processes of a memserver", "memctl");
  memserver::memctl::CommandTable table;
  memserver::memctl::AddAllCommands(app, options, table);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, or the error and a hint
    return code == 0 ? 0 : kExitUsage;
  }

  memserver::memctl::Context context(options, std::cout);
  try {
    const memserver::memctl::Action* action = table.FindParsed(app);
    if (action == nullptr) {
      std::cerr << "memctl: no action for this command\n";
      return kExitError;
    }
    (*action)(context);
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "memctl: cannot write to standard output\n";
      return kExitError;
    }
  } catch (const Error& e) {
    if (e.is_fault()) {
      std::cerr << "memctl: " << DescribeFault(e) << "\n";
    } else {
      std::cerr << "memctl: " << e.what() << "\n";
      if (e.code() == grpc::StatusCode::UNAVAILABLE) {
        std::cerr << "memctl: is memserverd running at " << options.server << "?\n";
      }
    }
    return kExitError;
  } catch (const std::exception& e) {
    std::cerr << "memctl: " << e.what() << "\n";
    return kExitError;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
