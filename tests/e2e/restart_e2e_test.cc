// Restarting the real memserverd on the same data directory.
//
// SIGTERM: everything written before comes back byte for byte, with the same
// pids, names and mappings: private anonymous memory of a forked pair that
// diverged after the fork (copy-on-write), a shared anonymous page they both
// map, a shared file mapping written through, a private file mapping written
// (its copy, not the file), files written through the file store, and a
// process larger than the frame pool (mostly in swap at shutdown). After the
// restart, copy-on-write and sharing still behave as before it.
//
// SIGKILL: the next start is clean, file data written or msync'ed before the
// kill is intact, and the start-up log names the processes that were lost.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "client/lib/client.h"
#include "tests/e2e/daemon.h"
#include "tests/support/temp_dir.h"

namespace memserver::e2e {
namespace {

using client::Client;
using client::kMapAnonymous;
using client::kMapPrivate;
using client::kMapShared;
using client::kProtRead;
using client::kProtWrite;

constexpr uint64_t kPage = 4096;
constexpr uint32_t kRw = kProtRead | kProtWrite;
constexpr uint64_t kBigBytes = 1 << 20;  // 4x the frame pool below
constexpr uint64_t kChunk = 64 << 10;

using ::memserver::test::TempDir;

// Deterministic bytes (splitmix64), different for each seed.
std::string Pattern(uint64_t seed, size_t bytes) {
  std::string out(bytes, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < bytes; i += 8) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (size_t k = 0; k < 8 && i + k < bytes; ++k) out[i + k] = static_cast<char>(z >> (8 * k));
  }
  return out;
}

std::string Overwritten(std::string base, uint64_t offset, std::string_view data) {
  base.replace(offset, data.size(), data);
  return base;
}

// Equality without dumping megabytes: the first differing offset.
::testing::AssertionResult SameBytes(const std::string& actual, const std::string& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  size_t at = 0;
  while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
  return ::testing::AssertionFailure() << "sizes " << actual.size() << " vs " << expected.size()
                                       << ", first difference at byte " << at;
}

std::string Describe(const client::Mapping& m) {
  return fmt::format("{:x}-{:x} prot={} flags={:#x} backing='{}' offset={}", m.start, m.end, m.prot,
                     m.flags, m.backing, m.offset);
}

// What a client can see of the processes: pid, name and mappings.
std::map<uint64_t, std::string> Layout(Client& c) {
  std::map<uint64_t, std::string> layout;
  for (const client::ProcessStats& p : c.ListProcesses()) {
    std::string text = p.name + ":";
    for (const client::Mapping& m : c.ListMappings(p.pid)) text += " [" + Describe(m) + "]";
    layout[p.pid] = text;
  }
  return layout;
}

std::string ReadRange(Client& c, uint64_t pid, uint64_t addr, uint64_t length) {
  std::string out;
  for (uint64_t at = 0; at < length; at += kChunk) {
    out += c.Read(pid, addr + at, std::min(kChunk, length - at));
  }
  return out;
}

class RestartE2eTest : public ::testing::Test {
 protected:
  void StartDaemon(const std::string& memory = "256KiB") {
    std::string error;
    daemon_ = Daemon::Start(dir_.path(),
                            {"--data-dir", dir_.path() + "/data", "--memory", memory,
                             "--metrics-listen", ""},
                            {}, &error);
    ASSERT_NE(daemon_, nullptr) << error;
    client_ = std::make_unique<Client>(daemon_->address());
  }
  void StopDaemon(int signal, int expected_status) {
    client_.reset();
    std::optional<int> status = daemon_->Stop(signal);
    ASSERT_TRUE(status.has_value()) << "memserverd did not exit\n" << daemon_->Log();
    EXPECT_EQ(*status, expected_status) << daemon_->Log();
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> client_;
};

// Where the test put things, and what each place must hold.
struct World {
  uint64_t parent = 0, child = 0, mapper = 0, big = 0;
  uint64_t anon = 0, shm = 0, shared_map = 0, private_map = 0, big_addr = 0;
  std::string parent_anon, child_anon, shm_bytes, shared_file, private_file, private_copy, plain,
      big_bytes;
};

void ExpectContents(Client& c, const World& w, const std::string& when) {
  SCOPED_TRACE(when);
  EXPECT_TRUE(SameBytes(ReadRange(c, w.parent, w.anon, 8 * kPage), w.parent_anon));
  EXPECT_TRUE(SameBytes(ReadRange(c, w.child, w.anon, 8 * kPage), w.child_anon));
  EXPECT_TRUE(SameBytes(c.Read(w.parent, w.shm, kPage), w.shm_bytes));
  EXPECT_TRUE(SameBytes(c.Read(w.child, w.shm, kPage), w.shm_bytes));
  EXPECT_TRUE(SameBytes(ReadRange(c, w.mapper, w.shared_map, 4 * kPage), w.shared_file));
  EXPECT_TRUE(SameBytes(c.ReadFile("/files/shared.bin", 0, 4 * kPage), w.shared_file));
  EXPECT_TRUE(SameBytes(ReadRange(c, w.mapper, w.private_map, 4 * kPage), w.private_copy));
  EXPECT_TRUE(SameBytes(c.ReadFile("/files/private.bin", 0, 4 * kPage), w.private_file));
  EXPECT_TRUE(SameBytes(c.ReadFile("/files/plain.txt", 0, 1 << 20), w.plain));
  EXPECT_TRUE(SameBytes(ReadRange(c, w.big, w.big_addr, kBigBytes), w.big_bytes));
}

TEST_F(RestartE2eTest, SigtermRestartServesTheSameProcessesByteForByte) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Client& c = *client_;
  World w;
  // Files through the file store.
  w.plain = Pattern(1, 10000);
  w.shared_file = Pattern(2, 4 * kPage);
  w.private_file = Pattern(3, 4 * kPage);
  c.WriteFile("/files/plain.txt", 0, w.plain);
  c.WriteFile("/files/shared.bin", 0, w.shared_file);
  c.WriteFile("/files/private.bin", 0, w.private_file);

