// Tenants' memory (server/engine/tenant_ledger.h, "Memory charges" in
// server/vm/pager.h): frames are charged to the tenant whose process faulted
// them in and swap copies to the tenant whose page they hold; a tenant over
// max_resident reclaims its own pages and never another's; one at max_swap
// keeps its dirty pages resident and, when nothing of its own can go, gets
// EDQUOT naming the quota, while reads of its data keep working. Every test
// ends with ExpectInvariants, which recounts every charge from the frames
// and pages themselves.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "server/frames/replacement_policy.h"
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class TenantMemoryTest : public EngineFixture {
 protected:
  static constexpr uint64_t kFrames = 256;
  static EngineOptions MemOptions() {
    EngineOptions o = Options(kFrames);
    o.snapshot_interval_ms = 0;
    return o;
  }
  void SetUp() override {
    EngineFixture::SetUp();
    ASSERT_OK(Open(MemOptions()));
  }
  void Quotas(const std::map<std::string, TenantQuota>& q) { engine().SetTenantQuotas(q); }
  static TenantQuota Memory(uint64_t resident_pages, uint64_t swap_pages = kUnlimited) {
    TenantQuota q;
    q.max_resident_bytes = resident_pages * 4096;
    q.max_swap_bytes = swap_pages == kUnlimited ? kUnlimited : swap_pages * 4096;
    return q;
  }
  uint64_t Used(const std::string& owner, TenantResource r) {
    for (const TenantUsage& u : engine().TenantUsages()) {
      if (u.owner == owner) return u.used[static_cast<int>(r)];
    }
    return 0;
  }
  uint64_t ResidentPagesOf(const std::string& owner) { return Used(owner, TenantResource::kResidentBytes) / page(); }
  uint64_t SwapPagesOf(const std::string& owner) { return Used(owner, TenantResource::kSwapBytes) / page(); }
  Pid NewProcessOf(const std::string& owner) {
    Pid pid = 0;
    const Status s = engine().CreateProcess(owner, &pid, 0, owner);
    if (!s.ok()) ADD_FAILURE() << "CreateProcess: " << s.ToString();
    return pid;
  }
  ProcessStats Stats(Pid pid) {
    ProcessStats stats;
    const Status s = engine().GetProcessStats(pid, &stats);
    if (!s.ok()) ADD_FAILURE() << "GetProcessStats: " << s.ToString();
    return stats;
  }
};

