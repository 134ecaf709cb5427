// Snapshots and the msync journal (server/engine/snapshotter.h): what a
// crash keeps. A "crash" here is CrashAndRecover: the store's files copied
// while the engine runs (what SIGKILL leaves: no memtable flushed, no
// final snapshot), opened by a new engine.
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class SnapshotTest : public EngineFixture {
 protected:
  static EngineOptions SnapOptions(uint64_t frames = 256) {
    EngineOptions o = Options(frames);
    o.snapshot_interval_ms = 0;  // snapshots only when a test takes one
    return o;
  }
  void SetUp() override {
    EngineFixture::SetUp();
    ASSERT_OK(Open(SnapOptions()));
  }
  void Crash(uint64_t frames = 256) { ASSERT_OK(CrashAndRecover(SnapOptions(frames))); }
  SnapshotStats TakeSnapshot() {
    SnapshotStats stats;
    const Status s = engine().Snapshot(&stats);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return stats;
  }
  std::vector<Pid> Pids() {
    std::vector<Pid> out;
    for (const ProcessStats& p : engine().ListProcesses()) out.push_back(p.pid);
    return out;
  }
};

TEST_F(SnapshotTest, CrashAfterASnapshotRestoresEveryProcessAsItWas) {
  const Pid a = NewProcess("a");
  const uint64_t anon = Map(a, 8 * page());
  WritePattern(a, 1, anon, 8 * page());
  const uint64_t shm = Map(a, 2 * page(), kRW, kMapShared | kMapAnonymous);
  WritePattern(a, 2, shm, 2 * page());
  Pid b = 0;
  ASSERT_OK(engine().Fork(a, &b));
  WritePattern(b, 3, anon + page(), page());  // copy-on-write in the child
  TakeSnapshot();
  Crash();
  EXPECT_EQ(Pids(), (std::vector<Pid>{a, b}));
  EXPECT_TRUE(CheckPattern(a, 1, anon, 8 * page()));
  EXPECT_TRUE(CheckPattern(b, 3, anon + page(), page()));
  EXPECT_TRUE(CheckPattern(b, 1, anon + 2 * page(), 6 * page()));
  EXPECT_TRUE(CheckPattern(b, 2, shm, 2 * page()));
  // Still shared after the crash: a write through one is seen by the other.
  WriteBytes(b, shm, "shared");
  EXPECT_EQ(ReadBytes(a, shm, 6), "shared");
  EXPECT_TRUE(engine().recovery().unclean);
  EXPECT_TRUE(engine().recovery().lost.empty());
  ExpectInvariants();
}

TEST_F(SnapshotTest, WritesAfterTheSnapshotAreNotWhatACrashKeeps) {
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 4 * page());
  WritePattern(pid, 1, at, 4 * page());
  TakeSnapshot();
  WritePattern(pid, 2, at, 4 * page());
  Crash();
  EXPECT_TRUE(CheckPattern(pid, 1, at, 4 * page()));
}

TEST_F(SnapshotTest, ProcessesCreatedAfterTheSnapshotAreReportedLost) {
  const Pid kept = NewProcess("kept");
  TakeSnapshot();
  const Pid lost = NewProcess("lost");
  WritePattern(lost, 1, Map(lost, page()), page());
  Crash();
  EXPECT_EQ(Pids(), std::vector<Pid>{kept});
  ASSERT_EQ(engine().recovery().lost.size(), 1u);
  EXPECT_EQ(engine().recovery().lost[0], (std::pair<Pid, std::string>{lost, "lost"}));
  char byte;
  const Status s = engine().Read(lost, 0x10000, 1, &byte);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(s.process_lost()) << s.ToString();
  EXPECT_NE(s.message().find("was lost"), std::string::npos) << s.message();
  // A pid that never existed is a plain NOT_FOUND.
  EXPECT_FALSE(engine().Read(lost + 1000, 0x10000, 1, &byte).process_lost());
}

TEST_F(SnapshotTest, PidsAreNeverReusedAfterACrash) {
  const Pid first = NewProcess();
  const Pid second = NewProcess();
  Crash();  // no snapshot: both lost
  const Pid next = NewProcess();
  EXPECT_GT(next, second);
  EXPECT_NE(next, first);
  Crash();
  EXPECT_GT(NewProcess(), next);
}

TEST_F(SnapshotTest, MsyncMakesAnonymousMemoryDurableWithoutASnapshot) {
  const Pid pid = NewProcess("synced");
  const uint64_t at = Map(pid, 8 * page());
  WritePattern(pid, 1, at, 8 * page());
  ASSERT_OK(engine().Msync(pid, at + 2 * page(), 4 * page(), kMsSync));
  Crash();
  ASSERT_EQ(Pids(), std::vector<Pid>{pid});
  EXPECT_TRUE(CheckPattern(pid, 1, at + 2 * page(), 4 * page()));
  // What was never msync'd is not there: the process came back from its
  // msync'd range only.
  char byte;
  EXPECT_TRUE(engine().Read(pid, at, 1, &byte).IsFault());
  ASSERT_EQ(engine().recovery().restored_processes.size(), 1u);
  EXPECT_FALSE(engine().recovery().restored_processes[0].in_snapshot);
  EXPECT_EQ(engine().recovery().restored_processes[0].synced_ranges, 1u);
  ExpectInvariants();
}

