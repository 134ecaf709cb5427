// Crashes of the real memserverd (SIGKILL) under load, and SIGKILL during a
// graceful stop: what the server promises to keep (server/engine/
// snapshotter.h) is there after every restart, and nothing of a snapshot
// that did not complete is visible.
//
// Every page the test writes holds a version stamp and a pattern derived
// from (region, page, version), so a restored page names the version it
// holds and a torn or foreign page is detected. For every page the test
// keeps the versions acknowledged durable (by a completed Snapshot call, or
// an MS_SYNC msync of the page) and the newest version it attempted; after a
// restart each page must hold a version between the two.
//
// Consistency: the pages of region S of a worker are written in rounds, in
// page order, so at any instant their versions read R...R R-1...R-1; two
// processes written in lockstep (A's page, then B's) hold equal versions or
// A's one step ahead. A restore that mixed two snapshots, or half of one,
// breaks these.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "client/lib/client.h"
#include "tests/e2e/daemon.h"
#include "tests/support/temp_dir.h"

namespace memserver::e2e {
namespace {

using client::Client;
using ::memserver::test::TempDir;

constexpr uint64_t kPage = 4096;
constexpr uint32_t kRw = client::kProtRead | client::kProtWrite;

// --- Stamped pages -------------------------------------------------------

std::string StampedPage(uint64_t tag, uint64_t version) {
  std::string page(kPage, '\0');
  std::memcpy(page.data(), &version, 8);
  std::memcpy(page.data() + 8, &tag, 8);
  uint64_t x = (tag * 0x9e3779b97f4a7c15ull) ^ (version * 0xbf58476d1ce4e5b9ull) ^ 0x94d049bb133111ebull;
  for (size_t i = 16; i < kPage; i += 8) {
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ull;
    std::memcpy(page.data() + i, &x, 8);
  }
  return page;
}

// The version a page holds: 0 for an all-zero (never written) page; -1 for
// a page that is no whole stamped page of `tag`.
int64_t VersionOf(const std::string& page, uint64_t tag) {
  if (page == std::string(kPage, '\0')) return 0;
  uint64_t version = 0, got_tag = 0;
  std::memcpy(&version, page.data(), 8);
  std::memcpy(&got_tag, page.data() + 8, 8);
  if (got_tag != tag || page != StampedPage(tag, version)) return -1;
  return static_cast<int64_t>(version);
}

// One page the test writes: where, and the versions the test knows of.
struct TrackedPage {
  uint64_t pid = 0;
  uint64_t addr = 0;
  uint64_t tag = 0;
  uint64_t acked = 0;      // durable: a completed Snapshot or an msync of it
  uint64_t written = 0;    // acknowledged by a completed Write
  uint64_t attempted = 0;  // a Write was sent (maybe never applied)
};

// --- The world under test -------------------------------------------------

constexpr int kWorkers = 3;
constexpr uint64_t kSPages = 32;  // snapshot-consistency region of each worker
constexpr uint64_t kMPages = 8;   // msync'd region of each worker
constexpr uint64_t kHPages = 2;   // shared anonymous, written by the child
constexpr uint64_t kFPages = 4;   // private file mapping, msync'd
constexpr uint64_t kLockstepPages = 16;

struct Worker {
  uint64_t parent = 0, child = 0;
  std::vector<TrackedPage> s, m, h, f;
};

struct World {
  std::vector<Worker> workers;
  uint64_t a = 0, b = 0;  // the lockstep pair
  std::vector<TrackedPage> la, lb;
  std::mutex mu;  // guards every TrackedPage's versions
};

uint64_t Tag(uint64_t region, uint64_t owner, uint64_t page) { return region << 48 | owner << 32 | page; }

std::vector<TrackedPage> Region(uint64_t pid, uint64_t addr, uint64_t pages, uint64_t region, uint64_t owner) {
  std::vector<TrackedPage> out;
  for (uint64_t i = 0; i < pages; ++i) out.push_back(TrackedPage{pid, addr + i * kPage, Tag(region, owner, i)});
  return out;
}

void BuildWorld(Client& c, World* w) {
  const std::string file(kFPages * kPage, 'f');
  c.WriteFile("/crash/data.bin", 0, file);
  for (int i = 0; i < kWorkers; ++i) {
    Worker wk;
    wk.parent = c.CreateProcess(fmt::format("worker-{}", i)).Release();
    const uint64_t s = c.Mmap(wk.parent, 0, kSPages * kPage, kRw);
    const uint64_t m = c.Mmap(wk.parent, 0, kMPages * kPage, kRw);
    const uint64_t h = c.Mmap(wk.parent, 0, kHPages * kPage, kRw, client::kMapShared | client::kMapAnonymous);
    client::MmapArgs fa;
    fa.length = kFPages * kPage;
    fa.flags = client::kMapPrivate;
    fa.path = "/crash/data.bin";
    const uint64_t f = c.Mmap(wk.parent, fa);
    wk.child = c.Fork(wk.parent).Release();
    wk.s = Region(wk.parent, s, kSPages, 1, i);
    wk.m = Region(wk.parent, m, kMPages, 2, i);
    wk.h = Region(wk.child, h, kHPages, 3, i);
    wk.f = Region(wk.parent, f, kFPages, 4, i);
    // F starts as the file's bytes: stamp it before anything else.
    for (TrackedPage& p : wk.f) {
      c.Write(p.pid, p.addr, StampedPage(p.tag, 1));
      p.written = p.attempted = 1;
    }
    w->workers.push_back(std::move(wk));
  }
  w->a = c.CreateProcess("lockstep-a").Release();
  w->b = c.CreateProcess("lockstep-b").Release();
  w->la = Region(w->a, c.Mmap(w->a, 0, kLockstepPages * kPage, kRw), kLockstepPages, 5, 0);
  w->lb = Region(w->b, c.Mmap(w->b, 0, kLockstepPages * kPage, kRw), kLockstepPages, 5, 1);
}

template <class Fn>
void ForEachPage(World* w, Fn fn) {
  for (Worker& wk : w->workers) {
    for (auto* region : {&wk.s, &wk.m, &wk.h, &wk.f}) {
      for (TrackedPage& p : *region) fn(p);
    }
  }
  for (auto* region : {&w->la, &w->lb}) {
    for (TrackedPage& p : *region) fn(p);
  }
}

// Write `version` to `p`, keeping the books; false once the server is gone.
bool WritePage(Client& c, World* w, TrackedPage& p, uint64_t version) {
  {
    std::lock_guard<std::mutex> l(w->mu);
    p.attempted = std::max(p.attempted, version);
  }
  try {
    c.Write(p.pid, p.addr, StampedPage(p.tag, version));
  } catch (const client::Error&) {
    return false;
  }
  std::lock_guard<std::mutex> l(w->mu);
  p.written = std::max(p.written, version);
  return true;
}

bool MsyncPage(Client& c, World* w, TrackedPage& p) {
  uint64_t version;
  {
    std::lock_guard<std::mutex> l(w->mu);
    version = p.written;
  }
  try {
    c.Msync(p.pid, p.addr, kPage, client::kMsSync);
  } catch (const client::Error&) {
    return false;
  }
  std::lock_guard<std::mutex> l(w->mu);
  p.acked = std::max(p.acked, version);
  return true;
}

// The load of one worker until the server goes away or `stop`.
void RunWorker(const std::string& address, World* w, int index, uint64_t first_round, const std::atomic<bool>* stop) {
  Client c(address);
  Worker& wk = w->workers[index];
  for (uint64_t r = first_round; !stop->load(); ++r) {
    for (TrackedPage& p : wk.s) {
      if (!WritePage(c, w, p, r)) return;
    }
    TrackedPage& m = wk.m[r % kMPages];
    if (!WritePage(c, w, m, r) || !MsyncPage(c, w, m)) return;
    TrackedPage& h = wk.h[r % kHPages];  // through the child: shared with the parent
    if (!WritePage(c, w, h, r) || (r % 2 == 0 && !MsyncPage(c, w, h))) return;
    TrackedPage& f = wk.f[r % kFPages];
    if (!WritePage(c, w, f, r) || (r % 3 == 0 && !MsyncPage(c, w, f))) return;
  }
}

void RunLockstep(const std::string& address, World* w, uint64_t first, const std::atomic<bool>* stop) {
  Client c(address);
  for (uint64_t n = first; !stop->load(); ++n) {
    const size_t p = n % kLockstepPages;
    if (!WritePage(c, w, w->la[p], n) || !WritePage(c, w, w->lb[p], n)) return;
  }
}

// A Snapshot call; on success every page's written version before the call
// is durable.
bool Snapshot(Client& c, World* w) {
  std::vector<uint64_t> before;
  {
    std::lock_guard<std::mutex> l(w->mu);
    ForEachPage(w, [&](TrackedPage& p) { before.push_back(p.written); });
  }
  try {
    c.Snapshot();
  } catch (const client::Error&) {
    return false;
  }
  std::lock_guard<std::mutex> l(w->mu);
  size_t i = 0;
  ForEachPage(w, [&](TrackedPage& p) { p.acked = std::max(p.acked, before[i++]); });
  return true;
}

class CrashE2eTest : public ::testing::Test {
 protected:
  void StartDaemon(const std::string& snapshot_interval = "300ms") {
    std::vector<std::string> flags = {"--data-dir", dir_.path() + "/data", "--memory", "1MiB", "--metrics-listen",
                                      "", "--snapshot-interval", snapshot_interval};
    std::string error;
    daemon_ = Daemon::Start(dir_.path(), flags, {}, &error);
    ASSERT_NE(daemon_, nullptr) << error;
  }
  void Kill() {
    std::optional<int> status = daemon_->Stop(SIGKILL);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(*status, 128 + SIGKILL);
  }