  // A parent with private and shared anonymous memory, then a fork, then
  // both write: each sees its own private pages, both the shared page.
  w.parent = c.CreateProcess("parent").Release();
  w.anon = c.Mmap(w.parent, 0, 8 * kPage, kRw);
  c.Write(w.parent, w.anon, Pattern(4, 8 * kPage));
  w.shm = c.Mmap(w.parent, 0, kPage, kRw, kMapShared | kMapAnonymous);
  c.Write(w.parent, w.shm, "shared before fork");
  w.child = c.Fork(w.parent).Release();
  c.Write(w.parent, w.anon, "parent after fork");
  c.Write(w.child, w.anon + kPage, "child after fork");
  c.Write(w.child, w.shm + 100, "child wrote shm");
  w.parent_anon = Overwritten(Pattern(4, 8 * kPage), 0, "parent after fork");
  w.child_anon = Overwritten(Pattern(4, 8 * kPage), kPage, "child after fork");
  w.shm_bytes = Overwritten(Overwritten(std::string(kPage, '\0'), 0, "shared before fork"), 100,
                            "child wrote shm");

  // File mappings: a shared one written through (reaches the file), a
  // private one written (a private copy; the file stays as it was).
  w.mapper = c.CreateProcess("mapper").Release();
  client::MmapArgs shared;
  shared.length = 4 * kPage;
  shared.flags = kMapShared;
  shared.path = "/files/shared.bin";
  w.shared_map = c.Mmap(w.mapper, shared);
  c.Write(w.mapper, w.shared_map + kPage + 10, "through the shared mapping");
  w.shared_file = Overwritten(w.shared_file, kPage + 10, "through the shared mapping");
  client::MmapArgs priv = shared;
  priv.flags = kMapPrivate;
  priv.path = "/files/private.bin";
  w.private_map = c.Mmap(w.mapper, priv);
  c.Write(w.mapper, w.private_map + 2 * kPage, "private copy");
  w.private_copy = Overwritten(w.private_file, 2 * kPage, "private copy");

  // More than the frame pool: most of it is in swap when the server stops.
  w.big = c.CreateProcess("big").Release();
  w.big_addr = c.Mmap(w.big, 0, kBigBytes, kRw);
  for (uint64_t at = 0; at < kBigBytes; at += kChunk) {
    std::string chunk = Pattern(100 + at / kChunk, kChunk);
    c.Write(w.big, w.big_addr + at, chunk);
    w.big_bytes += chunk;
  }

  ExpectContents(c, w, "before the restart");
  const std::map<uint64_t, std::string> layout = Layout(c);
  ASSERT_EQ(layout.size(), 4u);

  ASSERT_NO_FATAL_FAILURE(StopDaemon(SIGTERM, 0));
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  EXPECT_NE(daemon_->Log().find("restored 4 processes"), std::string::npos) << daemon_->Log();
  Client& d = *client_;
  EXPECT_EQ(Layout(d), layout);
  ExpectContents(d, w, "after the restart");