TEST_F(TenantMemoryTest, FramesAreChargedToTheFaultingTenantAndGivenBackAtExit) {
  const Pid a = NewProcessOf("alice"), b = NewProcessOf("bob");
  const uint64_t at = Map(a, 10 * page()), bt = Map(b, 3 * page());
  WritePages(a, 1, at, 10);
  WritePages(b, 2, bt, 3);
  ReadBytes(a, at, 1);  // a read of a written page takes nothing new
  EXPECT_EQ(ResidentPagesOf("alice"), 10u);
  EXPECT_EQ(ResidentPagesOf("bob"), 3u);
  ExpectInvariants();
  ASSERT_OK(engine().Exit(a));
  EXPECT_EQ(ResidentPagesOf("alice"), 0u);
  EXPECT_EQ(ResidentPagesOf("bob"), 3u);
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, ReadingNeverWrittenMemoryChargesNothing) {
  const Pid a = NewProcessOf("alice");
  const uint64_t at = Map(a, 64 * page());
  EXPECT_TRUE(CheckZero(a, at, 64 * page()));
  EXPECT_EQ(ResidentPagesOf("alice"), 0u);
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, OverMaxResidentATenantReclaimsItsOwnPagesNeverAnothers) {
  Quotas({{"alice", Memory(16)}});
  const Pid a = NewProcessOf("alice"), b = NewProcessOf("bob");
  const uint64_t bt = Map(b, 20 * page());
  WritePages(b, 2, bt, 20);
  const uint64_t at = Map(a, 100 * page());
  WritePages(a, 1, at, 100);  // 100 pages through a 16-page quota, in a 256-frame pool
  EXPECT_LE(ResidentPagesOf("alice"), 16u);
  EXPECT_EQ(Stats(a).resident_pages + Stats(a).swapped_pages, 100u);
  EXPECT_EQ(Stats(b).resident_pages, 20u) << "bob's pages were evicted for alice's faults";
  EXPECT_EQ(ResidentPagesOf("bob"), 20u);
  EXPECT_TRUE(CheckPages(a, 1, at, 100));  // every page read back through the quota
  EXPECT_TRUE(CheckPages(b, 2, bt, 20));
  EXPECT_EQ(Stats(b).major_faults, 0u);
  EXPECT_LE(ResidentPagesOf("alice"), 16u);
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, SwapIsChargedWhenAPageIsFirstWrittenOutAndGivenBackWhenItGoes) {
  Quotas({{"alice", Memory(8)}});
  const Pid a = NewProcessOf("alice");
  const uint64_t at = Map(a, 20 * page());
  WritePages(a, 1, at, 20);
  const ProcessStats s = Stats(a);
  EXPECT_EQ(SwapPagesOf("alice"), s.swapped_pages) << "every swapped-out page holds one charged copy";
  EXPECT_GE(SwapPagesOf("alice"), 12u);
  ExpectInvariants();
  // Paged back in, a page keeps its (now clean) swap copy and its charge.
  EXPECT_TRUE(CheckPages(a, 1, at, 20));
  ExpectInvariants();
  ASSERT_OK(engine().Munmap(a, at, 20 * page()));
  EXPECT_EQ(SwapPagesOf("alice"), 0u);
  EXPECT_EQ(ResidentPagesOf("alice"), 0u);
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, AtMaxSwapAWriteThatNeedsAFrameFailsWithEdquotAndChangesNothing) {
  Quotas({{"alice", Memory(8, 8)}});
  const Pid a = NewProcessOf("alice"), b = NewProcessOf("bob");
  const uint64_t at = Map(a, 32 * page());
  WritePages(a, 1, at, 16);  // 8 resident + 8 in swap: both quotas full
  EXPECT_EQ(ResidentPagesOf("alice"), 8u);
  EXPECT_EQ(SwapPagesOf("alice"), 8u);
  const std::string page_of_ones(page(), '\1');
  Status s = engine().Write(a, at + 16 * page(), page_of_ones);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_EQ(s.errno_name(), "EDQUOT");
  EXPECT_NE(s.message().find("max_swap"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("alice"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckZero(a, at + 16 * page(), page())) << "the failed write changed its page";
  // Everything already written stays readable, the swapped half included.
  EXPECT_TRUE(CheckPages(a, 1, at, 16));
  // Another tenant is not held back by alice's quotas.
  const uint64_t bt = Map(b, 40 * page());
  WritePages(b, 2, bt, 40);
  EXPECT_TRUE(CheckPages(b, 2, bt, 40));
  // Unmapping swapped pages makes room again.
  ASSERT_OK(engine().Munmap(a, at, 8 * page()));
  EXPECT_OK(engine().Write(a, at + 16 * page(), page_of_ones));
  EXPECT_EQ(ReadBytes(a, at + 16 * page(), page()), page_of_ones);
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, AQuotaLoweredBelowUseIsReclaimedDownToAtTheNextFault) {
  const Pid a = NewProcessOf("alice");
  const uint64_t at = Map(a, 40 * page());
  WritePages(a, 1, at, 30);
  EXPECT_EQ(ResidentPagesOf("alice"), 30u);
  Quotas({{"alice", Memory(8)}});
  EXPECT_EQ(ResidentPagesOf("alice"), 30u) << "a lowered quota takes nothing back by itself";
  WritePages(a, 1, at + 30 * page(), 1);
  EXPECT_LE(ResidentPagesOf("alice"), 8u);
  EXPECT_TRUE(CheckPages(a, 1, at, 31));
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, ForkCopiesAreChargedToTheSameTenantAndGivenBackByBothExits) {
  const Pid parent = NewProcessOf("alice");
  const uint64_t at = Map(parent, 8 * page());
  WritePages(parent, 1, at, 8);
  Pid child = 0;
  ASSERT_OK(engine().Fork(parent, &child));
  EXPECT_EQ(ResidentPagesOf("alice"), 8u) << "shared until written";
  WritePages(child, 2, at, 4);  // copy-on-write: four new frames
  EXPECT_EQ(ResidentPagesOf("alice"), 12u);
  ExpectInvariants();
  ASSERT_OK(engine().Exit(parent));
  ASSERT_OK(engine().Exit(child));
  EXPECT_EQ(ResidentPagesOf("alice"), 0u);
  EXPECT_EQ(SwapPagesOf("alice"), 0u);
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, MlockedPagesCountAsResidentAndAreNeverReclaimedForTheQuota) {
  TenantQuota q = Memory(8);
  Quotas({{"alice", q}});
  const Pid a = NewProcessOf("alice");
  const uint64_t at = Map(a, 16 * page());
  WritePages(a, 1, at, 8);
  ASSERT_OK(engine().Mlock(a, at, 8 * page()));
  Status s = engine().Write(a, at + 8 * page(), std::string(page(), '\2'));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_EQ(s.errno_name(), "EDQUOT");
  EXPECT_NE(s.message().find("max_resident"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckPages(a, 1, at, 8));
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, SnapshotCopiesAreChargedAndARestartKeepsEveryCharge) {
  const Pid a = NewProcessOf("alice");
  const uint64_t at = Map(a, 12 * page());
  WritePages(a, 1, at, 12);
  ASSERT_OK(engine().Snapshot());
  EXPECT_EQ(SwapPagesOf("alice"), 12u) << "a snapshot's copy of each page is its owner's swap";
  ExpectInvariants();
  WritePages(a, 3, at, 2);  // re-keyed: the snapshot's old keys are the server's now
  EXPECT_EQ(SwapPagesOf("alice"), 10u);
  ExpectInvariants();
  ASSERT_OK(engine().Snapshot());
  ASSERT_OK(CrashAndRecover(MemOptions()));
  EXPECT_EQ(SwapPagesOf("alice"), 12u) << "restored pages are charged to their process's tenant";
  EXPECT_EQ(ResidentPagesOf("alice"), 0u);
  ExpectInvariants();
  EXPECT_TRUE(CheckPages(a, 3, at, 2));
  EXPECT_TRUE(CheckPages(a, 1, at + 2 * page(), 10));
  EXPECT_EQ(ResidentPagesOf("alice"), 12u);
  ExpectInvariants();
}

TEST_F(TenantMemoryTest, ConcurrentFaultsOfTwoTenantsUnderPressureKeepEveryChargeExact) {
  ASSERT_OK(Open([] {
    EngineOptions o = MemOptions();
    o.memory_bytes = 48 * 4096;  // global pressure as well as alice's quota
    return o;
  }()));
  Quotas({{"alice", Memory(12)}});
  struct Worker {
    Pid pid;
    uint64_t addr;
    uint64_t seed;
  };
  std::vector<Worker> workers;
  for (int i = 0; i < 4; ++i) {
    const Pid pid = NewProcessOf(i % 2 == 0 ? "alice" : "bob");
    workers.push_back({pid, Map(pid, 40 * page()), static_cast<uint64_t>(i + 1)});
  }
  std::vector<std::thread> threads;
  for (const Worker& w : workers) {
    threads.emplace_back([this, w] {
      for (int round = 0; round < 3; ++round) {
        WritePages(w.pid, w.seed, w.addr, 40);
        CheckPages(w.pid, w.seed, w.addr, 40);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(ResidentPagesOf("alice"), 12u);
  for (const Worker& w : workers) EXPECT_TRUE(CheckPages(w.pid, w.seed, w.addr, 40));
  ExpectInvariants();
}

// Own-page reclaim goes through the replacement policy's Victim with a
// filter: every policy must find the tenant's frames among others'.
class TenantMemoryPolicyTest : public TenantMemoryTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    EngineOptions o = MemOptions();
    o.policy = GetParam();
    ASSERT_OK(Open(o));
  }
};

TEST_P(TenantMemoryPolicyTest, OwnPageReclaimFindsTheTenantsFramesUnderEveryPolicy) {
  Quotas({{"alice", Memory(8)}});
  const Pid a = NewProcessOf("alice"), b = NewProcessOf("bob");
  const uint64_t bt = Map(b, 64 * page());
  WritePages(b, 2, bt, 64);  // bob's frames outnumber alice's eight by far
  const uint64_t at = Map(a, 40 * page());
  WritePages(a, 1, at, 40);
  EXPECT_LE(ResidentPagesOf("alice"), 8u);
  EXPECT_EQ(Stats(b).resident_pages, 64u);
  EXPECT_TRUE(CheckPages(a, 1, at, 40));
  EXPECT_TRUE(CheckPages(b, 2, bt, 64));
  ExpectInvariants();
}

INSTANTIATE_TEST_SUITE_P(Policies, TenantMemoryPolicyTest, ::testing::ValuesIn(ReplacementPolicyNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace memserver
