#include "server/daemon/config.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "server/frames/replacement_policy.h"
#include "server/common/byte_size.h"
#include "server/common/duration.h"

namespace memserver::daemon {

namespace {


constexpr int kExitBadOptions = 2;
constexpr const char* kConfigOption = "config";

// Values that need converting after every source has been applied.
struct RawValues {
  std::string memory = "256MiB";
  std::string max_io = "4MiB";
  std::string snapshot_interval = "60s";
  std::string disk_reserve = "64MiB";
  std::string store_write_buffer = "64MiB";
  std::string log_format = "text";
};

// A CLI11 check that accepts what ParseByteSize accepts.
CLI::Validator ByteSizeValidator() {
  return CLI::Validator(
      [](std::string& text) {
        uint64_t bytes = 0;
        Status s = ParseByteSize(text, &bytes);
        return s.ok() ? std::string() : s.message();
      },
      "SIZE");
}

// A byte size in [min, max], named `what` in the message.
CLI::Validator ByteSizeRangeValidator(const char* what, uint64_t min, uint64_t max) {
  return CLI::Validator(
      [what, min, max](std::string& text) {
        uint64_t bytes = 0;
        Status s = ParseByteSize(text, &bytes);
        if (!s.ok()) return s.message();
        if (bytes < min || bytes > max) {
          return fmt::format("{} must be from {} to {} bytes (1MiB to 1GiB), got '{}'", what, min, max, text);
        }
        return std::string();
      },
      "SIZE");
}

// --readahead-pages: a whole number in [0, kMaxReadaheadPages]. Checked on
// the text, so "-1", "32x" and "1e9" get this message rather than CLI11's
// "Could not convert".
CLI::Validator ReadaheadPagesValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 10 &&
                            std::all_of(text.begin(), text.end(), [](char c) {
                              return std::isdigit(static_cast<unsigned char>(c));
                            });
        if (digits && std::stoull(text) <= kMaxReadaheadPages) return std::string();
        return fmt::format(
            "readahead pages must be a whole number from 0 (readahead off) to {}, got '{}'",
            kMaxReadaheadPages, text);
      },
      "PAGES");
}

// A duration: "60s", "1500ms", "5m", "0" or "0s" (off).
CLI::Validator DurationValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text == "0" || ParseDurationMs(text)) return std::string();
        return fmt::format("'{}' is not a duration (60s, 1500ms, 5m, 2h, 1d; 0 turns it off)", text);
      },
      "DURATION");
}

std::string Described(const std::string& name, const std::string& text) {
  return fmt::format("{} [env {}]", text, EnvName(name));
}