  // Still copy-on-write between parent and child, still shared where shared.
  d.Write(w.parent, w.anon + 2 * kPage, "parent after restart");
  EXPECT_TRUE(SameBytes(d.Read(w.child, w.anon + 2 * kPage, kPage),
                        Pattern(4, 8 * kPage).substr(2 * kPage, kPage)));
  d.Write(w.child, w.shm + 200, "child after restart");
  EXPECT_EQ(d.Read(w.parent, w.shm + 200, 19), "child after restart");
  d.WriteFile("/files/shared.bin", 0, "file api after restart");
  EXPECT_EQ(d.Read(w.mapper, w.shared_map, 22), "file api after restart");
  ASSERT_NO_FATAL_FAILURE(StopDaemon(SIGTERM, 0));
}

TEST_F(RestartE2eTest, SigkillRestartKeepsSyncedFilesAndNamesLostProcesses) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  Client& c = *client_;
  std::string file = Pattern(5, 4 * kPage);
  c.WriteFile("/k/file.bin", 0, file);
  const uint64_t mapper = c.CreateProcess("doomed-mapper").Release();
  client::MmapArgs shared;
  shared.length = 4 * kPage;
  shared.flags = kMapShared;
  shared.path = "/k/file.bin";
  const uint64_t map = c.Mmap(mapper, shared);
  c.Write(mapper, map + kPage, "msynced before the kill");
  c.Msync(mapper, map, 4 * kPage, client::kMsSync);
  file = Overwritten(file, kPage, "msynced before the kill");
  const uint64_t anon = c.CreateProcess("doomed-anon").Release();
  c.Write(anon, c.Mmap(anon, 0, 16 * kPage, kRw), Pattern(6, 16 * kPage));

  ASSERT_NO_FATAL_FAILURE(StopDaemon(SIGKILL, 128 + SIGKILL));
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string log = daemon_->Log();
  EXPECT_NE(log.find("stopped without a final snapshot (crash?); its 2 processes created after the last snapshot could not be restored"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(fmt::format("{}(doomed-mapper)", mapper)), std::string::npos) << log;
  EXPECT_NE(log.find(fmt::format("{}(doomed-anon)", anon)), std::string::npos) << log;

  Client& d = *client_;
  EXPECT_TRUE(d.ListProcesses().empty());
  EXPECT_TRUE(SameBytes(d.ReadFile("/k/file.bin", 0, 1 << 20), file));
  // And it serves as usual: a new process, new pids, a clean shutdown.
  const uint64_t fresh = d.CreateProcess("fresh").Release();
  EXPECT_GT(fresh, 0u);
  const uint64_t addr = d.Mmap(fresh, 0, kPage, kRw);
  d.Write(fresh, addr, "alive");
  EXPECT_EQ(d.Read(fresh, addr, 5), "alive");
  ASSERT_NO_FATAL_FAILURE(StopDaemon(SIGTERM, 0));

  // The crash is reported once: the next start after a clean stop is clean.
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string second = daemon_->Log().substr(log.size());
  EXPECT_EQ(second.find("without a final snapshot"), std::string::npos) << second;
  EXPECT_NE(second.find("restored 1 processes"), std::string::npos) << second;
  ASSERT_NO_FATAL_FAILURE(StopDaemon(SIGTERM, 0));
}

// Destroying the gRPC server at shutdown used to drop the process's last
// reference on the gRPC library, and grpc_shutdown then joined an executor
// thread sitting in a poll of up to 10 s: about one stop in four, after
// traffic from two client threads, took 10 s instead of milliseconds (and
// the final snapshot waited behind it). Twelve stops after such traffic
// must each exit within 5 s, half of that poll.
TEST_F(RestartE2eTest, SigtermAfterTrafficExitsWithoutWaitingForGrpcsPoll) {
  constexpr int kStops = 12;
  constexpr uint64_t kBytes = 32 << 20, kIo = 4 << 20;
  uint64_t pid = 0, addr = 0;
  const std::string bytes = Pattern(7, kBytes);
  for (int i = 0; i < kStops; ++i) {
    SCOPED_TRACE(fmt::format("stop {}", i));
    ASSERT_NO_FATAL_FAILURE(StartDaemon("64MiB"));
    if (i == 0) {
      pid = client_->CreateProcess("stops").Release();
      addr = client_->Mmap(pid, 0, kBytes, kRw);
    }
    std::vector<std::thread> threads;
    for (uint64_t t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (uint64_t at = t * kIo; at < kBytes; at += 2 * kIo) {
          client_->Write(pid, addr + at, std::string_view(bytes).substr(at, kIo));
          client_->Read(pid, addr + at, kIo);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    client_.reset();
    std::optional<int> status = daemon_->Stop(SIGTERM, std::chrono::seconds(5));
    ASSERT_TRUE(status.has_value()) << "SIGTERM to exit took over 5 s\n" << daemon_->Log();
    ASSERT_EQ(*status, 0) << daemon_->Log();
  }
  ASSERT_NO_FATAL_FAILURE(StartDaemon("64MiB"));
  EXPECT_TRUE(SameBytes(ReadRange(*client_, pid, addr, kBytes), bytes));
  ASSERT_NO_FATAL_FAILURE(StopDaemon(SIGTERM, 0));
}

}  // namespace
}  // namespace memserver::e2e
