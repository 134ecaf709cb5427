// CallControl: what the engine's long calls see of their caller's deadline
// and cancellation.
#include "server/common/call_control.h"

#include <gtest/gtest.h>

#include <atomic>

namespace memserver {
namespace {

TEST(CallControlTest, NoneNeverStops) {
  EXPECT_TRUE(CallControl::None().Check().ok());
  EXPECT_FALSE(CallControl::None().has_deadline());
}

TEST(CallControlTest, PastDeadlineIsDeadlineExceeded) {
  const CallControl c(CallControl::Clock::now() - std::chrono::milliseconds(1), nullptr);
  const Status s = c.Check();
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_EQ(s.errno_name(), "ETIMEDOUT");
}

TEST(CallControlTest, FutureDeadlineLetsTheCallGoOn) {
  const CallControl c(CallControl::Clock::now() + std::chrono::hours(1), nullptr);
  EXPECT_TRUE(c.Check().ok());
  EXPECT_TRUE(c.has_deadline());
}

TEST(CallControlTest, CancellationIsSeenAtTheNextCheck) {
  std::atomic<bool> cancelled{false};
  const CallControl c(CallControl::Clock::time_point::max(), [&] { return cancelled.load(); });
  EXPECT_TRUE(c.Check().ok());
  cancelled = true;
  const Status s = c.Check();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(s.errno_name(), "ECANCELED");
}

}  // namespace
}  // namespace memserver
