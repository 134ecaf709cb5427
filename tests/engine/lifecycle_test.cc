// Engine and process lifecycle: option validation, process creation and
// isolation, Exit releasing every frame and swap entry, NotFound after Exit.
#include "tests/engine/engine_fixture.h"

#include <set>

namespace memserver {
namespace {

class LifecycleTest : public EngineFixture {};

TEST_F(LifecycleTest, InvalidOptionsAreInvalidArgument) {
  EngineOptions bad_page = Options(16);
  bad_page.page_size = 5000;
  EXPECT_CODE(Open(bad_page), kInvalidArgument);
  EngineOptions small_page = Options(16);
  small_page.page_size = 2048;
  EXPECT_CODE(Open(small_page), kInvalidArgument);
  EngineOptions bits = Options(16);
  bits.address_bits = 60;
  EXPECT_CODE(Open(bits), kInvalidArgument);
  EngineOptions policy = Options(16);
  policy.policy = "no-such-policy";
  EXPECT_CODE(Open(policy), kInvalidArgument);
  EngineOptions no_memory = Options(16);
  no_memory.memory_bytes = 100;  // less than one page
  EXPECT_CODE(Open(no_memory), kInvalidArgument);
  EngineOptions readahead = Options(16);
  readahead.readahead_max_pages = EngineOptions::kMaxReadaheadPages + 1;
  EXPECT_CODE(Open(readahead), kInvalidArgument);
}

TEST_F(LifecycleTest, GlobalStatsDescribeThePool) {
  OpenWithFrames(24);
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_EQ(g.page_size, 4096u);
  EXPECT_EQ(g.frames_total, 24u);
  EXPECT_EQ(g.frames_free, 24u);
  EXPECT_EQ(g.processes, 0u);
  EXPECT_EQ(g.policy, "clock");  // the default
  ExpectInvariants();
}

TEST_F(LifecycleTest, CreateProcessReturnsDistinctPids) {
  OpenWithFrames(16);
  std::set<Pid> pids;
  for (int i = 0; i < 50; ++i) pids.insert(NewProcess("p" + std::to_string(i)));
  EXPECT_EQ(pids.size(), 50u);
  EXPECT_EQ(engine().GetGlobalStats().processes, 50u);
  EXPECT_EQ(engine().ListProcesses().size(), 50u);
}

TEST_F(LifecycleTest, ListProcessesShowsNamesAndStats) {
  OpenWithFrames(16);
  const Pid a = NewProcess("alpha");
  const Pid b = NewProcess("beta");
  const uint64_t addr = Map(b, 3 * page());
  WriteBytes(b, addr, "x");
  const std::vector<ProcessStats> all = engine().ListProcesses();
  ASSERT_EQ(all.size(), 2u);
  for (const ProcessStats& p : all) {
    if (p.pid == a) {
      EXPECT_EQ(p.name, "alpha");
      EXPECT_EQ(p.virtual_bytes, 0u);
    } else {
      EXPECT_EQ(p.pid, b);
      EXPECT_EQ(p.name, "beta");
      EXPECT_EQ(p.virtual_bytes, 3 * page());
      EXPECT_EQ(p.mappings, 1u);
      EXPECT_EQ(p.resident_pages, 1u);
    }
  }
  EXPECT_EQ(Stats(a).name, "alpha");
  EXPECT_EQ(Stats(a).pid, a);
}

TEST_F(LifecycleTest, ProcessesDoNotSeeEachOthersMemory) {
  OpenWithFrames(16);
  const Pid a = NewProcess();
  const Pid b = NewProcess();
  const uint64_t at = 1ull << 30;
  MapFixed(a, at, 2 * page());
  MapFixed(b, at, 2 * page());
  WritePattern(a, 1, at, 2 * page());
  EXPECT_TRUE(CheckZero(b, at, 2 * page()));
  WritePattern(b, 2, at, 2 * page());
  EXPECT_TRUE(CheckPattern(a, 1, at, 2 * page()));
  EXPECT_TRUE(CheckPattern(b, 2, at, 2 * page()));
  // A mapping in one process is not one in another.
  const uint64_t only_a = Map(a, page());
  std::string out;
  EXPECT_FAULT(ReadInto(b, only_a, 1, &out), kMapError, only_a);
  ExpectInvariants();
}

TEST_F(LifecycleTest, ExitedPidIsNotFoundEverywhere) {
  OpenWithFrames(16);
  const Pid pid = NewProcess();
  const uint64_t a = Map(pid, page());
  ASSERT_OK(engine().Exit(pid));
  std::string out;
  ProcessStats stats;
  std::vector<MappingInfo> maps;
  EXPECT_CODE(engine().Exit(pid), kNotFound);
  EXPECT_CODE(MmapStatus(pid, 0, page(), kRW, kAnon), kNotFound);
  EXPECT_CODE(engine().Munmap(pid, a, page()), kNotFound);
  EXPECT_CODE(engine().Mprotect(pid, a, page(), kProtRead), kNotFound);
  EXPECT_CODE(ReadInto(pid, a, 1, &out), kNotFound);
  EXPECT_CODE(engine().Write(pid, a, "x"), kNotFound);
  EXPECT_CODE(engine().GetProcessStats(pid, &stats), kNotFound);
  EXPECT_CODE(engine().ListMappings(pid, &maps), kNotFound);
  EXPECT_TRUE(engine().ListProcesses().empty());
  EXPECT_EQ(engine().GetGlobalStats().processes, 0u);
}

TEST_F(LifecycleTest, NeverCreatedPidIsNotFound) {
  OpenWithFrames(16);
  ProcessStats stats;
  const Status s = engine().GetProcessStats(12345, &stats);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.errno_name(), "ESRCH");
  EXPECT_CODE(engine().Exit(0), kNotFound);
}

TEST_F(LifecycleTest, PidsAreNotReusedAfterExit) {
  OpenWithFrames(16);
  const Pid a = NewProcess();
  ASSERT_OK(engine().Exit(a));
  const Pid b = NewProcess();
  EXPECT_NE(a, b);
}

TEST_F(LifecycleTest, ExitFreesEveryFrameAndSwapEntry) {
  OpenWithFrames(16);
  const Pid a = NewProcess();
  const Pid b = NewProcess();
  const uint64_t xa = Map(a, 40 * page());
  const uint64_t xb = Map(b, 40 * page());
  WritePages(a, 1, xa, 40);
  WritePages(b, 2, xb, 40);
  ASSERT_GT(SwapKeys(), 0u);
  ExpectInvariants();

  ASSERT_OK(engine().Exit(a));
  ExpectInvariants();
  EXPECT_TRUE(CheckPages(b, 2, xb, 40));
  ASSERT_OK(engine().Exit(b));
  ExpectInvariants();

  EXPECT_EQ(SwapKeys(), 0u);
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_EQ(g.frames_free, g.frames_total);
  EXPECT_EQ(g.processes, 0u);
  EXPECT_EQ(g.pages, 0u);
  EXPECT_EQ(g.swap_pages, 0u);
}

TEST_F(LifecycleTest, ExitOfOneProcessLeavesTheOthersIntact) {
  OpenWithFrames(16);
  std::vector<Pid> pids;
  std::vector<uint64_t> addrs;
  for (int i = 0; i < 4; ++i) {
    pids.push_back(NewProcess());
    addrs.push_back(Map(pids.back(), 12 * page()));
    WritePages(pids.back(), 10 + i, addrs.back(), 12);
  }
  ASSERT_OK(engine().Exit(pids[1]));
  ASSERT_OK(engine().Exit(pids[2]));
  ExpectInvariants();
  EXPECT_TRUE(CheckPages(pids[0], 10, addrs[0], 12));
  EXPECT_TRUE(CheckPages(pids[3], 13, addrs[3], 12));
  const ProcessStats s = Stats(pids[3]);
  EXPECT_EQ(s.resident_pages + s.swapped_pages, 12u);
  ExpectInvariants();
}

TEST_F(LifecycleTest, TooManyProcessesIsResourceExhausted) {
  EngineOptions o = Options(16);
  o.max_processes = 3;
  ASSERT_OK(Open(o));
  const Pid first = NewProcess();
  NewProcess();
  NewProcess();
  Pid pid = 0;
  EXPECT_CODE(engine().CreateProcess("extra", &pid), kResourceExhausted);
  // Exiting one makes room again.
  ASSERT_OK(engine().Exit(first));
  EXPECT_OK(engine().CreateProcess("extra", &pid));
}

TEST_F(LifecycleTest, DestroyingTheEngineWithLiveProcessesIsClean) {
  OpenWithFrames(16);
  const Pid pid = NewProcess();
  const uint64_t a = Map(pid, 40 * page());
  WritePages(pid, 1, a, 40);
  ASSERT_GT(SwapKeys(), 0u);
  // Frames, swap entries and the process go with the engine, before the
  // store it owns is closed.
  engine_.reset();
}

}  // namespace
}  // namespace memserver
