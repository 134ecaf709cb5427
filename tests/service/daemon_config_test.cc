// memserverd's configuration sources (server/daemon/config.h): flags,
// MEMSERVER_* environment variables, a TOML/INI config file, their
// precedence and their errors; the addresses of its "listening" line; and
// the JSON quoting of its log lines.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "server/daemon/config.h"
#include "server/daemon/listen_address.h"
#include "server/daemon/logging.h"
#include "tests/service/service_fixture.h"

namespace memserver::daemon {
namespace {

class DaemonConfigTest : public ::testing::Test {
 protected:
  // Parses `args` (after the program name) with exactly `env_` as the
  // environment.
  ParseOutcome Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "memserverd");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    config_ = DaemonConfig();
    return ParseDaemonConfig(
        static_cast<int>(argv.size()), argv.data(),
        [this](const char* name) -> const char* {
          auto it = env_.find(name);
          return it == env_.end() ? nullptr : it->second.c_str();
        },
        &config_, &effective_);
  }
  std::string WriteConfig(const std::string& text) {
    const std::string path = dir_.path() + "/memserverd.toml";
    std::ofstream(path) << text;
    return path;
  }
  const EffectiveOption& Effective(const std::string& name) {
    for (const EffectiveOption& e : effective_) {
      if (e.name == name) return e;
    }
    ADD_FAILURE() << "no option " << name;
    static EffectiveOption none;
    return none;
  }

  service::TempDir dir_;
  std::map<std::string, std::string> env_;
  DaemonConfig config_;
  std::vector<EffectiveOption> effective_;
};

TEST_F(DaemonConfigTest, DefaultsWhenNothingIsGiven) {
  ParseOutcome out = Parse({});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.listen_address, "127.0.0.1:7070");
  EXPECT_EQ(config_.server.metrics_listen_address, "127.0.0.1:9464");
  EXPECT_EQ(config_.server.engine.memory_bytes, 256ull << 20);
  EXPECT_EQ(config_.server.engine.max_io_bytes, 4ull << 20);
  EXPECT_EQ(config_.server.data_dir, "./memserver-data");
  EXPECT_EQ(config_.server.engine.policy, "clock");
  EXPECT_EQ(config_.log_level, "info");
  EXPECT_EQ(config_.log_format, LogFormat::kText);
  EXPECT_EQ(config_.server.engine.readahead_max_pages, 32u);
  EXPECT_EQ(config_.server.engine.snapshot_interval_ms, 60'000u);
  EXPECT_EQ(config_.server.disk_reserve_bytes, 64ull << 20);
  EXPECT_EQ(config_.server.store_write_buffer_bytes, 64ull << 20);
  EXPECT_EQ(effective_.size(), 26u);
  EXPECT_TRUE(config_.tenants_file.empty());
  EXPECT_TRUE(config_.server.tls_cert_file.empty());
  EXPECT_FALSE(config_.server.insecure);
  for (const EffectiveOption& e : effective_) EXPECT_EQ(e.source, Source::kDefault) << e.name;
  EXPECT_EQ(Effective("memory").value, "256MiB");
}

TEST_F(DaemonConfigTest, SnapshotIntervalTakesADurationAndZeroTurnsItOff) {
  ASSERT_TRUE(Parse({"--snapshot-interval", "5m"}).run);
  EXPECT_EQ(config_.server.engine.snapshot_interval_ms, 300'000u);
  ASSERT_TRUE(Parse({"--snapshot-interval", "0"}).run);
  EXPECT_EQ(config_.server.engine.snapshot_interval_ms, 0u);
  env_ = {{"MEMSERVER_SNAPSHOT_INTERVAL", "1500ms"}};
  ASSERT_TRUE(Parse({}).run);
  EXPECT_EQ(config_.server.engine.snapshot_interval_ms, 1500u);
  env_.clear();
  ParseOutcome bad = Parse({"--snapshot-interval", "soon"});
  EXPECT_FALSE(bad.run);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("'soon' is not a duration"), std::string::npos) << bad.output;
}

