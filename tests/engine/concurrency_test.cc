// Concurrency: many threads on one process and on many processes, under
// memory pressure (frames far fewer than the working set), with content
// checked at the end; Exit and Munmap racing with accesses. Threads start
// together on a latch; nothing sleeps.
#include "tests/engine/engine_fixture.h"

#include <atomic>
#include <chrono>
#include <latch>
#include <set>
#include <thread>

namespace memserver {
namespace {

class ConcurrencyTest : public EngineFixture {
 protected:
  // Runs fn(i) on `n` threads started together, and joins them.
  template <typename Fn>
  static void RunThreads(int n, Fn fn) {
    std::latch start(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        fn(i);
      });
    }
    for (std::thread& t : threads) t.join();
  }

  // Spins until `cond` holds or 10 s pass; false on timeout.
  template <typename Cond>
  static bool WaitFor(Cond cond) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
};

TEST_F(ConcurrencyTest, ThreadsWritingDisjointPagesOfOneProcess) {
  OpenWithFrames(32);
  const Pid pid = NewProcess();
  constexpr int kThreads = 4;
  constexpr uint64_t kPagesEach = 40;
  const uint64_t a = Map(pid, kThreads * kPagesEach * page());
  RunThreads(kThreads, [&](int t) {
    const uint64_t base = a + t * kPagesEach * page();
    for (int round = 0; round < 2; ++round) {
      WritePages(pid, 100 * t + round, base, kPagesEach);
      EXPECT_TRUE(CheckPages(pid, 100 * t + round, base, kPagesEach)) << "thread " << t;
    }
  });
  ExpectInvariants();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(CheckPages(pid, 100 * t + 1, a + t * kPagesEach * page(), kPagesEach)) << t;
  }
  const ProcessStats s = Stats(pid);
  EXPECT_EQ(s.resident_pages + s.swapped_pages, kThreads * kPagesEach);
}

TEST_F(ConcurrencyTest, WholePageWritesToOnePageAreNeverTorn) {
  OpenWithFrames(16);
  const Pid pid = NewProcess();
  const uint64_t shared = Map(pid, page());
  const uint64_t pressure = Map(pid, 48 * page());
  constexpr int kWriters = 3;
  constexpr int kWrites = 400;      // at least, per writer
  constexpr uint64_t kReads = 300;  // writers go on until the reader did these
  std::atomic<int> writers_left{kWriters};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> torn{0};
  // Threads 0..2 write whole pages of one byte value each time (a value
  // unique to writer and iteration); thread 3 reads and checks; thread 4
  // touches other pages so the shared page is evicted and paged in meanwhile.
  RunThreads(kWriters + 2, [&](int t) {
    if (t < kWriters) {
      for (int i = 0; i < kWrites || (reads.load() < kReads && i < 100 * kWrites); ++i) {
        const char v = static_cast<char>(1 + t * 80 + i % 80);
        WriteBytes(pid, shared, std::string(page(), v));
      }
      writers_left.fetch_sub(1);
    } else if (t == kWriters) {
      std::string got;
      while (writers_left.load() > 0) {
        if (!ReadInto(pid, shared, page(), &got).ok()) {
          ADD_FAILURE() << "read of the shared page failed";
          return;
        }
        if (got.find_first_not_of(got[0]) != std::string::npos) torn.fetch_add(1);
        reads.fetch_add(1);
      }
    } else {
      uint64_t i = 0;
      while (writers_left.load() > 0) {
        WriteBytes(pid, pressure + (i++ % 48) * page(), "p");
      }
    }
  });
  EXPECT_GE(reads.load(), kReads) << "the reader never overlapped the writers";
  EXPECT_EQ(torn.load(), 0u) << "reads saw a mix of two whole-page writes";
  const std::string last = ReadBytes(pid, shared, page());
  ASSERT_EQ(last.size(), page());
  EXPECT_EQ(last.find_first_not_of(last[0]), std::string::npos);
  EXPECT_NE(last[0], 0) << "no write landed";
  ExpectInvariants();
}

TEST_F(ConcurrencyTest, EightProcessesUnderMemoryPressureKeepTheirContent) {
  OpenWithFrames(16);
  constexpr int kProcs = 8;
  constexpr uint64_t kPages = 24;  // 192 pages of working set over 16 frames
  std::vector<Pid> pids(kProcs);
  std::vector<uint64_t> addrs(kProcs);
  RunThreads(kProcs, [&](int t) {
    const Pid pid = NewProcess("worker" + std::to_string(t));
    const uint64_t a = Map(pid, kPages * page());
    pids[t] = pid;
    addrs[t] = a;
    for (int round = 0; round < 3; ++round) {
      WritePages(pid, 1000 * pid + round, a, kPages);
      EXPECT_TRUE(CheckPages(pid, 1000 * pid + round, a, kPages)) << "pid " << pid;
    }
  });
  ExpectInvariants();
  EXPECT_EQ(std::set<Pid>(pids.begin(), pids.end()).size(), size_t{kProcs});
  for (int t = 0; t < kProcs; ++t) {
    EXPECT_TRUE(CheckPages(pids[t], 1000 * pids[t] + 2, addrs[t], kPages)) << "pid " << pids[t];
  }
  EXPECT_GT(engine().GetGlobalStats().page_ins, 0u);
  // Exits race with each other too.
  RunThreads(kProcs, [&](int t) { EXPECT_OK(engine().Exit(pids[t])); });
  ExpectInvariants();
  EXPECT_EQ(SwapKeys(), 0u);
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_EQ(g.frames_free, g.frames_total);
  EXPECT_EQ(g.processes, 0u);
}