// Adds every option (bound to *config and *raw) in --help order, and
// returns them by long name. With `config_file`, --config is CLI11's config
// option (the file is read during parse); without, a plain string.
std::vector<std::pair<std::string, CLI::Option*>> AddOptions(CLI::App& app, DaemonConfig* config,
                                                             RawValues* raw, bool config_file) {
  std::vector<std::pair<std::string, CLI::Option*>> options;
  auto add = [&](const std::string& name, auto& value, const std::string& text) {
    CLI::Option* opt = app.add_option("--" + name, value, Described(name, text));
    options.emplace_back(name, opt);
    return opt;
  };
  service::ServerOptions& server = config->server;
  add("listen", server.listen_address, "gRPC host:port to listen on (port 0: any free port)")
      ->capture_default_str();
  add("metrics-listen", server.metrics_listen_address,
      "host:port of the Prometheus /metrics HTTP endpoint (port 0: any free port; empty: off)")
      ->capture_default_str();
  add("memory", raw->memory, "RAM of the frame pool (B, KiB, MiB, GiB or K, M, G)")
      ->check(ByteSizeValidator())
      ->capture_default_str();
  add("page-size", server.engine.page_size, "page size in bytes, a power of two in [4096, 1MiB]")
      ->capture_default_str();
  add("data-dir", server.data_dir, "directory of the RocksDB backing store")->capture_default_str();
  add("policy", server.engine.policy, "page replacement policy")
      ->check(CLI::IsMember(ReplacementPolicyNames()))
      ->capture_default_str();
  add("max-io", raw->max_io, "largest byte count of one Read or Write")
      ->check(ByteSizeValidator())
      ->capture_default_str();
  add("address-bits", server.engine.address_bits,
      "width of each process's virtual address space, in [32, 56]")
      ->capture_default_str();
  add("readahead-pages", server.engine.readahead_max_pages,
      fmt::format("most pages one sequential run of major faults reads ahead in one batch, in "
                  "[0, {}] (0: off)",
                  kMaxReadaheadPages))
      ->check(ReadaheadPagesValidator())
      ->capture_default_str();
  add("snapshot-interval", raw->snapshot_interval,
      "take a consistent snapshot of every process this often, in the background; a crash keeps the latest "
      "one plus every range msync'd with MS_SYNC after it (0: only at a graceful stop)")
      ->check(DurationValidator())
      ->capture_default_str();
  add("disk-reserve", raw->disk_reserve,
      "free space kept on the data directory's filesystem: past it, writes fail with ENOSPC instead of "
      "letting RocksDB fill the disk (0: none)")
      ->check(ByteSizeValidator())
      ->capture_default_str();
  add("store-write-buffer", raw->store_write_buffer,
      "RocksDB memtable size per column family; a full disk recovers once this much is free, so keep "
      "--disk-reserve at least as large")
      ->check(ByteSizeRangeValidator("the store's write buffer", 1ull << 20, 1ull << 30))
      ->capture_default_str();
  add("tls-cert", server.tls_cert_file, "PEM certificate chain of the server: TLS on the gRPC and metrics ports")
      ->type_name("FILE");
  add("tls-key", server.tls_key_file, "PEM private key of --tls-cert")->type_name("FILE");
  add("tls-client-ca", server.tls_client_ca_file,
      "PEM CA bundle: require client certificates it signed (mutual TLS)")
      ->type_name("FILE");
  add("tenants", config->tenants_file,
      "TOML file of tenants (bearer-token hashes, admin, quotas); SIGHUP reloads it")
      ->type_name("FILE");
  {
    const std::string name = "insecure";
    CLI::Option* opt = app.add_flag(
        "--" + name, server.insecure,
        Described(name, "serve a non-loopback address without TLS and tenants (anyone reaching the port "
                        "controls every process)"));
    options.emplace_back(name, opt);
  }
  add("max-calls-per-connection", server.limits.max_calls_per_connection,
      "most unary calls in flight on one client connection")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  add("max-streams-per-connection", server.limits.max_streams_per_connection,
      "most AccessStreams open on one client connection")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  add("max-streams", server.limits.max_streams, "most AccessStreams open on the whole server")
      ->check(CLI::Range(1u, 1u << 24))
      ->capture_default_str();
  add("max-files", server.engine.max_files, "most files in the file store, all tenants together")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32))
      ->capture_default_str();
  add("stream-threads", server.stream_threads,
      "threads that run AccessStream batches (0: two per core, at least 4)")
      ->check(CLI::Range(0u, 1024u))
      ->capture_default_str();
  add("port-file", config->port_file,
      "write the bound gRPC port number to FILE once listening and the start-up lines are "
      "logged (with --listen host:0)");
  add("log-level", config->log_level, "log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  add("log-format", raw->log_format, "log lines: text, or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  const std::string config_text =
      "read options from a TOML/INI file of `key = value` lines named like the long flags "
      "(memory = \"1GiB\")";
  if (config_file) {
    CLI::Option* opt = app.set_config("--" + std::string(kConfigOption), "",
                                      Described(kConfigOption, config_text));
    opt->type_name("FILE");
    options.emplace_back(kConfigOption, opt);
    app.allow_config_extras(CLI::config_extras_mode::error);
  } else {
    add(kConfigOption, config->config_file, config_text)->type_name("FILE");
  }
  app.footer(
      "Every option is also read from the environment variable named after it "
      "(MEMSERVER_ and the long name in capitals, '-' as '_': MEMSERVER_DATA_DIR) and from the "
      "config file (--config or MEMSERVER_CONFIG). Precedence: command line > environment > "
      "config file > default.");
  return options;
}

std::string Joined(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ",") + v;
  return out;
}