TEST_F(DaemonConfigTest, StoreWriteBufferIsASizeFromOneMiBToOneGiB) {
  ParseOutcome out = Parse({"--store-write-buffer", "4MiB"});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.store_write_buffer_bytes, 4ull << 20);
  for (const std::string& bad : {std::string("0"), std::string("512KiB"), std::string("2GiB")}) {
    out = Parse({"--store-write-buffer", bad});
    EXPECT_FALSE(out.run) << bad;
    EXPECT_EQ(out.exit_code, 2) << bad;
    EXPECT_NE(out.output.find("write buffer must be from"), std::string::npos) << bad << ": " << out.output;
  }
}

TEST_F(DaemonConfigTest, EnvironmentVariableNamesFollowTheLongFlag) {
  EXPECT_EQ(EnvName("memory"), "MEMSERVER_MEMORY");
  EXPECT_EQ(EnvName("data-dir"), "MEMSERVER_DATA_DIR");
  EXPECT_EQ(EnvName("metrics-listen"), "MEMSERVER_METRICS_LISTEN");
}

TEST_F(DaemonConfigTest, EnvironmentSetsOptions) {
  env_ = {{"MEMSERVER_MEMORY", "1GiB"},          {"MEMSERVER_DATA_DIR", "/data"},
          {"MEMSERVER_LISTEN", "0.0.0.0:7070"},  {"MEMSERVER_METRICS_LISTEN", ""},
          {"MEMSERVER_POLICY", "lru"},           {"MEMSERVER_LOG_FORMAT", "json"},
          {"MEMSERVER_PAGE_SIZE", "8192"},       {"MEMSERVER_MAX_IO", "1MiB"},
          {"UNRELATED", "x"}};
  ParseOutcome out = Parse({});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.memory_bytes, 1ull << 30);
  EXPECT_EQ(config_.server.data_dir, "/data");
  EXPECT_EQ(config_.server.listen_address, "0.0.0.0:7070");
  EXPECT_EQ(config_.server.metrics_listen_address, "");
  EXPECT_EQ(config_.server.engine.policy, "lru");
  EXPECT_EQ(config_.log_format, LogFormat::kJson);
  EXPECT_EQ(config_.server.engine.page_size, 8192u);
  EXPECT_EQ(config_.server.engine.max_io_bytes, 1ull << 20);
  EXPECT_EQ(Effective("memory").source, Source::kEnvironment);
  EXPECT_EQ(Effective("memory").value, "1GiB");
  EXPECT_EQ(Effective("metrics-listen").source, Source::kEnvironment);
  EXPECT_EQ(Effective("address-bits").source, Source::kDefault);
}

TEST_F(DaemonConfigTest, ConfigFileKeysAreTheLongFlagNames) {
  const std::string path = WriteConfig(
      "# memserverd\n"
      "memory = \"1GiB\"\n"
      "data-dir = \"/data\"\n"
      "metrics-listen = \"0.0.0.0:9464\"\n"
      "page-size = 8192\n"
      "policy = lru\n");
  ParseOutcome out = Parse({"--config", path});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.memory_bytes, 1ull << 30);
  EXPECT_EQ(config_.server.data_dir, "/data");
  EXPECT_EQ(config_.server.metrics_listen_address, "0.0.0.0:9464");
  EXPECT_EQ(config_.server.engine.page_size, 8192u);
  EXPECT_EQ(config_.server.engine.policy, "lru");
  EXPECT_EQ(config_.config_file, path);
  EXPECT_EQ(Effective("data-dir").source, Source::kConfigFile);
  EXPECT_EQ(Effective("config").source, Source::kCommandLine);
  EXPECT_EQ(Effective("listen").source, Source::kDefault);
}

TEST_F(DaemonConfigTest, EmptyStringInConfigFileTurnsMetricsOff) {
  ParseOutcome out = Parse({"--config", WriteConfig("metrics-listen = \"\"\n")});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.metrics_listen_address, "");
}

TEST_F(DaemonConfigTest, CommandLineBeatsEnvironmentBeatsConfigFileBeatsDefault) {
  const std::string path = WriteConfig(
      "memory = \"1GiB\"\n"
      "data-dir = \"/from-config\"\n"
      "policy = \"lru\"\n");
  env_ = {{"MEMSERVER_MEMORY", "2GiB"}, {"MEMSERVER_DATA_DIR", "/from-env"}};
  ParseOutcome out = Parse({"--config", path, "--memory", "3GiB"});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.memory_bytes, 3ull << 30);
  EXPECT_EQ(Effective("memory").source, Source::kCommandLine);
  EXPECT_EQ(config_.server.data_dir, "/from-env");
  EXPECT_EQ(Effective("data-dir").source, Source::kEnvironment);
  EXPECT_EQ(config_.server.engine.policy, "lru");
  EXPECT_EQ(Effective("policy").source, Source::kConfigFile);
  EXPECT_EQ(config_.server.engine.address_bits, 48u);
  EXPECT_EQ(Effective("address-bits").source, Source::kDefault);
}

