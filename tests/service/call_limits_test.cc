// CallLimiter (server/service/call_limits.h): each bound refuses with its
// name, and a ticket gives its place back.
#include "server/service/call_limits.h"

#include <gtest/gtest.h>

#include "server/service/auth.h"

namespace memserver::service {
namespace {

Caller Tenant(const std::string& name, const TenantSpec* spec) {
  Caller c;
  c.tenant = name;
  c.ns = name;
  c.spec = spec;
  return c;
}

TEST(CallLimiterTest, PerConnectionBoundNamesItsFlagAndTicketsGiveBack) {
  CallLimits limits;
  limits.max_calls_per_connection = 2;
  CallLimiter limiter(limits);
  Caller c = Tenant("", nullptr);
  CallLimiter::Ticket a, b, d;
  ASSERT_TRUE(limiter.AdmitCall("ipv4:1.2.3.4:5", c, &a).ok());
  ASSERT_TRUE(limiter.AdmitCall("ipv4:1.2.3.4:5", c, &b).ok());
  Status s = limiter.AdmitCall("ipv4:1.2.3.4:5", c, &d);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("--max-calls-per-connection"), std::string::npos) << s.message();
  EXPECT_TRUE(limiter.AdmitCall("ipv4:1.2.3.4:6", c, &d).ok()) << "another connection has its own bound";
  a.Reset();
  EXPECT_TRUE(limiter.AdmitCall("ipv4:1.2.3.4:5", c, &a).ok());
}

TEST(CallLimiterTest, TenantQuotasAndTheServerWideStreamBound) {
  CallLimits limits;
  limits.max_streams = 3;
  CallLimiter limiter(limits);
  TenantSpec spec;
  spec.name = "alice";
  spec.max_streams = 1;
  spec.max_calls = 0;
  Caller alice = Tenant("alice", &spec);
  CallLimiter::Ticket t1, t2, t3, t4;
  Status s = limiter.AdmitCall("p1", alice, &t1);
  EXPECT_NE(s.message().find("max_calls quota"), std::string::npos) << s.message();
  ASSERT_TRUE(limiter.AdmitStream("p1", alice, &t1).ok());
  s = limiter.AdmitStream("p2", alice, &t2);
  EXPECT_NE(s.message().find("max_streams quota"), std::string::npos) << s.message();
  Caller bob = Tenant("bob", nullptr);
  ASSERT_TRUE(limiter.AdmitStream("p3", bob, &t2).ok());
  ASSERT_TRUE(limiter.AdmitStream("p4", bob, &t3).ok());
  s = limiter.AdmitStream("p5", bob, &t4);
  EXPECT_NE(s.message().find("--max-streams"), std::string::npos) << s.message();
  EXPECT_EQ(limiter.open_streams(), 3u);
  EXPECT_EQ(limiter.TenantCounts()["bob"].streams, 2u);
  t1 = CallLimiter::Ticket();
  t2.Reset();
  t3.Reset();
  EXPECT_EQ(limiter.open_streams(), 0u);
  EXPECT_TRUE(limiter.TenantCounts().empty()) << "nothing open, nothing kept";
}

}  // namespace
}  // namespace memserver::service