// The options named on the command line itself (parsed on their own, with
// no environment and no config file). Errors are left to the real parse.
std::set<std::string> NamedOnCommandLine(int argc, const char* const* argv) {
  CLI::App app;
  DaemonConfig scratch;
  RawValues raw;
  auto options = AddOptions(app, &scratch, &raw, /*config_file=*/false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Error&) {
  }
  std::set<std::string> named;
  for (const auto& [name, opt] : options) {
    if (opt->count() > 0) named.insert(name);
  }
  return named;
}

ParseOutcome Fail(std::string message) {
  ParseOutcome out;
  out.exit_code = kExitBadOptions;
  out.output = std::move(message);
  return out;
}

}  // namespace

const char* SourceName(Source source) {
  switch (source) {
    case Source::kDefault: return "default";
    case Source::kConfigFile: return "config";
    case Source::kEnvironment: return "env";
    case Source::kCommandLine: return "flag";
  }
  return "?";
}

std::string EnvName(const std::string& name) {
  std::string env = "MEMSERVER_";
  for (char c : name) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return env;
}

ParseOutcome ParseDaemonConfig(int argc, const char* const* argv, const GetEnv& getenv,
                               DaemonConfig* config, std::vector<EffectiveOption>* effective) {
  config->server.metrics_listen_address = "127.0.0.1:9464";
  const std::set<std::string> named = NamedOnCommandLine(argc, argv);

  // MEMSERVER_CONFIG names the file unless --config does: passed on as
  // --config, so a missing file is an error either way.
  std::vector<const char*> args(argv, argv + argc);
  const std::string config_env = EnvName(kConfigOption);
  const char* config_path = getenv(config_env.c_str());
  if (named.count(kConfigOption) == 0 && config_path != nullptr && *config_path != '\0') {
    args.insert(args.begin() + 1, {"--config", config_path});
  }

  CLI::App app("memserverd: a gRPC server hosting the virtual memory of remote processes",
               "memserverd");
  RawValues raw;
  auto options = AddOptions(app, config, &raw, /*config_file=*/true);
  std::ostringstream out, err;
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    ParseOutcome outcome;
    outcome.exit_code = app.exit(e, out, err) == 0 ? 0 : kExitBadOptions;
    outcome.output = out.str() + err.str();
    return outcome;
  }

  // The environment overrides the config file, not the command line.
  std::set<std::string> from_env;
  for (const auto& [name, opt] : options) {
    if (name == kConfigOption || named.count(name) > 0) continue;
    const std::string var = EnvName(name);
    const char* value = getenv(var.c_str());
    if (value == nullptr) continue;
    try {
      opt->clear();
      opt->add_result(value);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return Fail(fmt::format("{}={}: {}\nRun with --help for more information.\n", var, value,
                              e.what()));
    }
    from_env.insert(name);
  }

  // Checked by the validators above.
  ParseByteSize(raw.memory, &config->server.engine.memory_bytes);
  ParseByteSize(raw.max_io, &config->server.engine.max_io_bytes);
  ParseByteSize(raw.disk_reserve, &config->server.disk_reserve_bytes);
  ParseByteSize(raw.store_write_buffer, &config->server.store_write_buffer_bytes);
  config->server.engine.snapshot_interval_ms =
      raw.snapshot_interval == "0" ? 0 : ParseDurationMs(raw.snapshot_interval).value_or(0);
  ParseLogFormat(raw.log_format, &config->log_format);

  effective->clear();
  for (const auto& [name, opt] : options) {
    EffectiveOption e;
    e.name = name;
    if (from_env.count(name) > 0) {
      e.source = Source::kEnvironment;
    } else if (named.count(name) > 0) {
      e.source = Source::kCommandLine;
    } else if (opt->count() > 0) {
      e.source = name == kConfigOption ? Source::kEnvironment : Source::kConfigFile;
    }
    e.value = e.source == Source::kDefault ? opt->get_default_str() : Joined(opt->results());
    if (name == kConfigOption) config->config_file = e.value;
    effective->push_back(std::move(e));
  }
  ParseOutcome outcome;
  outcome.run = true;
  return outcome;
}

}  // namespace memserver::daemon
