// A forked child inherits its parent's lease (the same length, from the
// fork) and is renewed on its own, so a leased client that forks and dies
// leaks neither process. Expiry is polled with a bounded deadline.
#include <chrono>
#include <thread>

#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kExpiryDeadline = std::chrono::seconds(30);
constexpr auto kPoll = std::chrono::milliseconds(5);

class ForkLeaseTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    OpenWithFrames(32);
  }
  bool Alive(Pid pid) {
    for (const ProcessStats& p : engine().ListProcesses()) {
      if (p.pid == pid) return true;
    }
    return false;
  }
  // Polls until `pid` is gone (true) or the deadline passes; calls `each`
  // every round.
  bool WaitUntilGone(Pid pid, const std::function<void()>& each = [] {}) {
    const auto deadline = Clock::now() + kExpiryDeadline;
    while (Clock::now() < deadline) {
      each();
      if (!Alive(pid)) return true;
      std::this_thread::sleep_for(kPoll);
    }
    return false;
  }
};

TEST_F(ForkLeaseTest, ChildOfALeasedParentInheritsTheLease) {
  Pid parent = 0, child = 0;
  ASSERT_OK(engine().CreateProcess("leased", &parent, 200));
  ASSERT_OK(engine().Fork(parent, &child));
  uint64_t lease_ms = 0;
  ASSERT_OK(engine().RenewLease(child, &lease_ms));
  EXPECT_EQ(lease_ms, 200u);
  // Nobody renews either: both go.
  EXPECT_TRUE(WaitUntilGone(child));
  EXPECT_TRUE(WaitUntilGone(parent));
}

TEST_F(ForkLeaseTest, RenewingTheChildKeepsOnlyTheChild) {
  Pid parent = 0, child = 0;
  ASSERT_OK(engine().CreateProcess("leased", &parent, 300));
  ASSERT_OK(engine().Fork(parent, &child));
  EXPECT_TRUE(WaitUntilGone(parent, [&] { EXPECT_OK(engine().RenewLease(child)); }));
  EXPECT_TRUE(Alive(child));
  EXPECT_TRUE(WaitUntilGone(child));  // and it goes once nobody renews it
}

TEST_F(ForkLeaseTest, RenewingTheParentKeepsOnlyTheParent) {
  Pid parent = 0, child = 0;
  ASSERT_OK(engine().CreateProcess("leased", &parent, 300));
  ASSERT_OK(engine().Fork(parent, &child));
  EXPECT_TRUE(WaitUntilGone(child, [&] { EXPECT_OK(engine().RenewLease(parent)); }));
  EXPECT_TRUE(Alive(parent));
}

TEST_F(ForkLeaseTest, ChildOfAnUnleasedParentHasNoLease) {
  const Pid parent = NewProcess();
  Pid child = 0;
  ASSERT_OK(engine().Fork(parent, &child));
  EXPECT_CODE(engine().RenewLease(child), kFailedPrecondition);
  EXPECT_TRUE(Alive(child));
}

}  // namespace
}  // namespace memserver
