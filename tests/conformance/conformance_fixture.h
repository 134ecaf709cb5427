// ConformanceTest: the base of every POSIX-semantics conformance test.
//
// Each test gets a fresh temporary directory holding a real RocksDB store and
// an Engine over it; the engine can be closed and reopened over the same
// directory (files persist, processes do not). Everything goes through the
// public Engine API (server/engine/engine.h).
//
// Helpers never assert fatally: they record a failure with ADD_FAILURE and
// return a harmless value, so a test can chain them and still report every
// broken step. Content checks use a pattern that depends on a seed and on
// the absolute address (or file offset) of each byte, so content read back
// from the wrong page shows up as a mismatch at a named address.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/common/status.h"
#include "server/engine/engine.h"
#include "server/engine/options.h"
#include "server/engine/types.h"
#include "storage/backing_store.h"
#include "tests/support/status_assertions.h"

namespace memserver {

namespace conformance {

// Byte of the test pattern at `where` (an address or file offset) for `seed`.
inline char PatternByte(uint64_t seed, uint64_t where) {
  uint64_t x = (seed + 1) * 0x9E3779B97F4A7C15ull ^ where;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return static_cast<char>(x | 1);  // never zero: a zero byte always means "zeros"
}

inline std::string Pattern(uint64_t seed, uint64_t where, uint64_t length) {
  std::string out(length, '\0');
  for (uint64_t i = 0; i < length; ++i) out[i] = PatternByte(seed, where + i);
  return out;
}

// The first index where `got` differs from `want`, or npos.
inline size_t FirstDifference(std::string_view got, std::string_view want) {
  if (got.size() != want.size()) return std::min(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) return i;
  }
  return std::string_view::npos;
}

}  // namespace conformance
}  // namespace memserver

namespace memserver::conformance {

class ConformanceTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kPage = 4096;
  static constexpr uint32_t kRW = kProtRead | kProtWrite;
  static constexpr uint32_t kAnon = kMapPrivate | kMapAnonymous;
  static constexpr uint32_t kSharedAnon = kMapShared | kMapAnonymous;

  void SetUp() override {
    std::string dir = TempRoot() + "/memserver-conformance-XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr) << dir;
    dir_ = dir;
  }

  // Where test databases go: $MEMSERVER_TEST_TMPDIR if set; else /dev/shm
  // when it is a roomy tmpfs (RocksDB's fsyncs cost nothing there, which
  // keeps the suite fast); else /tmp.
  static std::string TempRoot() {
    if (const char* env = getenv("MEMSERVER_TEST_TMPDIR"); env != nullptr && *env != '\0') return env;
    std::error_code ec;
    const std::filesystem::space_info shm = std::filesystem::space("/dev/shm", ec);
    if (!ec && shm.available >= (512ull << 20)) return "/dev/shm";
    return "/tmp";
  }

