// Leases over gRPC: CreateProcessRequest.lease_ms and RenewLease, against a
// real server. Expiry is observed by polling ListProcesses with a bounded
// deadline; nothing sleeps to wait for it.
#include <functional>
#include <thread>

#include "server/engine/engine.h"
#include "server/service/memory_service.h"
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kExpiryDeadline = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(5);

class LeaseTest : public ServiceTest {
 protected:
  grpc::Status CreateLeased(uint64_t lease_ms, uint64_t* pid, const std::string& name = "leased") {
    v1::CreateProcessRequest request;
    request.set_name(name);
    request.set_lease_ms(lease_ms);
    v1::CreateProcessResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::CreateProcess, request, &response);
    *pid = response.pid();
    return s;
  }
  grpc::Status Renew(uint64_t pid, uint64_t* lease_ms = nullptr) {
    v1::RenewLeaseRequest request;
    request.set_pid(pid);
    v1::RenewLeaseResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::RenewLease, request, &response);
    if (lease_ms != nullptr) *lease_ms = response.lease_ms();
    return s;
  }
  bool Alive(uint64_t pid) {
    v1::ListProcessesRequest request;
    v1::ListProcessesResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::ListProcesses, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const auto& p : response.processes()) {
      if (p.pid() == pid) return true;
    }
    return false;
  }
  // Polls until `pid` is gone (true) or the deadline passes (false); calls
  // `each_round` once per round.
  bool WaitUntilGone(uint64_t pid, const std::function<void()>& each_round = [] {}) {
    const auto deadline = Clock::now() + kExpiryDeadline;
    while (Clock::now() < deadline) {
      each_round();
      if (!Alive(pid)) return true;
      std::this_thread::sleep_for(kPollInterval);
    }
    return false;
  }
};

TEST_F(LeaseTest, LeaseOverThirtyDaysIsInvalidArgument) {
  uint64_t pid = 0;
  grpc::Status s = CreateLeased(kMaxLeaseMs + 1, &pid);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("30 days"), std::string::npos) << s.error_message();
  s = CreateLeased(~0ull, &pid);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing was created.
  v1::ListProcessesRequest request;
  v1::ListProcessesResponse response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::ListProcesses, request, &response).ok());
  EXPECT_EQ(response.processes_size(), 0);
}

TEST_F(LeaseTest, LeaseOfExactlyThirtyDaysIsAccepted) {
  uint64_t pid = 0;
  grpc::Status s = CreateLeased(kMaxLeaseMs, &pid);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Alive(pid));
  uint64_t lease_ms = 0;
  EXPECT_TRUE(Renew(pid, &lease_ms).ok());
  EXPECT_EQ(lease_ms, kMaxLeaseMs);  // the renewal reports the lease's length
}

TEST_F(LeaseTest, LeasedProcessNotRenewedIsReclaimedWithItsMemory) {
  uint64_t pid = 0;
  ASSERT_TRUE(CreateLeased(100, &pid).ok());
  const uint64_t addr = MapPages(pid, 4);
  v1::WriteRequest write;
  write.set_pid(pid);
  write.set_addr(addr);
  write.set_data(std::string(4 * kPage, 'x'));
  v1::WriteResponse written;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Write, write, &written).ok());

  ASSERT_TRUE(WaitUntilGone(pid)) << "leased process still alive after " << kExpiryDeadline.count()
                                  << " s";
  // Its frames went back to the pool, and calls on it now say NOT_FOUND.
  EXPECT_EQ(Renew(pid).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::GetStatsRequest stats_request;
  v1::GetStatsResponse stats;
  ASSERT_TRUE(Call(&v1::Memory::Stub::GetStats, stats_request, &stats).ok());
  EXPECT_EQ(stats.global().frames_free(), stats.global().frames_total());
  EXPECT_EQ(stats.global().processes(), 0u);
  EXPECT_TRUE(server_->engine()->CheckInvariants().ok());
}

TEST_F(LeaseTest, RenewedProcessOutlivesAnUnrenewedTwin) {
  // Same lease; the first is renewed every round, the second never. When the
  // second has expired, more than a lease has passed since the first's last
  // renewal but one, so only renewals kept it alive.
  uint64_t renewed = 0, abandoned = 0;
  ASSERT_TRUE(CreateLeased(1000, &renewed, "renewed").ok());
  ASSERT_TRUE(CreateLeased(1000, &abandoned, "abandoned").ok());
  int renewals = 0;
  bool renew_failed = false;
  ASSERT_TRUE(WaitUntilGone(abandoned, [&] {
    grpc::Status s = Renew(renewed);
    if (!s.ok()) renew_failed = true;
    ++renewals;
  }));
  EXPECT_FALSE(renew_failed);
  EXPECT_GT(renewals, 1);
  EXPECT_TRUE(Alive(renewed));
  EXPECT_TRUE(Renew(renewed).ok());
}

TEST_F(LeaseTest, RenewingAProcessWithoutLeaseIsFailedPrecondition) {
  const uint64_t pid = CreateProcess("no-lease");
  grpc::Status s = Renew(pid);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("no lease"), std::string::npos) << s.error_message();
  EXPECT_TRUE(Alive(pid));
}

TEST_F(LeaseTest, RenewingAnUnknownPidIsNotFound) {
  EXPECT_EQ(Renew(12345).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Renew(0).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(LeaseTest, ForkedChildInheritsTheLease) {
  uint64_t parent = 0;
  ASSERT_TRUE(CreateLeased(60'000, &parent).ok());
  v1::ForkRequest request;
  request.set_pid(parent);
  v1::ForkResponse response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Fork, request, &response).ok());
  uint64_t lease_ms = 0;
  EXPECT_TRUE(Renew(response.child_pid(), &lease_ms).ok());
  EXPECT_EQ(lease_ms, 60'000u);
  EXPECT_TRUE(Renew(parent).ok());
}

// A restart restores the lease at its full length: the process is there
// after the restart, still leased (renewable), and still expires when no
// one renews it.
TEST_F(LeaseTest, LeaseSurvivesRestartAndStillExpires) {
  uint64_t long_lease = 0, short_lease = 0;
  ASSERT_TRUE(CreateLeased(3'600'000, &long_lease, "hour").ok());
  ASSERT_TRUE(CreateLeased(3'000, &short_lease, "seconds").ok());
  ASSERT_TRUE(server_->Shutdown().ok());
  server_.reset();
  ASSERT_TRUE(Server::Start(TestServerOptions(dir_.path()), &server_).ok());
  channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  stub_ = v1::Memory::NewStub(channel_);

  EXPECT_TRUE(Alive(long_lease));
  EXPECT_TRUE(Renew(long_lease).ok());
  ASSERT_TRUE(WaitUntilGone(short_lease));
  EXPECT_TRUE(Alive(long_lease));
}

}  // namespace
}  // namespace memserver::service
