// memserverd's configuration: every option can be given as a command-line
// flag, an environment variable and a key of a config file.
//
//   memserverd --memory 1GiB --data-dir /data
//   MEMSERVER_MEMORY=1GiB MEMSERVER_DATA_DIR=/data memserverd
//   memserverd --config /etc/memserver/memserverd.toml   # memory = "1GiB"
//
// Names: flag --metrics-listen, variable MEMSERVER_METRICS_LISTEN (the long
// name in capitals, '-' as '_'), config key metrics-listen. The config file
// is TOML or INI: `key = value` lines, strings quoted or not, '#' comments;
// an unknown key is an error (a typo must not pass silently). Its path comes
// from --config or MEMSERVER_CONFIG.
//
// Precedence, per option: command line > environment > config file > the
// built-in default. Every value, from wherever it came, passes the same
// checks (a bad MEMSERVER_MEMORY is refused like a bad --memory).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "server/daemon/logging.h"
#include "server/service/server.h"

namespace memserver::daemon {

// The largest --readahead-pages: the engine's bound (4 MiB with 4 KiB pages,
// read in one RocksDB MultiGet and held in frames taken from the pool at
// once).
inline constexpr uint32_t kMaxReadaheadPages = EngineOptions::kMaxReadaheadPages;

struct DaemonConfig {
  // Everything Server::Start takes. memserverd's --metrics-listen default is
  // 127.0.0.1:9464 (ServerOptions' own default is "", no metrics server).
  service::ServerOptions server;
  // Write the bound gRPC port here once listening. Default: none.
  std::string port_file;
  // spdlog level name. Default: info.
  std::string log_level = "info";
  // Default: text.
  LogFormat log_format = LogFormat::kText;
  // The config file read, if any.
  std::string config_file;
  // The tenants file (server/daemon/tenants_file.h), read at start and on
  // SIGHUP. Default: none (no authentication, loopback only).
  std::string tenants_file;
};

// Where an option's effective value came from.
enum class Source { kDefault, kConfigFile, kEnvironment, kCommandLine };
const char* SourceName(Source source);  // "default", "config", "env", "flag"

struct EffectiveOption {
  std::string name;   // the long flag name, without dashes: "data-dir"
  std::string value;  // as given (or the default's text)
  Source source = Source::kDefault;
};

// Reads an environment variable: its value, or nullptr when unset.
using GetEnv = std::function<const char*(const char* name)>;

// The environment variable of the long flag `name` ("data-dir" ->
// "MEMSERVER_DATA_DIR").
std::string EnvName(const std::string& name);

struct ParseOutcome {
  bool run = false;   // false: exit with exit_code, having printed `output`
  int exit_code = 0;  // 0 after --help, 2 for an invalid option
  std::string output;  // help text (stdout) or the error (stderr)
};

// Parses argv, the environment (through `getenv`) and the config file into
// *config, and lists every option's effective value and source in
// *effective (in --help order). Thread-compatible; pure apart from reading
// the config file.
ParseOutcome ParseDaemonConfig(int argc, const char* const* argv, const GetEnv& getenv,
                               DaemonConfig* config, std::vector<EffectiveOption>* effective);

}  // namespace memserver::daemon