TEST_F(DaemonConfigTest, ConfigFileCanBeNamedByTheEnvironment) {
  env_ = {{"MEMSERVER_CONFIG", WriteConfig("memory = 64MiB\n")}};
  ParseOutcome out = Parse({});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.memory_bytes, 64ull << 20);
  EXPECT_EQ(Effective("config").source, Source::kEnvironment);
  EXPECT_EQ(Effective("memory").source, Source::kConfigFile);
}

TEST_F(DaemonConfigTest, UnknownConfigKeyIsRejectedByName) {
  ParseOutcome out = Parse({"--config", WriteConfig("memroy = \"1GiB\"\n")});
  EXPECT_FALSE(out.run);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("memroy"), std::string::npos) << out.output;
}

TEST_F(DaemonConfigTest, MissingConfigFileIsRejected) {
  for (bool from_env : {false, true}) {
    const std::string path = dir_.path() + "/absent.toml";
    if (from_env) env_ = {{"MEMSERVER_CONFIG", path}};
    ParseOutcome out = from_env ? Parse({}) : Parse({"--config", path});
    EXPECT_FALSE(out.run);
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_NE(out.output.find("absent.toml"), std::string::npos) << out.output;
  }
}

TEST_F(DaemonConfigTest, InvalidValueFromAnySourceIsRejected) {
  env_ = {{"MEMSERVER_MEMORY", "12parsecs"}};
  ParseOutcome out = Parse({});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_FALSE(out.run);
  EXPECT_NE(out.output.find("MEMSERVER_MEMORY=12parsecs"), std::string::npos) << out.output;

  env_ = {{"MEMSERVER_POLICY", "no-such-policy"}};
  out = Parse({});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("no-such-policy"), std::string::npos) << out.output;

  env_.clear();
  out = Parse({"--config", WriteConfig("max-io = \"lots\"\n")});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("lots"), std::string::npos) << out.output;
}

TEST_F(DaemonConfigTest, BadEnvironmentValueIsIgnoredWhenTheFlagOverridesIt) {
  env_ = {{"MEMSERVER_MEMORY", "12parsecs"}};
  ParseOutcome out = Parse({"--memory", "1MiB"});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.memory_bytes, 1ull << 20);
}

TEST_F(DaemonConfigTest, HelpNamesEveryOptionItsDefaultAndVariable) {
  ParseOutcome out = Parse({"--help"});
  EXPECT_FALSE(out.run);
  EXPECT_EQ(out.exit_code, 0);
  for (const char* text :
       {"MEMSERVER_LISTEN", "MEMSERVER_METRICS_LISTEN", "MEMSERVER_MEMORY", "MEMSERVER_PAGE_SIZE",
        "MEMSERVER_DATA_DIR", "MEMSERVER_POLICY", "MEMSERVER_MAX_IO", "MEMSERVER_ADDRESS_BITS",
        "MEMSERVER_PORT_FILE", "MEMSERVER_READAHEAD_PAGES", "MEMSERVER_LOG_LEVEL", "MEMSERVER_LOG_FORMAT", "MEMSERVER_CONFIG",
        "127.0.0.1:9464", "127.0.0.1:7070", "256MiB", "Precedence", "--log-format"}) {
    EXPECT_NE(out.output.find(text), std::string::npos) << text << " missing from:\n" << out.output;
  }
}