  // Every page holds a whole version between its acknowledged and
  // attempted ones; the books move to what it holds.
  void CheckAndAdopt(Client& c, World* w, const std::string& when) {
    SCOPED_TRACE(when);
    std::lock_guard<std::mutex> l(w->mu);
    ForEachPage(w, [&](TrackedPage& p) {
      const std::string page = c.Read(p.pid, p.addr, kPage);
      const int64_t v = VersionOf(page, p.tag);
      if (v < 0) {
        uint64_t version = 0, tag = 0;
        std::memcpy(&version, page.data(), 8);
        std::memcpy(&tag, page.data() + 8, 8);
        ADD_FAILURE() << fmt::format("pid {} addr {:#x} tag {:#x}: holds version {} of tag {:#x} (first byte {:#x})",
                                     p.pid, p.addr, p.tag, version, tag, static_cast<unsigned char>(page[0]));
      }
      EXPECT_GE(v, static_cast<int64_t>(p.acked)) << fmt::format("tag {:#x}: a durable version is gone", p.tag);
      EXPECT_LE(v, static_cast<int64_t>(p.attempted)) << fmt::format("tag {:#x}: never written", p.tag);
      p.written = p.attempted = p.acked = std::max<int64_t>(v, 0);
    });
    for (const Worker& wk : w->workers) {
      for (size_t i = 0; i + 1 < wk.s.size(); ++i) {
        EXPECT_GE(wk.s[i].written, wk.s[i + 1].written) << "region S of worker " << wk.parent << " page " << i;
      }
      EXPECT_LE(wk.s.front().written, wk.s.back().written + 1) << "region S of worker " << wk.parent;
    }
    for (size_t p = 0; p < kLockstepPages; ++p) {
      const uint64_t a = w->la[p].written, b = w->lb[p].written;
      EXPECT_TRUE(a == b || a == b + kLockstepPages) << "lockstep page " << p << ": a " << a << " b " << b;
    }
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(CrashE2eTest, KillNineLoopKeepsEveryByteASnapshotOrMsyncAcknowledged) {
  constexpr int kCycles = 20;
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  World world;
  {
    Client c(daemon_->address());
    BuildWorld(c, &world);
    ASSERT_TRUE(Snapshot(c, &world));
  }
  std::mt19937 rng(20261204);
  int killed_during_snapshot = 0;
  uint64_t round = 2;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE(fmt::format("cycle {}", cycle));
    std::atomic<bool> stop{false};
    std::vector<std::thread> load;
    for (int i = 0; i < kWorkers; ++i) {
      load.emplace_back(RunWorker, daemon_->address(), &world, i, round, &stop);
    }
    load.emplace_back(RunLockstep, daemon_->address(), &world, round * kLockstepPages, &stop);
    Client c(daemon_->address());
    // Let the load run, taking snapshots now and then; every third cycle
    // ends with a kill while a Snapshot call is being written.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200 + rng() % 400);
    while (std::chrono::steady_clock::now() < until) {
      (void)Snapshot(c, &world);
    }
    if (cycle % 3 == 2) {
      std::atomic<bool> done{false};
      std::thread snap([&] {
        Client s(daemon_->address());
        (void)Snapshot(s, &world);
        done.store(true);
      });
      std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 1500));  // the kill's moment
      const bool in_flight = !done.load();
      ASSERT_NO_FATAL_FAILURE(Kill());
      snap.join();
      if (in_flight) ++killed_during_snapshot;
    } else {
      ASSERT_NO_FATAL_FAILURE(Kill());
    }
    stop.store(true);
    for (std::thread& t : load) t.join();
    round += 1000;  // versions after the restart are new ones
    ASSERT_NO_FATAL_FAILURE(StartDaemon());
    Client d(daemon_->address());
    ASSERT_EQ(d.ListProcesses().size(), 2u * kWorkers + 2) << daemon_->Log();
    CheckAndAdopt(d, &world, fmt::format("after crash {}", cycle));
    if (HasFailure()) break;
  }
  EXPECT_GE(killed_during_snapshot, 3) << "kills that landed while a Snapshot call was being written";
  ASSERT_NO_FATAL_FAILURE(Kill());
}

TEST_F(CrashE2eTest, SigkillAtAnyMomentOfAGracefulStopLeavesTheNewSnapshotOrThePrevious) {
  // More dirty data than the 1 MiB pool: part of it is in swap at the stop.
  constexpr uint64_t kPages = 512;
  const std::vector<int> delays_us = {0, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000};
  ASSERT_NO_FATAL_FAILURE(StartDaemon("0"));
  uint64_t pid = 0, addr = 0;
  uint64_t previous = 1;  // the version every page held at the last snapshot
  {
    Client c(daemon_->address());
    pid = c.CreateProcess("graceful").Release();
    addr = c.Mmap(pid, 0, kPages * kPage, kRw);
    for (uint64_t p = 0; p < kPages; ++p) c.Write(pid, addr + p * kPage, StampedPage(Tag(6, 0, p), previous));
    c.Snapshot();
  }
  int newer = 0, older = 0;
  for (size_t i = 0; i < delays_us.size(); ++i) {
    SCOPED_TRACE(fmt::format("SIGKILL {} us after SIGTERM", delays_us[i]));
    const uint64_t next = 100 + i;
    {
      Client c(daemon_->address());
      for (uint64_t p = 0; p < kPages; ++p) c.Write(pid, addr + p * kPage, StampedPage(Tag(6, 0, p), next));
    }
    daemon_->Signal(SIGTERM);
    std::this_thread::sleep_for(std::chrono::microseconds(delays_us[i]));  // the moment of the kill, swept
    std::optional<int> status = daemon_->Stop(SIGKILL);
    ASSERT_TRUE(status.has_value());
    ASSERT_NO_FATAL_FAILURE(StartDaemon("0"));
    Client d(daemon_->address());
    // Whole: every page the new version, or every page the previous one.
    const int64_t first = VersionOf(d.Read(pid, addr, kPage), Tag(6, 0, 0));
    for (uint64_t p = 0; p < kPages; ++p) {
      ASSERT_EQ(VersionOf(d.Read(pid, addr + p * kPage, kPage), Tag(6, 0, p)), first) << "page " << p;
    }
    ASSERT_TRUE(first == static_cast<int64_t>(next) || first == static_cast<int64_t>(previous)) << first;
    (first == static_cast<int64_t>(next) ? newer : older)++;
    previous = first;
  }
  // Both outcomes happen across the sweep: the kill came before and after
  // the final snapshot's commit.
  EXPECT_GT(newer, 0);
  EXPECT_GT(older, 0);
  ASSERT_NO_FATAL_FAILURE(Kill());
}

}  // namespace
}  // namespace memserver::e2e
