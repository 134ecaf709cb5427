#include "client/memctl/commands.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "client/memctl/parse.h"

namespace memserver::memctl {

client::Client& Context::client() {
  if (!client_) {
    client::ClientOptions options;
    options.deadline = std::chrono::milliseconds(std::llround(options_.timeout_seconds * 1000));
    options.connection =
        client::ResolveConnection(options_.connection, [](const char* name) { return std::getenv(name); });
    client_ = std::make_unique<client::Client>(options_.server, options);
  }
  return *client_;
}

const Action* CommandTable::Find(const CLI::App* command) const {
  for (const auto& [app, action] : entries_) {
    if (app == command) return &action;
  }
  return nullptr;
}

const Action* CommandTable::FindParsed(const CLI::App& app) const {
  std::vector<CLI::App*> parsed = app.get_subcommands();
  if (parsed.empty()) return nullptr;
  const CLI::App* command = parsed.front();
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  return Find(command);
}

void AddAllCommands(CLI::App& app, GlobalOptions& options, CommandTable& table) {
  app.require_subcommand(1);
  app.add_option("--server,-s", options.server, "Server address host:port")
      ->envname("MEMSERVER_ADDRESS")
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_seconds, "Deadline of each call, in seconds")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  client::AddConnectionFlags(app, &options.connection, /*as_tenant=*/true);
  app.footer("Numbers: decimal or 0x hex. Lengths also take units: 4096, 4KiB, 1MiB.");
  AddProcessCommands(app, table);
  AddMemoryCommands(app, table);
  AddUsageCommands(app, table);
  AddAdviceCommands(app, table);
  AddHeapCommands(app, table);
  AddIoCommands(app, table);
  AddFileCommands(app, table);
  AddDurabilityCommands(app, table);
}

namespace {

template <class Parse>
CLI::Validator DecimalTransform(Parse parse, std::string description, std::string what) {
  return CLI::Validator(
      [parse, what](std::string& text) -> std::string {
        auto value = parse(text);
        if (!value) return "'" + text + "' is not " + what;
        text = std::to_string(*value);
        return "";
      },
      std::move(description), "");
}

}  // namespace

CLI::Validator NumberArg() {
  return DecimalTransform(ParseNumber, "", "a number (decimal or 0x hex)");
}

CLI::Validator SizeArg() {
  return DecimalTransform(ParseSize, "",
                          "a size (decimal or 0x hex; units B, KiB, MiB, GiB, TiB allowed)");
}

CLI::Validator ProtArg() {
  return DecimalTransform(ParseProt, "", "a protection (none, or letters r, w, x: rw, r, rwx)");
}

CLI::Validator SignedSizeArg() {
  return DecimalTransform(ParseSignedSize, "",
                          "a signed size (-4096, +1MiB, -0x1000; units B, KiB, MiB, GiB, TiB)");
}

CLI::Validator LimitArg() {
  return DecimalTransform(ParseLimit, "", "a limit ('unlimited', or a size: 8MiB, 4096)");
}

CLI::Validator AdviceArg() {
  auto parse = [](std::string_view text) -> std::optional<int> {
    std::optional<client::Advice> advice = ParseAdvice(text);
    if (!advice) return std::nullopt;
    return static_cast<int>(*advice);
  };
  return DecimalTransform(parse, "",
                          "an advice (normal, random, sequential, willneed, dontneed, free, "
                          "dontfork, dofork, wipeonfork, keeponfork)");
}

CLI::Option* AddPidArg(CLI::App* command, uint64_t& pid) {
  return command->add_option("PID", pid, "Process id")
      ->required()
      ->transform(NumberArg())
      ->type_name("NUMBER");
}

}  // namespace memserver::memctl
