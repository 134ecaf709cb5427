// restart_timing: measures how long memserverd takes to restart with a given
// amount of resident data. Not a test (it prints numbers, asserts nothing
// about time); run by hand:
//
//   build/tests/e2e/restart_timing [--data 1GiB] [--memory 2GiB] [--dir /tmp] [--crash]
//
// It starts the real memserverd (MEMSERVERD_PATH) on a fresh data directory,
// writes --data of non-zero bytes into one process (4 MiB writes from 2
// threads), then times: SIGTERM to exit (the final snapshot writes every
// dirty page), start to serving (port file written), and reading everything
// back (pages come back from RocksDB on fault), checking every byte.
// With --crash, the stop is a snapshot (the Snapshot RPC, as the periodic
// one would take it) followed by SIGKILL: the restart recovers from that
// snapshot after an unclean stop.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "client/lib/client.h"
#include "tests/e2e/daemon.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kChunk = 4ull << 20;
constexpr int kThreads = 2;

double Seconds(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

// Non-zero bytes that differ per chunk, cheap to regenerate for checking.
std::string ChunkBytes(uint64_t index) {
  std::string s(kChunk, '\0');
  uint64_t x = index * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < s.size(); i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    for (size_t k = 0; k < 8; ++k) s[i + k] = static_cast<char>((x >> (8 * k)) | 1);
  }
  return s;
}

// Runs fn(chunk) for every chunk, split over kThreads threads.
template <typename Fn>
void ForEachChunk(uint64_t chunks, Fn fn) {
  std::atomic<uint64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i; (i = next.fetch_add(1)) < chunks;) fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

uint64_t ParseSize(const std::string& text) {
  char* end = nullptr;
  uint64_t n = std::strtoull(text.c_str(), &end, 10);
  std::string unit(end);
  if (unit == "GiB") return n << 30;
  if (unit == "MiB") return n << 20;
  if (unit == "KiB") return n << 10;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "1GiB", memory = "2GiB", base = std::filesystem::temp_directory_path();
  bool crash = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--crash") crash = true;
    else if (flag == "--data" && i + 1 < argc) data = argv[++i];
    else if (flag == "--memory" && i + 1 < argc) memory = argv[++i];
    else if (flag == "--dir" && i + 1 < argc) base = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: restart_timing [--data 1GiB] [--memory 2GiB] [--dir DIR] [--crash]\n");
      return 2;
    }
  }
  const uint64_t bytes = ParseSize(data);
  const uint64_t chunks = bytes / kChunk;
  std::string dir = base + "/memserver-restart-timing-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  const std::vector<std::string> flags = {"--data-dir", dir + "/data", "--memory", memory,
                                          "--metrics-listen", ""};
  using memserver::e2e::Daemon;
  std::string error;

  auto start = Clock::now();
  auto daemon = Daemon::Start(dir, flags, {}, &error);
  if (!daemon) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  std::printf("first start to serving:   %8.3f s\n", Seconds(start));

  uint64_t pid = 0, addr = 0;
  {
    memserver::client::Client c(daemon->address());
    pid = c.CreateProcess("timed").Release();
    addr = c.Mmap(pid, 0, chunks * kChunk, memserver::client::kProtRead | memserver::client::kProtWrite);
    start = Clock::now();
    ForEachChunk(chunks, [&](uint64_t i) { c.Write(pid, addr + i * kChunk, ChunkBytes(i)); });
    const double s = Seconds(start);
    std::printf("write %s:               %8.3f s (%.0f MiB/s)\n", data.c_str(), s,
                bytes / s / (1 << 20));
    auto stats = c.GetGlobalStats();
    std::printf("resident before stop:     %8llu pages, %llu in swap\n",
                static_cast<unsigned long long>(stats.frames_total - stats.frames_free),
                static_cast<unsigned long long>(stats.swap_pages));
  }

  std::optional<int> status;
  if (crash) {
    start = Clock::now();
    const memserver::client::SnapshotInfo snap = memserver::client::Client(daemon->address()).Snapshot();
    std::printf("snapshot:                 %8.3f s (%llu pages written, capture %.1f ms)\n",
                Seconds(start), static_cast<unsigned long long>(snap.pages_written), snap.capture_ms);
    status = daemon->Stop(SIGKILL);
    std::printf("SIGKILL                   (status %d)\n", status.value_or(-1));
  } else {
    start = Clock::now();
    status = daemon->Stop(SIGTERM);
    std::printf("SIGTERM to exit:          %8.3f s (exit %d)\n", Seconds(start), status.value_or(-1));
  }

  start = Clock::now();
  daemon = Daemon::Start(dir, flags, {}, &error);
  if (!daemon) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  std::printf("restart to serving:       %8.3f s\n", Seconds(start));
  if (crash) {
    const memserver::client::RecoveryReport r = memserver::client::Client(daemon->address()).GetRecovery();
    std::printf("recovery:                 unclean=%d, generation %llu, %zu processes restored\n",
                r.unclean ? 1 : 0, static_cast<unsigned long long>(r.snapshot_generation),
                r.restored.size());
  }

  std::atomic<uint64_t> bad{0};
  {
    memserver::client::Client c(daemon->address());
    start = Clock::now();
    ForEachChunk(chunks, [&](uint64_t i) {
      if (c.Read(pid, addr + i * kChunk, kChunk) != ChunkBytes(i)) bad.fetch_add(1);
    });
    const double s = Seconds(start);
    std::printf("read back %s:           %8.3f s (%.0f MiB/s), %llu chunks differ\n", data.c_str(), s,
                bytes / s / (1 << 20), static_cast<unsigned long long>(bad.load()));
  }
  start = Clock::now();
  status = daemon->Stop(SIGTERM);
  std::printf("second SIGTERM to exit:   %8.3f s (exit %d)\n", Seconds(start), status.value_or(-1));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return bad.load() == 0 ? 0 : 1;
}