TEST_F(ConcurrencyTest, ExitWhileOtherThreadsAccessTheProcess) {
  OpenWithFrames(16);
  constexpr uint64_t kPages = 40;
  for (int round = 0; round < 4; ++round) {
    const Pid pid = NewProcess();
    const uint64_t a = Map(pid, kPages * page());
    WritePages(pid, 5, a, kPages);
    std::atomic<uint64_t> accesses{0};
    std::atomic<int> saw_not_found{0};
    RunThreads(3, [&](int t) {
      if (t == 0) {
        // Exit once the accessors are well under way.
        EXPECT_TRUE(WaitFor([&] { return accesses.load() >= 40; }));
        EXPECT_OK(engine().Exit(pid));
        return;
      }
      std::string got;
      for (uint64_t i = 0; i < 1'000'000; ++i) {
        const uint64_t p = a + ((i * 7 + t) % kPages) * page();
        const Status s = (i + t) % 2 ? ReadInto(pid, p, page(), &got)
                                     : engine().Write(pid, p, Pattern(5, p, page()));
        if (s.code() == StatusCode::kNotFound) {
          saw_not_found.fetch_add(1);
          return;
        }
        if (!s.ok()) {
          ADD_FAILURE() << "access during Exit: " << s.ToString();
          return;
        }
        if ((i + t) % 2 && got != Pattern(5, p, page())) {
          ADD_FAILURE() << std::hex << "wrong content at " << p << " during Exit";
          return;
        }
        accesses.fetch_add(1);
      }
    });
    EXPECT_EQ(saw_not_found.load(), 2) << "an accessor never saw the process go";
    std::string out;
    EXPECT_CODE(ReadInto(pid, a, 1, &out), kNotFound);
    ExpectInvariants();
  }
  EXPECT_EQ(SwapKeys(), 0u);
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_EQ(g.frames_free, g.frames_total);
}

TEST_F(ConcurrencyTest, MunmapAndMmapRacingWithAccessesElsewhere) {
  OpenWithFrames(16);
  const Pid pid = NewProcess();
  const uint64_t stable = Map(pid, 20 * page());
  const uint64_t churn = 1ull << 30;
  WritePages(pid, 3, stable, 20);
  std::atomic<bool> done{false};
  RunThreads(3, [&](int t) {
    if (t == 0) {
      for (int i = 0; i < 200; ++i) {
        MapFixed(pid, churn, 4 * page());
        WritePattern(pid, 4, churn + (i % 4) * page(), page());
        EXPECT_OK(engine().Munmap(pid, churn + (i % 2) * 2 * page(), 2 * page()));
        EXPECT_OK(engine().Munmap(pid, churn, 4 * page()));
      }
      done.store(true);
    } else if (t == 1) {
      // Reads of the churned range see zero, the pattern, or no mapping.
      std::string got;
      while (!done.load()) {
        const uint64_t p = churn + page();
        const Status s = ReadInto(pid, p, page(), &got);
        if (s.ok()) {
          if (got != std::string(page(), '\0') && got != Pattern(4, p, page())) {
            ADD_FAILURE() << "churned page holds neither zero nor its pattern";
            return;
          }
        } else if (s.fault_kind() != FaultKind::kMapError || s.fault_address() != p) {
          ADD_FAILURE() << "unexpected status on churned range: " << s.ToString();
          return;
        }
      }
    } else {
      uint64_t i = 0;
      while (!done.load()) {
        const uint64_t p = stable + (i++ % 20) * page();
        if (!CheckPattern(pid, 3, p, page())) return;
        WritePattern(pid, 3, p, page());
      }
    }
  });
  EXPECT_TRUE(CheckPages(pid, 3, stable, 20));
  EXPECT_EQ(Spans(Mappings(pid)), (std::vector<Span>{{stable, stable + 20 * page(), kRW}}));
  ExpectInvariants();
}

TEST_F(ConcurrencyTest, ConcurrentCreateProcessGivesDistinctPids) {
  OpenWithFrames(16);
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::vector<Pid>> pids(kThreads);
  RunThreads(kThreads, [&](int t) {
    for (int i = 0; i < kEach; ++i) pids[t].push_back(NewProcess());
  });
  std::set<Pid> all;
  for (const auto& v : pids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kEach});
  EXPECT_EQ(engine().GetGlobalStats().processes, uint64_t{kThreads * kEach});
}

}  // namespace
}  // namespace memserver
