// Stress: fork storms under memory pressure, many processes running one
// program, concurrent forks, and a random workload checked against a model
// of what every process must read. Every run ends with no frame, page or
// swap entry left behind.
#include <random>
#include <thread>

#include "tests/conformance/conformance_fixture.h"
#include "tests/conformance/elf_builder.h"

namespace memserver::conformance {
namespace {

class StressTest : public ConformanceTest {
 protected:
  // After every process exited: nothing in frames, pages or swap.
  void ExpectEverythingReleased() {
    const GlobalStats g = Global();
    EXPECT_EQ(g.processes, 0u);
    EXPECT_EQ(g.pages, 0u);
    EXPECT_EQ(g.locked_pages, 0u);
    EXPECT_EQ(SwapKeys(), 0u);
    ExpectInvariants();
  }
};

TEST_F(StressTest, ThousandForksUnderMemoryPressureStayIsolated) {
  constexpr uint64_t kPages = 64, kChildren = 1000, kBatch = 100;
  OpenWithFrames(128);
  const Pid parent = NewProcess("parent");
  const uint64_t at = Map(parent, kPages * kPage);
  WritePattern(parent, 1, at, kPages * kPage);
  const std::string original = Pattern(1, at, kPages * kPage);

  for (uint64_t first = 0; first < kChildren; first += kBatch) {
    std::vector<Pid> children;
    for (uint64_t i = first; i < first + kBatch; ++i) {
      const Pid child = ForkOf(parent);
      ASSERT_NE(child, 0u);
      const uint64_t page = at + (i % kPages) * kPage;
      WriteBytes(child, page, Pattern(1000 + i, page, kPage));
      children.push_back(child);
    }
    for (uint64_t i = first; i < first + kBatch; ++i) {
      const Pid child = children[i - first];
      const std::string got = ReadChunked(child, at, kPages * kPage);
      ASSERT_EQ(got.size(), original.size());
      const uint64_t own = (i % kPages) * kPage;
      std::string want = original;
      want.replace(own, kPage, Pattern(1000 + i, at + own, kPage));
      ASSERT_TRUE(Matches(got, want, at)) << "child " << i;
    }
    for (const Pid child : children) ASSERT_OK(engine().Exit(child));
    ASSERT_TRUE(HasPattern(parent, 1, at, kPages * kPage)) << "after batch at " << first;
  }
  EXPECT_GT(Global().evictions, 0u) << "the test must run under memory pressure";
  ExpectInvariants();
  ASSERT_OK(engine().Exit(parent));
  ExpectEverythingReleased();
}

TEST_F(StressTest, HundredProcessesRunningLsShareItsText) {
  OpenWithFrames(2048);
  const std::string ls = HostFile("/bin/ls");
  ASSERT_FALSE(ls.empty()) << "/bin/ls is not readable on this machine (Debian's coreutils installed?)";
  PutFile("/bin/ls", ls);
  uint64_t text_pages = 0;
  uint64_t text_vaddr = 0;
  for (const Elf64_Phdr& ph : LoadHeaders(ls)) {
    if (ph.p_flags & PF_X) {
      text_vaddr = ph.p_vaddr;
      text_pages = (ph.p_memsz + kPage - 1) / kPage;
    }
  }
  ASSERT_GT(text_pages, 0u);
  std::vector<Pid> pids;
  uint64_t one = 0;
  for (int i = 0; i < 100; ++i) {
    pids.push_back(NewProcess("ls"));
    ExecImage image;
    ASSERT_OK(engine().Exec(pids.back(), "/bin/ls", &image));
    const uint64_t text = image.load_base + (text_vaddr & ~(kPage - 1));
    for (uint64_t p = 0; p < text_pages; ++p) ReadBytes(pids.back(), text + p * kPage, 16);
    if (i == 0) one = FramesUsed();
  }
  const uint64_t hundred = FramesUsed();
  EXPECT_LT(hundred - one, 100 * text_pages / 10)
      << "text pages: " << text_pages << ", frames with 1 process: " << one << ", with 100: " << hundred;
  for (const Pid pid : pids) ASSERT_OK(engine().Exit(pid));
  ExpectInvariants();
}

TEST_F(StressTest, ConcurrentForksOfOneParentStayIsolated) {
  constexpr uint64_t kPages = 16;
  OpenWithFrames(96);
  const Pid parent = NewProcess("parent");
  const uint64_t at = Map(parent, kPages * kPage);
  WritePattern(parent, 1, at, kPages * kPage);
  const std::string original = Pattern(1, at, kPages * kPage);
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 40; ++i) {
        Pid child = 0;
        const Status s = engine().Fork(parent, &child);
        if (!s.ok()) {
          ADD_FAILURE() << "Fork: " << s.ToString();
          return;
        }
        const uint64_t seed = 100 + t * 1000 + i;
        const uint64_t page = at + ((t + i) % kPages) * kPage;
        WriteBytes(child, page, Pattern(seed, page, kPage));
        std::string want = original;
        want.replace(page - at, kPage, Pattern(seed, page, kPage));
        std::string got(kPages * kPage, '\0');
        const Status r = engine().Read(child, at, got.size(), got.data());
        if (!r.ok() || got != want) ADD_FAILURE() << "child " << seed << ": " << r.ToString();
        const Status e = engine().Exit(child);
        if (!e.ok()) ADD_FAILURE() << "Exit: " << e.ToString();
      }
    });
  }
  // Meanwhile the parent keeps faulting on a mapping no child checks, so
  // its writes race with the forks of the region the children do check.
  const uint64_t scratch = Map(parent, 8 * kPage);
  for (int round = 0; round < 40; ++round) WritePattern(parent, 7 + round, scratch, 8 * kPage);
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(HasPattern(parent, 1, at, kPages * kPage));
  ASSERT_OK(engine().Exit(parent));
  ExpectEverythingReleased();
}