TEST_F(SnapshotTest, MsyncAfterTheSnapshotWinsOverIt) {
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 4 * page());
  WritePattern(pid, 1, at, 4 * page());
  TakeSnapshot();
  WritePattern(pid, 2, at, 2 * page());
  ASSERT_OK(engine().Msync(pid, at, 2 * page(), kMsSync));
  WritePattern(pid, 3, at + 2 * page(), 2 * page());  // neither synced nor snapshotted
  Crash();
  EXPECT_TRUE(CheckPattern(pid, 2, at, 2 * page()));
  EXPECT_TRUE(CheckPattern(pid, 1, at + 2 * page(), 2 * page()));
}

TEST_F(SnapshotTest, MsyncOfSharedAnonymousMemoryIsSeenByEveryMapper) {
  const Pid parent = NewProcess();
  const uint64_t shm = Map(parent, 2 * page(), kRW, kMapShared | kMapAnonymous);
  Pid child = 0;
  ASSERT_OK(engine().Fork(parent, &child));
  TakeSnapshot();
  WritePattern(child, 4, shm, 2 * page());
  ASSERT_OK(engine().Msync(child, shm, 2 * page(), kMsSync));
  Crash();
  EXPECT_TRUE(CheckPattern(parent, 4, shm, 2 * page()));
  EXPECT_TRUE(CheckPattern(child, 4, shm, 2 * page()));
  WriteBytes(parent, shm, "one object");
  EXPECT_EQ(ReadBytes(child, shm, 10), "one object");
}

TEST_F(SnapshotTest, JournalRecordsNamingOnePageTwiceReplayToThatPage) {
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 2 * page());
  const uint64_t other = Map(pid, page());
  WritePattern(pid, 1, at, 2 * page());
  ASSERT_OK(engine().Msync(pid, at, 2 * page(), kMsSync));
  ASSERT_OK(engine().Mprotect(pid, other, page(), kProtRead));  // the layout changes: the next msync records again
  ASSERT_OK(engine().Msync(pid, at, 2 * page(), kMsSync));       // the same pages, the same ids
  Crash();
  EXPECT_TRUE(CheckPattern(pid, 1, at, 2 * page()));
  EXPECT_EQ(engine().recovery().journal_records, 2u);
  ExpectInvariants();
}

TEST_F(SnapshotTest, ExitAfterTheSnapshotIsNotUndoneByACrash) {
  const Pid pid = NewProcess();
  const Pid other = NewProcess();
  TakeSnapshot();
  ASSERT_OK(engine().Exit(pid));
  Crash();
  EXPECT_EQ(Pids(), std::vector<Pid>{other});
}

TEST_F(SnapshotTest, SnapshotsWriteOnlyWhatChangedSinceTheLastOne) {
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 64 * page());
  WritePages(pid, 1, at, 64);
  const SnapshotStats full = TakeSnapshot();
  EXPECT_EQ(full.pages_written, 64u);
  WritePages(pid, 2, at + 8 * page(), 5);
  const SnapshotStats incremental = TakeSnapshot();
  EXPECT_EQ(incremental.pages_written, 5u);
  EXPECT_EQ(incremental.generation, full.generation + 1);
  const SnapshotStats idle = TakeSnapshot();
  EXPECT_TRUE(idle.skipped);
  EXPECT_EQ(idle.pages_written, 0u);
  EXPECT_EQ(idle.generation, incremental.generation);
  ExpectInvariants();
}

TEST_F(SnapshotTest, UnchangedProcessesKeepTheirRecords) {
  const Pid quiet = NewProcess();
  const uint64_t quiet_at = Map(quiet, 32 * page());
  WritePages(quiet, 1, quiet_at, 32);
  const Pid busy = NewProcess();
  const uint64_t at = Map(busy, page());
  TakeSnapshot();
  WritePages(busy, 2, at, 1);
  const SnapshotStats s = TakeSnapshot();
  EXPECT_EQ(s.pages_written, 1u);
  EXPECT_LE(s.records_written, 2u);  // the busy process's header and its one chunk
  Crash();
  EXPECT_TRUE(CheckPages(quiet, 1, quiet_at, 32));
  EXPECT_TRUE(CheckPages(busy, 2, at, 1));
}

TEST_F(SnapshotTest, PageKeysNoSnapshotNeedsAreDeleted) {
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 16 * page());
  for (uint64_t round = 1; round <= 5; ++round) {
    WritePages(pid, round, at, 16);
    TakeSnapshot();
  }
  // Each round re-keys the 16 pages; the commit of the next snapshot deletes
  // the keys only older snapshots named.
  EXPECT_LE(SwapKeys(), 32u);
  ExpectInvariants();
  ASSERT_OK(engine().Exit(pid));
  TakeSnapshot();
  TakeSnapshot();
  EXPECT_EQ(SwapKeys(), 0u);
  ExpectInvariants();
}

