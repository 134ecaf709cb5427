// EngineFixture: the base of every engine test. Builds an Engine with a
// chosen number of frames over a real RocksDB store in a fresh temporary
// directory (optionally behind a FaultInjectionStore), and removes the
// directory in TearDown after the engine is gone.
//
// Helpers never assert fatally: they record a failure with ADD_FAILURE and
// return a harmless value, so they can be called from any function and from
// worker threads (GoogleTest failures are thread-safe on Linux).
//
// Content checks use a pattern that depends on a seed and on the absolute
// address of each byte, so a page read back from the wrong place, or a byte
// shifted by an unaligned copy, shows up as a mismatch at a named address.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "server/common/status.h"
#include "server/engine/engine.h"
#include "server/engine/options.h"
#include "server/engine/types.h"
#include "storage/backing_store.h"
#include "tests/support/fault_injection_store.h"
#include "tests/support/status_assertions.h"

namespace memserver {

// Byte of the test pattern at `addr` for `seed`: a 64-bit mix, so that
// neighbouring pages and neighbouring seeds differ everywhere.
inline char PatternByte(uint64_t seed, uint64_t addr) {
  uint64_t x = (seed + 1) * 0x9E3779B97F4A7C15ull ^ addr;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return static_cast<char>(x);
}

inline std::string Pattern(uint64_t seed, uint64_t addr, uint64_t length) {
  std::string out(length, '\0');
  for (uint64_t i = 0; i < length; ++i) out[i] = PatternByte(seed, addr + i);
  return out;
}

}  // namespace memserver

namespace memserver {

class EngineFixture : public ::testing::Test {
 protected:
  static constexpr uint32_t kRW = kProtRead | kProtWrite;
  static constexpr uint32_t kAnon = kMapPrivate | kMapAnonymous;

  void SetUp() override {
    std::string pattern = "/tmp/memserver-engine-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    engine_.reset();  // closes the store before its files go
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Options for an engine of `frames` frames of `page_size` bytes; the rest
  // are defaults except a small eviction batch that fits small pools.
  static EngineOptions Options(uint64_t frames, uint32_t page_size = 4096) {
    EngineOptions o;
    o.page_size = page_size;
    o.memory_bytes = frames * page_size;
    o.eviction_batch = 4;
    // Every test also checks the tenants' memory charges: ExpectInvariants
    // recounts them (they change nothing else the engine does).
    o.account_tenant_memory = true;
    return o;
  }

  // Opens a fresh RocksDB store in its own subdirectory and an engine over
  // it, replacing any engine this fixture had. With `faulty`, the store is
  // wrapped in a FaultInjectionStore reachable through faulty_store().
  Status Open(const EngineOptions& options, bool faulty = false) {
    engine_.reset();
    faulty_ = nullptr;
    storage::RocksDbOptions ro;
    ro.path = dir_ + "/db" + std::to_string(++dbs_);
    ro.write_buffer_bytes = 4ull << 20;
    ro.block_cache_bytes = 1ull << 20;
    std::unique_ptr<storage::BackingStore> store;
    MEMSERVER_RETURN_IF_ERROR(storage::OpenRocksDbStore(ro, &store));
    if (faulty) {
      auto wrapper = std::make_unique<test_support::FaultInjectionStore>(std::move(store));
      faulty_ = wrapper.get();
      store = std::move(wrapper);
    }
    return Engine::Open(options, std::move(store), &engine_);
  }

  // What a crash (SIGKILL) would leave: the store's directory as it is on
  // disk now, copied while the engine keeps it open, then opened by a new
  // engine with `options`, which becomes engine(). The old engine goes after
  // the copy (what it writes while closing reaches only the old directory).
  // With `faulty`, the new store is wrapped too.
  Status CrashAndRecover(const EngineOptions& options, bool faulty = false) {
    const std::string from = dir_ + "/db" + std::to_string(dbs_);
    const std::string to = dir_ + "/db" + std::to_string(++dbs_);
    std::error_code ec;
    MEMSERVER_RETURN_IF_ERROR(CopyLiveStore(from, to));
    std::filesystem::remove(to + "/LOCK", ec);
    engine_.reset();
    faulty_ = nullptr;
    storage::RocksDbOptions ro;
    ro.path = to;
    ro.write_buffer_bytes = 4ull << 20;
    ro.block_cache_bytes = 1ull << 20;
    std::unique_ptr<storage::BackingStore> store;
    MEMSERVER_RETURN_IF_ERROR(storage::OpenRocksDbStore(ro, &store));
    if (faulty) {
      auto wrapper = std::make_unique<test_support::FaultInjectionStore>(std::move(store));
      faulty_ = wrapper.get();
      store = std::move(wrapper);
    }
    return Engine::Open(options, std::move(store), &engine_);
  }

  // Copies the open store's directory as a crash would leave it. RocksDB's
  // background jobs delete obsolete files meanwhile, so CURRENT is copied
  // first (it names the MANIFEST, which names the live files: what the copy
  // needs), and a copy that meets a vanished file starts again.
  static Status CopyLiveStore(const std::string& from, const std::string& to) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (int attempt = 0; attempt < 100; ++attempt) {
      fs::remove_all(to, ec);
      fs::create_directories(to, ec);
      if (ec) return Status::Internal("copying the store: " + ec.message());
      fs::copy_file(fs::path(from) / "CURRENT", fs::path(to) / "CURRENT", ec);
      bool vanished = ec == std::errc::no_such_file_or_directory;
      if (ec && !vanished) return Status::Internal("copying the store: " + ec.message());
      for (fs::directory_iterator it(from, ec), end; !vanished && !ec && it != end; it.increment(ec)) {
        if (it->path().filename() == "CURRENT") continue;
        fs::copy(it->path(), fs::path(to) / it->path().filename(), fs::copy_options::recursive, ec);
        if (ec == std::errc::no_such_file_or_directory) vanished = true, ec.clear();
      }
      if (ec) return Status::Internal("copying the store: " + ec.message());
      if (!vanished) return Status::OK();
    }
    return Status::Internal("copying the store: files kept vanishing during 100 copies");
  }

