// Leases from the client's side, against the real memserverd: the client
// library (Client::CreateProcess with a lease, RenewLease) and memctl
// (create --lease / --lease-ms, renew). Expiry is observed by polling with a
// bounded deadline.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "client/lib/client.h"
#include "server/common/duration.h"
#include "tests/e2e/daemon.h"
#include "tests/support/temp_dir.h"

namespace memserver::e2e {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kExpiryDeadline = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(5);

using ::memserver::test::TempDir;

class LeaseE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    daemon_ = Daemon::Start(dir_.path(),
                            {"--data-dir", dir_.path() + "/data", "--memory", "256KiB",
                             "--metrics-listen", ""},
                            {}, &error);
    ASSERT_NE(daemon_, nullptr) << error;
    client_ = std::make_unique<client::Client>(daemon_->address());
  }
  void TearDown() override {
    client_.reset();
    if (daemon_ != nullptr) {
      EXPECT_EQ(daemon_->Stop(SIGTERM), 0) << daemon_->Log();
    }
  }
  Output Memctl(std::vector<std::string> args) {
    args.insert(args.begin(), {MEMCTL_PATH, "--server", daemon_->address()});
    return RunToCompletion(args, {"MEMSERVER_ADDRESS"});
  }
  bool Alive(uint64_t pid) {
    for (const auto& p : client_->ListProcesses()) {
      if (p.pid == pid) return true;
    }
    return false;
  }
  bool WaitUntilGone(uint64_t pid) {
    const auto deadline = Clock::now() + kExpiryDeadline;
    while (Clock::now() < deadline) {
      if (!Alive(pid)) return true;
      std::this_thread::sleep_for(kPollInterval);
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(LeaseE2eTest, ClientLeaseExpiresUnlessRenewed) {
  client::Process kept = client_->CreateProcess("kept", std::chrono::hours(1));
  client::Process dropped = client_->CreateProcess("dropped", std::chrono::milliseconds(50));
  const uint64_t dropped_pid = dropped.Release();
  ASSERT_TRUE(WaitUntilGone(dropped_pid));
  kept.RenewLease();
  EXPECT_TRUE(Alive(kept.pid()));
  try {
    client_->RenewLease(dropped_pid);
    ADD_FAILURE() << "renewing an expired process succeeded";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND) << e.what();
  }
}

TEST_F(LeaseE2eTest, ClientRenewWithoutLeaseIsFailedPrecondition) {
  client::Process p = client_->CreateProcess("no-lease");
  try {
    p.RenewLease();
    ADD_FAILURE() << "renewing a process without lease succeeded";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION) << e.what();
  }
}

TEST_F(LeaseE2eTest, ClientRejectsLeasesOverThirtyDays) {
  try {
    client_->CreateProcess("long", std::chrono::hours(24 * 31));
    ADD_FAILURE() << "a 31-day lease was accepted";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT) << e.what();
  }
  EXPECT_TRUE(client_->ListProcesses().empty());
}

TEST_F(LeaseE2eTest, MemctlCreateWithLeaseThenRenew) {
  Output created = Memctl({"create", "--name", "leased", "--lease", "1h"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const uint64_t pid = std::stoull(created.out);
  Output renewed = Memctl({"renew", std::to_string(pid)});
  EXPECT_EQ(renewed.exit_code, 0) << renewed.err;
  EXPECT_EQ(renewed.out, "");

  Output plain = Memctl({"create", "--name", "plain"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  Output refused = Memctl({"renew", std::to_string(std::stoull(plain.out))});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("no lease"), std::string::npos) << refused.err;

  Output unknown = Memctl({"renew", "999999"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos) << unknown.err;
}

TEST_F(LeaseE2eTest, MemctlLeaseInMillisecondsExpires) {
  Output created = Memctl({"create", "--lease-ms", "100"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(WaitUntilGone(std::stoull(created.out)));
}

TEST_F(LeaseE2eTest, MemctlRefusesBadLeases) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"create", "--lease", "30"},        // no unit
           {"create", "--lease", "5 parsecs"},  // unknown unit
           {"create", "--lease", "31d"},        // over 30 days (the server says)
           {"create", "--lease", "1s", "--lease-ms", "1000"},  // both
       }) {
    Output o = Memctl(args);
    EXPECT_NE(o.exit_code, 0) << fmt::format("{}", fmt::join(args, " "));
    EXPECT_NE(o.err, "") << fmt::format("{}", fmt::join(args, " "));
  }
  EXPECT_TRUE(client_->ListProcesses().empty());
}

TEST(DurationTest, ParsesUnitsAndRejectsTheRest) {
  using memserver::ParseDurationMs;
  EXPECT_EQ(ParseDurationMs("1500ms"), 1500u);
  EXPECT_EQ(ParseDurationMs("30s"), 30000u);
  EXPECT_EQ(ParseDurationMs("30 S"), 30000u);
  EXPECT_EQ(ParseDurationMs("5m"), 300000u);
  EXPECT_EQ(ParseDurationMs("2h"), 7200000u);
  EXPECT_EQ(ParseDurationMs("1d"), 86400000u);
  EXPECT_EQ(ParseDurationMs("0s"), 0u);
  EXPECT_EQ(ParseDurationMs("30"), std::nullopt);
  EXPECT_EQ(ParseDurationMs("s"), std::nullopt);
  EXPECT_EQ(ParseDurationMs("-1s"), std::nullopt);
  EXPECT_EQ(ParseDurationMs("1.5s"), std::nullopt);
  EXPECT_EQ(ParseDurationMs("1w"), std::nullopt);
  EXPECT_EQ(ParseDurationMs("99999999999999999999ms"), std::nullopt);
  EXPECT_EQ(ParseDurationMs("18446744073709551615d"), std::nullopt);
}

}  // namespace
}  // namespace memserver::e2e
