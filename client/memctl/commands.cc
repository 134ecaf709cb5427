#include "client/memctl/commands.h"

#include <cmath>

#include "client/memctl/parse.h"

namespace memserver::memctl {

client::Client& Context::client() {
  if (!client_) {
    client::ClientOptions options;
    options.deadline = std::chrono::milliseconds(std::llround(options_.timeout_seconds * 1000));
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

}  // namespace memserver::memctl