  void TearDown() override {
    if (engine_) ExpectInvariants();
    engine_.reset();  // closes the store before its files go
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Defaults except `frames` 4 KiB frames and a small eviction batch that
  // suits small pools.
  static EngineOptions Options(uint64_t frames) {
    EngineOptions o;
    o.memory_bytes = frames * kPage;
    o.eviction_batch = 4;
    // Every test also checks the tenants' memory charges: ExpectInvariants
    // recounts them (they change nothing else the engine does).
    o.account_tenant_memory = true;
    return o;
  }

  std::string DbPath() const { return dir_ + "/db"; }

  // Opens the engine over the RocksDB store at DbPath() (created when new).
  Status Open(const EngineOptions& options) {
    engine_.reset();
    storage::RocksDbOptions ro;
    ro.path = DbPath();
    ro.write_buffer_bytes = 4ull << 20;
    ro.block_cache_bytes = 1ull << 20;
    std::unique_ptr<storage::BackingStore> store;
    MEMSERVER_RETURN_IF_ERROR(storage::OpenRocksDbStore(ro, &store));
    options_ = options;
    return Engine::Open(options, std::move(store), &engine_);
  }
  void OpenWithFrames(uint64_t frames) {
    const Status s = Open(Options(frames));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Closes the engine (processes are gone) and opens a new one over a new
  // store object on the same directory.
  void Reopen() {
    engine_.reset();
    const Status s = Open(options_);
    ASSERT_TRUE(s.ok()) << "reopen: " << s.ToString();
  }

  // What a crash would leave behind: a copy of the database directory as it
  // is on disk now (the running engine keeps it open), opened by a second
  // engine. Null (and a failure) when that cannot be done.
  std::unique_ptr<Engine> OpenCrashCopy() {
    const std::string copy = dir_ + "/crash" + std::to_string(++crash_copies_);
    std::error_code ec;
    std::filesystem::copy(DbPath(), copy, std::filesystem::copy_options::recursive, ec);
    if (ec) {
      ADD_FAILURE() << "copying the database: " << ec.message();
      return nullptr;
    }
    std::filesystem::remove(copy + "/LOCK", ec);
    storage::RocksDbOptions ro;
    ro.path = copy;
    std::unique_ptr<storage::BackingStore> store;
    Status s = storage::OpenRocksDbStore(ro, &store);
    std::unique_ptr<Engine> recovered;
    if (s.ok()) s = Engine::Open(options_, std::move(store), &recovered);
    if (!s.ok()) ADD_FAILURE() << "opening the crash copy: " << s.ToString();
    return recovered;
  }

  Engine& engine() { return *engine_; }

  Pid NewProcess(const std::string& name = "conformance") {
    Pid pid = 0;
    const Status s = engine_->CreateProcess(name, &pid);
    if (!s.ok()) ADD_FAILURE() << "CreateProcess: " << s.ToString();
    return pid;
  }
  Pid ForkOf(Pid parent) {
    Pid child = 0;
    const Status s = engine_->Fork(parent, &child);
    if (!s.ok()) ADD_FAILURE() << "Fork(" << parent << "): " << s.ToString();
    return child;
  }

  Status MmapStatus(Pid pid, const MmapArgs& args, uint64_t* addr) { return engine_->Mmap(pid, args, addr); }
  // Anonymous (or any flags without a file) mapping; 0 on failure.
  uint64_t Map(Pid pid, uint64_t length, uint32_t prot = kRW, uint32_t flags = kAnon, uint64_t hint = 0) {
    MmapArgs a;
    a.addr = hint;
    a.length = length;
    a.prot = prot;
    a.flags = flags;
    return MapArgs(pid, a);
  }
  // Maps `path` at file offset `offset`; 0 on failure.
  uint64_t MapFile(Pid pid, const std::string& path, uint64_t length, uint32_t flags, uint32_t prot = kRW,
                   uint64_t offset = 0) {
    MmapArgs a;
    a.length = length;
    a.prot = prot;
    a.flags = flags;
    a.path = path;
    a.offset = offset;
    return MapArgs(pid, a);
  }
  uint64_t MapArgs(Pid pid, const MmapArgs& a) {
    uint64_t addr = 0;
    const Status s = engine_->Mmap(pid, a, &addr);
    if (!s.ok()) {
      ADD_FAILURE() << "Mmap(len=" << a.length << ", flags=" << std::hex << a.flags << ", path='" << a.path
                    << "'): " << s.ToString();
      return 0;
    }
    return addr;
  }

  Status ReadInto(Pid pid, uint64_t addr, uint64_t length, std::string* out) {
    out->assign(length, '\0');
    return engine_->Read(pid, addr, length, out->data());
  }
  Status ReadStatus(Pid pid, uint64_t addr, uint64_t length = 1) {
    std::string ignored;
    return ReadInto(pid, addr, length, &ignored);
  }
  Status WriteStatus(Pid pid, uint64_t addr, uint64_t length = 1) {
    return engine_->Write(pid, addr, std::string(length, 'w'));
  }
  // Reads `length` bytes; "" (and a failure) when the read fails.
  std::string ReadBytes(Pid pid, uint64_t addr, uint64_t length) {
    std::string out;
    const Status s = ReadInto(pid, addr, length, &out);
    if (!s.ok()) {
      ADD_FAILURE() << std::hex << "Read(" << addr << ", " << length << "): " << s.ToString();
      return "";
    }
    return out;
  }
  void WriteBytes(Pid pid, uint64_t addr, std::string_view data) {
    const Status s = engine_->Write(pid, addr, data);
    if (!s.ok()) ADD_FAILURE() << std::hex << "Write(" << addr << ", " << data.size() << "): " << s.ToString();
  }
  // Writes the pattern of `seed` to [addr, addr+length), one call per page.
  void WritePattern(Pid pid, uint64_t seed, uint64_t addr, uint64_t length) {
    for (uint64_t done = 0; done < length;) {
      const uint64_t n = std::min(length - done, kPage - ((addr + done) % kPage));
      WriteBytes(pid, addr + done, Pattern(seed, addr + done, n));
      done += n;
    }
  }
  // True when [addr, addr+length) holds the pattern of `seed`.
  bool HasPattern(Pid pid, uint64_t seed, uint64_t addr, uint64_t length) {
    return Matches(ReadChunked(pid, addr, length), Pattern(seed, addr, length), addr);
  }
  bool IsZero(Pid pid, uint64_t addr, uint64_t length) {
    return Matches(ReadChunked(pid, addr, length), std::string(length, '\0'), addr);
  }
  // Reads in calls of at most 1 MiB; "" on failure.
  std::string ReadChunked(Pid pid, uint64_t addr, uint64_t length) {
    std::string out;
    for (uint64_t done = 0; done < length;) {
      const uint64_t n = std::min<uint64_t>(length - done, 1ull << 20);
      std::string part;
      const Status s = ReadInto(pid, addr + done, n, &part);
      if (!s.ok()) {
        ADD_FAILURE() << std::hex << "Read(" << addr + done << ", " << n << "): " << s.ToString();
        return "";
      }
      out += part;
      done += n;
    }
    return out;
  }
  // Compares and reports the first wrong byte at `base` + index.
  static bool Matches(std::string_view got, std::string_view want, uint64_t base) {
    const size_t i = FirstDifference(got, want);
    if (i == std::string_view::npos) return true;
    if (got.size() != want.size()) {
      ADD_FAILURE() << "got " << got.size() << " bytes, want " << want.size();
    } else {
      ADD_FAILURE() << std::hex << std::showbase << "content mismatch at " << base + i << ": want "
                    << (want[i] & 0xff) << ", got " << (got[i] & 0xff);
    }
    return false;
  }

  // --- files ---
  // Uploads `data` to `path` (created or extended) in calls of <= 1 MiB.
  void PutFile(const std::string& path, std::string_view data, uint64_t offset = 0) {
    FileInfo info;
    if (data.empty()) {
      const Status s = engine_->CreateFile(path, /*truncate=*/true, &info);
      if (!s.ok()) ADD_FAILURE() << "CreateFile(" << path << "): " << s.ToString();
    }
    for (uint64_t done = 0; done < data.size();) {
      const uint64_t n = std::min<uint64_t>(data.size() - done, 1ull << 20);
      const Status s = engine_->WriteFile(path, offset + done, data.substr(done, n), &info);
      if (!s.ok()) {
        ADD_FAILURE() << "WriteFile(" << path << ", " << offset + done << "): " << s.ToString();
        return;
      }
      done += n;
    }
  }
  // The file's pattern content for `seed`: byte i is PatternByte(seed, i).
  void PutPatternFile(const std::string& path, uint64_t seed, uint64_t size) {
    PutFile(path, Pattern(seed, 0, size));
  }
  // The whole file, read in calls of <= 1 MiB; "" (and a failure) on error.
  std::string FileContents(const std::string& path) {
    FileInfo info;
    Status s = engine_->StatFile(path, &info);
    if (!s.ok()) {
      ADD_FAILURE() << "StatFile(" << path << "): " << s.ToString();
      return "";
    }
    std::string out;
    for (uint64_t done = 0; done < info.size;) {
      std::string part;
      const uint64_t n = std::min<uint64_t>(info.size - done, 1ull << 20);
      s = engine_->ReadFile(path, done, n, &part);
      if (!s.ok()) {
        ADD_FAILURE() << "ReadFile(" << path << ", " << done << "): " << s.ToString();
        return "";
      }
      out += part;
      done += n;
    }
    return out;
  }
  FileInfo Stat(const std::string& path) {
    FileInfo info;
    const Status s = engine_->StatFile(path, &info);
    if (!s.ok()) ADD_FAILURE() << "StatFile(" << path << "): " << s.ToString();
    return info;
  }
  // Reads a file of this machine; "" when it cannot be read.
  static std::string HostFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // --- inspection ---
  std::vector<MappingInfo> Mappings(Pid pid) {
    std::vector<MappingInfo> out;
    const Status s = engine_->ListMappings(pid, &out);
    if (!s.ok()) ADD_FAILURE() << "ListMappings: " << s.ToString();
    std::sort(out.begin(), out.end(), [](const MappingInfo& a, const MappingInfo& b) { return a.start < b.start; });
    return out;
  }
  // The mapping containing `addr`, or one with start == end == 0.
  MappingInfo MappingAt(Pid pid, uint64_t addr) {
    for (const MappingInfo& m : Mappings(pid)) {
      if (m.start <= addr && addr < m.end) return m;
    }
    return MappingInfo();
  }
  ProcessStats Stats(Pid pid) {
    ProcessStats out;
    const Status s = engine_->GetProcessStats(pid, &out);
    if (!s.ok()) ADD_FAILURE() << "GetProcessStats: " << s.ToString();
    return out;
  }
  GlobalStats Global() { return engine_->GetGlobalStats(); }
  uint64_t FramesUsed() {
    const GlobalStats g = Global();
    return g.frames_total - g.frames_free;
  }
  uint64_t SwapKeys() {
    uint64_t n = 0;
    const Status s = engine_->store()->CountKeys(storage::Space::kSwap, &n);
    if (!s.ok()) ADD_FAILURE() << "CountKeys: " << s.ToString();
    return n;
  }
  // Recounts the engine's bookkeeping (page references, frames, swap keys).
  void ExpectInvariants() {
    const Status s = engine_->CheckInvariants();
    EXPECT_TRUE(s.ok()) << "CheckInvariants: " << s.ToString();
  }

  // Touches `pages` fresh anonymous pages in a scratch process (then exits
  // it), so that earlier pages are evicted from a small frame pool. Ends
  // with an invariant check, which also waits for background reclaim to
  // settle, so that fault and residency counts read afterwards are exact.
  void ApplyMemoryPressure(uint64_t pages) {
    const Pid hog = NewProcess("hog");
    const uint64_t at = Map(hog, pages * kPage);
    for (uint64_t i = 0; i < pages; ++i) WriteBytes(hog, at + i * kPage, Pattern(99, i, 64));
    EXPECT_OK(engine_->Exit(hog));
    ExpectInvariants();
  }

  std::string dir_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
  int crash_copies_ = 0;
};

}  // namespace memserver::conformance