  // Opens with Options(frames, page_size); a failure fails the test.
  void OpenWithFrames(uint64_t frames, uint32_t page_size = 4096) {
    const Status s = Open(Options(frames, page_size));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Engine& engine() { return *engine_; }
  uint64_t page() const { return engine_->options().page_size; }
  test_support::FaultInjectionStore* faulty_store() { return faulty_; }

  Pid NewProcess(const std::string& name = "test") {
    Pid pid = 0;
    const Status s = engine_->CreateProcess(name, &pid);
    if (!s.ok()) ADD_FAILURE() << "CreateProcess: " << s.ToString();
    return pid;
  }

  // Maps `length` bytes with automatic placement; 0 on failure.
  uint64_t Map(Pid pid, uint64_t length, uint32_t prot = kRW, uint32_t flags = kAnon,
               uint64_t hint = 0) {
    MmapArgs args;
    args.addr = hint;
    args.length = length;
    args.prot = prot;
    args.flags = flags;
    uint64_t addr = 0;
    const Status s = engine_->Mmap(pid, args, &addr);
    if (!s.ok()) {
      ADD_FAILURE() << "Mmap(len=" << length << "): " << s.ToString();
      return 0;
    }
    return addr;
  }

  // Maps exactly at `addr` with MAP_FIXED (replacing what was there).
  void MapFixed(Pid pid, uint64_t addr, uint64_t length, uint32_t prot = kRW) {
    MmapArgs args;
    args.addr = addr;
    args.length = length;
    args.prot = prot;
    args.flags = kAnon | kMapFixed;
    uint64_t got = 0;
    const Status s = engine_->Mmap(pid, args, &got);
    if (!s.ok()) {
      ADD_FAILURE() << "Mmap(MAP_FIXED " << std::hex << addr << "): " << s.ToString();
    } else if (got != addr) {
      ADD_FAILURE() << std::hex << "MAP_FIXED at " << addr << " returned " << got;
    }
  }

  Status MmapStatus(Pid pid, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags,
                    uint64_t* out = nullptr) {
    MmapArgs args;
    args.addr = addr;
    args.length = length;
    args.prot = prot;
    args.flags = flags;
    uint64_t ignored = 0;
    return engine_->Mmap(pid, args, out ? out : &ignored);
  }

  Status ReadInto(Pid pid, uint64_t addr, uint64_t length, std::string* out) {
    out->assign(length, '\0');
    return engine_->Read(pid, addr, length, out->data());
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
    if (!s.ok()) {
      ADD_FAILURE() << std::hex << "Write(" << addr << ", " << data.size()
                    << "): " << s.ToString();
    }
  }

  void WritePattern(Pid pid, uint64_t seed, uint64_t addr, uint64_t length) {
    WriteBytes(pid, addr, Pattern(seed, addr, length));
  }

  // Writes the pattern to `pages` pages from `addr`, one Write per page, so
  // no single call needs more than one frame.
  void WritePages(Pid pid, uint64_t seed, uint64_t addr, uint64_t pages) {
    for (uint64_t i = 0; i < pages; ++i) WritePattern(pid, seed, addr + i * page(), page());
  }

  // Checks `pages` pages from `addr` one Read per page; true when all match.
  bool CheckPages(Pid pid, uint64_t seed, uint64_t addr, uint64_t pages) {
    for (uint64_t i = 0; i < pages; ++i) {
      if (!CheckPattern(pid, seed, addr + i * page(), page())) return false;
    }
    return true;
  }

  // Reads [addr, addr+length) and checks it against the pattern; reports
  // the first wrong address. Returns true when everything matched.
  bool CheckPattern(Pid pid, uint64_t seed, uint64_t addr, uint64_t length) {
    std::string got;
    const Status s = ReadInto(pid, addr, length, &got);
    if (!s.ok()) {
      ADD_FAILURE() << std::hex << "Read(" << addr << ", " << length << "): " << s.ToString();
      return false;
    }
    return ComparePattern(seed, addr, got);
  }

  static bool ComparePattern(uint64_t seed, uint64_t addr, const std::string& got) {
    const std::string want = Pattern(seed, addr, got.size());
    if (got == want) return true;
    size_t i = 0;
    while (got[i] == want[i]) ++i;
    ADD_FAILURE() << std::hex << std::showbase << "content mismatch at " << addr + i
                  << ": want " << (want[i] & 0xff) << ", got " << (got[i] & 0xff);
    return false;
  }

  bool CheckZero(Pid pid, uint64_t addr, uint64_t length) {
    const std::string got = ReadBytes(pid, addr, length);
    if (got.size() != length) return false;
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i] != 0) {
        ADD_FAILURE() << std::hex << std::showbase << "byte at " << addr + i
                      << " should be zero, is " << (got[i] & 0xff);
        return false;
      }
    }
    return true;
  }

  std::vector<MappingInfo> Mappings(Pid pid) {
    std::vector<MappingInfo> out;
    const Status s = engine_->ListMappings(pid, &out);
    if (!s.ok()) ADD_FAILURE() << "ListMappings: " << s.ToString();
    return out;
  }

  ProcessStats Stats(Pid pid) {
    ProcessStats out;
    const Status s = engine_->GetProcessStats(pid, &out);
    if (!s.ok()) ADD_FAILURE() << "GetProcessStats: " << s.ToString();
    return out;
  }

  uint64_t SwapKeys() {
    uint64_t n = 0;
    storage::BackingStore* store = faulty_ ? faulty_->target() : engine_->store();
    const Status s = store->CountKeys(storage::Space::kSwap, &n);
    if (!s.ok()) ADD_FAILURE() << "CountKeys: " << s.ToString();
    return n;
  }

  // Recounts the engine's bookkeeping; call only while no thread is inside
  // the engine.
  void ExpectInvariants() {
    const Status s = engine_->CheckInvariants();
    EXPECT_TRUE(s.ok()) << "CheckInvariants: " << s.ToString();
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
  test_support::FaultInjectionStore* faulty_ = nullptr;  // owned by engine_
  int dbs_ = 0;
};

// A mapping as {start, end, prot}, for comparing ListMappings in one line;
// Spans() sorts by start address.
struct Span {
  uint64_t start;
  uint64_t end;
  uint32_t prot;
  bool operator==(const Span&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Span& s) {
  return os << std::hex << "[" << s.start << ", " << s.end << ") prot=" << std::dec << s.prot;
}

inline std::vector<Span> Spans(const std::vector<MappingInfo>& mappings) {
  std::vector<Span> out;
  for (const MappingInfo& m : mappings) out.push_back(Span{m.start, m.end, m.prot});
  std::sort(out.begin(), out.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  return out;
}

}  // namespace memserver