TEST_F(SnapshotTest, SwappedOutPagesAreSnapshottedWithoutBeingReadBack) {
  ASSERT_OK(Open(SnapOptions(16)));
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 128 * page());
  WritePages(pid, 7, at, 128);  // 8x the frames: most are in swap
  const uint64_t page_ins = engine().GetGlobalStats().page_ins;
  TakeSnapshot();
  EXPECT_EQ(engine().GetGlobalStats().page_ins, page_ins);
  Crash(16);
  EXPECT_TRUE(CheckPages(pid, 7, at, 128));
  ExpectInvariants();
}

TEST_F(SnapshotTest, AFailedSnapshotKeepsThePreviousOne) {
  ASSERT_OK(Open(SnapOptions(), /*faulty=*/true));
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 8 * page());
  WritePages(pid, 1, at, 8);
  TakeSnapshot();
  WritePages(pid, 2, at, 8);
  faulty_store()->FailWritesAfter(1);  // the first batch of pages goes, then the store fails
  SnapshotStats failed;
  EXPECT_FALSE(engine().Snapshot(&failed).ok());
  EXPECT_FALSE(failed.ok);
  EXPECT_FALSE(failed.error.empty());
  faulty_store()->FailWrites(false);
  ASSERT_OK(CrashAndRecover(SnapOptions(), /*faulty=*/true));
  EXPECT_TRUE(CheckPages(pid, 1, at, 8));
  // The next snapshot after a failure writes what the failed one could not.
  WritePages(pid, 3, at, 8);
  TakeSnapshot();
  Crash();
  EXPECT_TRUE(CheckPages(pid, 3, at, 8));
  ExpectInvariants();
}

TEST_F(SnapshotTest, AWriteWhileASnapshotIsWrittenChangesNotWhatItSaves) {
  const Pid pid = NewProcess();
  const uint64_t at = Map(pid, 4 * page());
  WritePages(pid, 1, at, 4);  // resident and dirty: pending at the instant
  const Pid shm_owner = NewProcess();
  const uint64_t shm = Map(shm_owner, page(), kRW, kMapShared | kMapAnonymous);
  WritePages(shm_owner, 5, shm, 1);
  engine().SetSnapshotHookForTesting([&] {
    // The snapshot's pages are not written yet: these writers copy them
    // into the store first, then change them, without waiting.
    WritePages(pid, 2, at, 4);
    WriteBytes(shm_owner, shm, "after the instant");
  });
  TakeSnapshot();
  engine().SetSnapshotHookForTesting(nullptr);
  EXPECT_TRUE(CheckPages(pid, 2, at, 4));  // the live memory has the new bytes
  Crash();
  EXPECT_TRUE(CheckPages(pid, 1, at, 4));  // the snapshot has the instant's
  EXPECT_TRUE(CheckPages(shm_owner, 5, shm, 1));
  ExpectInvariants();
}

TEST_F(SnapshotTest, WritersDuringASnapshotNeverWaitAndTheSnapshotKeepsOneInstant) {
  // Two processes are written in lockstep (a then b, with the same
  // counter) while snapshots are taken: at any one instant a's counter is
  // b's or b's + 1. A crash copy must show exactly that.
  const Pid a = NewProcess("a"), b = NewProcess("b");
  const uint64_t at_a = Map(a, 64 * page()), at_b = Map(b, 64 * page());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> rounds{0};
  std::thread writer([&] {
    for (uint64_t n = 1; !stop.load(); ++n, rounds.store(n)) {
      const std::string value(reinterpret_cast<const char*>(&n), sizeof(n));
      for (uint64_t p = 0; p < 64; p += 7) {
        WriteBytes(a, at_a + p * page(), value);
      }
      for (uint64_t p = 0; p < 64; p += 7) {
        WriteBytes(b, at_b + p * page(), value);
      }
    }
  });
  auto wait_rounds = [&](uint64_t n) {  // bounded: the writer makes progress or the test fails
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (rounds.load() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    EXPECT_GE(rounds.load(), n);
  };
  wait_rounds(3);
  for (int i = 0; i < 20; ++i) TakeSnapshot();
  wait_rounds(rounds.load() + 2);  // writes went on after the last snapshot too
  stop.store(true);
  writer.join();
  Crash();
  auto counter = [&](Pid pid, uint64_t addr) {
    uint64_t n = 0;
    const std::string got = ReadBytes(pid, addr, sizeof(n));
    std::memcpy(&n, got.data(), sizeof(n));
    return n;
  };
  const uint64_t b0 = counter(b, at_b);
  for (uint64_t p = 0; p < 64; p += 7) {
    const uint64_t va = counter(a, at_a + p * page()), vb = counter(b, at_b + p * page());
    EXPECT_TRUE(va == vb || va == vb + 1) << "page " << p << ": a " << va << " b " << vb;
  }
  EXPECT_GT(b0, 0u);
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