TEST_F(DaemonConfigTest, ReadaheadPagesCommandLineBeatsEnvironmentBeatsConfigFile) {
  const std::string path = WriteConfig("readahead-pages = 8\n");
  ParseOutcome out = Parse({"--config", path});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.readahead_max_pages, 8u);
  EXPECT_EQ(Effective("readahead-pages").source, Source::kConfigFile);

  env_ = {{"MEMSERVER_READAHEAD_PAGES", "16"}};
  out = Parse({"--config", path});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.readahead_max_pages, 16u);
  EXPECT_EQ(Effective("readahead-pages").source, Source::kEnvironment);

  out = Parse({"--config", path, "--readahead-pages", "64"});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.readahead_max_pages, 64u);
  EXPECT_EQ(Effective("readahead-pages").source, Source::kCommandLine);
  EXPECT_EQ(Effective("readahead-pages").value, "64");
}

TEST_F(DaemonConfigTest, ZeroReadaheadPagesTurnsReadaheadOff) {
  ParseOutcome out = Parse({"--readahead-pages", "0"});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.readahead_max_pages, 0u);

  env_ = {{"MEMSERVER_READAHEAD_PAGES", "0"}};
  out = Parse({});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.readahead_max_pages, 0u);
}

TEST_F(DaemonConfigTest, ReadaheadPagesUpToTheLimitAreAccepted) {
  ParseOutcome out = Parse({"--readahead-pages", std::to_string(kMaxReadaheadPages)});
  ASSERT_TRUE(out.run) << out.output;
  EXPECT_EQ(config_.server.engine.readahead_max_pages, kMaxReadaheadPages);
}

TEST_F(DaemonConfigTest, ReadaheadPagesOutOfRangeOrNotANumberIsRejectedWithTheRange) {
  const std::string range = "from 0 (readahead off) to " + std::to_string(kMaxReadaheadPages);
  for (const std::string& bad :
       {std::to_string(kMaxReadaheadPages + 1), std::string("-1"), std::string("4294967328"),
        std::string("99999999999"), std::string("32x"), std::string("1e3"), std::string("")}) {
    ParseOutcome out = Parse({"--readahead-pages", bad});
    EXPECT_FALSE(out.run) << bad;
    EXPECT_EQ(out.exit_code, 2) << bad;
    EXPECT_NE(out.output.find(range), std::string::npos) << bad << ": " << out.output;
  }

  env_ = {{"MEMSERVER_READAHEAD_PAGES", "5000"}};
  ParseOutcome out = Parse({});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("MEMSERVER_READAHEAD_PAGES=5000"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find(range), std::string::npos) << out.output;

  env_.clear();
  out = Parse({"--config", WriteConfig("readahead-pages = -4\n")});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find(range), std::string::npos) << out.output;
}

TEST(ListenAddressTest, BoundAddressKeepsTheHostAndTakesTheBoundPort) {
  EXPECT_EQ(BoundAddress("0.0.0.0:0", 7070), "0.0.0.0:7070");
  EXPECT_EQ(BoundAddress("127.0.0.1:7070", 7070), "127.0.0.1:7070");
  EXPECT_EQ(BoundAddress("[::]:0", 41234), "[::]:41234");
  EXPECT_EQ(BoundAddress("unix:/run/memserver.sock", 0), "unix:/run/memserver.sock");
}

TEST(ListenAddressTest, WildcardListeningLineNamesBothAddresses) {
  EXPECT_EQ(ListeningMessage("0.0.0.0:7070", "127.0.0.1:7070"),
            "memserverd listening on 0.0.0.0:7070 (dial 127.0.0.1:7070)");
  EXPECT_EQ(ListeningMessage("[::]:7070", "[::1]:7070"),
            "memserverd listening on [::]:7070 (dial [::1]:7070)");
}

TEST(ListenAddressTest, LoopbackListeningLineNamesTheAddressOnce) {
  EXPECT_EQ(ListeningMessage("127.0.0.1:7070", "127.0.0.1:7070"),
            "memserverd listening on 127.0.0.1:7070");
}

TEST(JsonQuoteTest, EscapesQuotesControlsAndInvalidUtf8) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd\\te\"");
  EXPECT_EQ(JsonQuote(std::string("\x01\x7f", 2)), "\"\\u0001\\u007f\"");
  EXPECT_EQ(JsonQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");              // valid UTF-8 kept
  EXPECT_EQ(JsonQuote("bad\xc3"), "\"bad\\ufffd\"");                   // truncated sequence
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");             // overlong
}

TEST(LogFormatTest, TextAndJsonOnly) {
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &format).ok());
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &format).ok());
  EXPECT_EQ(format, LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("xml", &format).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memserver::daemon