// Random mmap-free workload over one 32-page private region in up to four
// processes: writes, forks (replacing a process by a child of another),
// MADV_DONTNEED and exits, with a model of every process's bytes.
TEST_F(StressTest, RandomWorkloadMatchesAModel) {
  constexpr uint64_t kPages = 32;
  constexpr uint64_t kBytes = kPages * kPage;
  OpenWithFrames(48);
  std::mt19937_64 rng(1234);
  struct Proc {
    Pid pid;
    std::string model;
  };
  std::vector<Proc> procs;
  procs.push_back(Proc{NewProcess("p0"), std::string(kBytes, '\0')});
  const uint64_t at = Map(procs[0].pid, kBytes);
  for (int op = 0; op < 3000; ++op) {
    Proc& p = procs[rng() % procs.size()];
    const uint64_t choice = rng() % 100;
    if (choice < 60) {  // write a random run within one page
      const uint64_t page = rng() % kPages;
      const uint64_t off = rng() % kPage;
      const uint64_t len = 1 + rng() % (kPage - off);
      const uint64_t addr = at + page * kPage + off;
      const std::string data = Pattern(op, addr, len);
      WriteBytes(p.pid, addr, data);
      p.model.replace(page * kPage + off, len, data);
    } else if (choice < 70) {  // fork
      Proc child{ForkOf(p.pid), p.model};
      if (procs.size() < 4) {
        procs.push_back(std::move(child));
      } else {
        Proc& victim = procs[rng() % procs.size()];
        ASSERT_OK(engine().Exit(victim.pid));
        victim = std::move(child);
      }
    } else if (choice < 75) {  // drop some pages
      const uint64_t page = rng() % kPages;
      const uint64_t n = 1 + rng() % (kPages - page);
      ASSERT_OK(engine().Madvise(p.pid, at + page * kPage, n * kPage, kMadvDontNeed));
      p.model.replace(page * kPage, n * kPage, std::string(n * kPage, '\0'));
    } else {  // check one page
      const uint64_t page = rng() % kPages;
      ASSERT_TRUE(Matches(ReadBytes(p.pid, at + page * kPage, kPage), p.model.substr(page * kPage, kPage),
                          at + page * kPage))
          << "op " << op;
    }
    if (op % 500 == 499) ExpectInvariants();
  }
  for (const Proc& p : procs) {
    EXPECT_TRUE(Matches(ReadChunked(p.pid, at, kBytes), p.model, at)) << "pid " << p.pid;
    ASSERT_OK(engine().Exit(p.pid));
  }
  ExpectEverythingReleased();
}

}  // namespace
}  // namespace memserver::conformance
