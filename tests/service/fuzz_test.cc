// Hostile input: a seeded PRNG sends a few thousand requests of every RPC
// with random and edge values. Every call must come back with a status
// within its deadline (never DEADLINE_EXCEEDED), every error must carry
// decodable details, and afterwards the server still serves a normal round
// trip and the engine's counters still add up.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "server/engine/engine.h"
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using grpc::StatusCode;

constexpr int kRequests = 6000;

class Fuzzer {
 public:
  explicit Fuzzer(uint64_t seed) : rng_(seed) {}

  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  uint64_t Any() { return rng_(); }
  bool OneIn(uint64_t n) { return Below(n) == 0; }

  // 0, 1, page-1, page, 2^47, 2^48-1, 2^64-1, or random of random width.
  uint64_t Edge() {
    static constexpr uint64_t kEdges[] = {
        0, 1, kPage - 1, kPage, uint64_t{1} << 47, (uint64_t{1} << 48) - 1, UINT64_MAX,
        UINT64_MAX - kPage + 1, kMaxIo, kMaxIo + 1};
    if (OneIn(2)) return kEdges[Below(std::size(kEdges))];
    return Any() >> Below(64);
  }
  // An address: an edge value, or near a known mapping (so some calls land).
  uint64_t Addr(const std::vector<uint64_t>& mapped) {
    if (!mapped.empty() && OneIn(2)) {
      uint64_t base = mapped[Below(mapped.size())];
      return base + Below(8 * kPage) - (OneIn(4) ? kPage : 0);
    }
    return Edge();
  }
  // A length: small and plausible half the time, an edge value otherwise.
  uint64_t Length() { return OneIn(2) ? Below(4 * kPage) : Edge(); }
  uint32_t Prot() { return OneIn(2) ? static_cast<uint32_t>(Below(8)) : static_cast<uint32_t>(Any()); }
  uint32_t Flags() {
    static constexpr uint32_t kCommon[] = {
        kPrivateAnon, v1::MAP_SHARED | v1::MAP_ANONYMOUS, kPrivateAnon | v1::MAP_FIXED,
        kPrivateAnon | v1::MAP_FIXED_NOREPLACE, v1::MAP_PRIVATE, v1::MAP_ANONYMOUS, 0,
        v1::MAP_SHARED | v1::MAP_PRIVATE | v1::MAP_ANONYMOUS};
    if (OneIn(4)) return static_cast<uint32_t>(Any());
    return kCommon[Below(std::size(kCommon))];
  }
  size_t DataSize() {
    static constexpr size_t kSizes[] = {0, 1, kPage - 1, kPage, kPage + 1, kMaxIo, kMaxIo + 1};
    return OneIn(2) ? kSizes[Below(std::size(kSizes))] : Below(3 * kPage);
  }

 private:
  std::mt19937_64 rng_;
};

uint64_t FuzzSeed() {
  const char* env = std::getenv("MEMSERVER_FUZZ_SEED");
  return env ? std::strtoull(env, nullptr, 10) : 20240611;
}

TEST_F(ServiceTest, RandomAndEdgeRequestsAlwaysGetAStatusAndLeaveTheServerHealthy) {
  const uint64_t seed = FuzzSeed();
  SCOPED_TRACE("MEMSERVER_FUZZ_SEED=" + std::to_string(seed));
  Fuzzer f(seed);

  std::vector<uint64_t> pids = {CreateProcess("fuzz-a"), CreateProcess("fuzz-b")};
  std::vector<uint64_t> mapped;  // addresses returned by mmap/mremap/malloc/brk
  const std::vector<std::string> paths = {"/f/a", "/f/b", "/f/elf", "relative", "",
                                          "/" + std::string(5000, 'p')};
  uint64_t pid = 0;
  auto path = [&] { return paths[f.Below(paths.size())]; };
  auto remember = [&](const grpc::Status& s, uint64_t addr) {
    if (s.ok() && addr != 0) mapped.push_back(addr);
    return s;
  };

  using S = v1::Memory::Stub;
  // One entry per RPC; each builds a random request for `pid`.
  const std::vector<std::pair<const char*, std::function<grpc::Status()>>> rpcs = {
      {"CreateProcess", [&] {
         v1::CreateProcessRequest q;
         q.set_name(std::string(f.OneIn(8) ? 257 + f.Below(300) : f.Below(257), 'p'));
         v1::CreateProcessResponse r;
         grpc::Status s = Call(&S::CreateProcess, q, &r);
         if (s.ok()) pids.push_back(r.pid());
         return s;
       }},
      {"Exit", [&] {
         v1::ExitRequest q;
         q.set_pid(f.OneIn(8) ? pid : f.Edge());  // rarely a live one
         v1::ExitResponse r;
         return Call(&S::Exit, q, &r);
       }},
      {"Fork", [&] {
         v1::ForkRequest q;
         q.set_pid(pid);
         v1::ForkResponse r;
         grpc::Status s = Call(&S::Fork, q, &r);
         if (s.ok()) pids.push_back(r.child_pid());
         return s;
       }},
      {"Exec", [&] {
         v1::ExecRequest q;
         q.set_pid(pid);
         q.set_path(path());
         v1::ExecResponse r;
         return Call(&S::Exec, q, &r);
       }},
      {"Mmap", [&] {
         v1::MmapRequest q;
         q.set_pid(pid);
         q.set_addr(f.Addr(mapped));
         q.set_length(f.Length());
         q.set_prot(f.Prot());
         q.set_flags(f.Flags());
         if (f.OneIn(4)) q.set_path(path());
         q.set_offset(f.OneIn(2) ? 0 : f.Edge());
         v1::MmapResponse r;
         grpc::Status s = Call(&S::Mmap, q, &r);
         return remember(s, r.addr());
       }},
      {"Munmap", [&] { return Munmap(pid, f.Addr(mapped), f.Length()); }},
      {"Mprotect", [&] { return Mprotect(pid, f.Addr(mapped), f.Length(), f.Prot()); }},
      {"Mremap", [&] {
         v1::MremapRequest q;
         q.set_pid(pid);
         q.set_old_addr(f.Addr(mapped));
         q.set_old_size(f.Length());
         q.set_new_size(f.Length());
         q.set_flags(f.OneIn(4) ? static_cast<uint32_t>(f.Any()) : static_cast<uint32_t>(f.Below(4)));
         q.set_new_addr(f.Addr(mapped));
         v1::MremapResponse r;
         grpc::Status s = Call(&S::Mremap, q, &r);
         return remember(s, r.addr());
       }},
      {"Brk", [&] {
         v1::BrkRequest q;
         q.set_pid(pid);
         q.set_addr(f.OneIn(3) ? 0 : f.Addr(mapped));
         v1::BrkResponse r;
         grpc::Status s = Call(&S::Brk, q, &r);
         return remember(s, r.brk());
       }},
      {"Sbrk", [&] {
         v1::SbrkRequest q;
         q.set_pid(pid);
         q.set_increment(static_cast<int64_t>(f.OneIn(2) ? f.Below(4 * kPage) - 2 * kPage : f.Edge()));
         v1::SbrkResponse r;
         grpc::Status s = Call(&S::Sbrk, q, &r);
         return remember(s, r.previous());
       }},
      {"Mlock", [&] {
         v1::MlockRequest q;
         q.set_pid(pid);
         q.set_addr(f.Addr(mapped));
         q.set_length(f.Length());
         v1::MlockResponse r;
         return Call(&S::Mlock, q, &r);
       }},
      {"Munlock", [&] {
         v1::MunlockRequest q;
         q.set_pid(pid);
         q.set_addr(f.Addr(mapped));
         q.set_length(f.Length());
         v1::MunlockResponse r;
         return Call(&S::Munlock, q, &r);
       }},
      {"Mlockall", [&] {
         v1::MlockallRequest q;
         q.set_pid(pid);
         q.set_flags(f.OneIn(4) ? static_cast<uint32_t>(f.Any()) : static_cast<uint32_t>(f.Below(4)));
         v1::MlockallResponse r;
         return Call(&S::Mlockall, q, &r);
       }},
      {"Munlockall", [&] {
         v1::MunlockallRequest q;
         q.set_pid(pid);
         v1::MunlockallResponse r;
         return Call(&S::Munlockall, q, &r);
       }},
      {"Madvise", [&] {
         v1::MadviseRequest q;
         q.set_pid(pid);
         q.set_addr(f.Addr(mapped));
         q.set_length(f.Length());
         q.set_advice(static_cast<v1::Advice>(f.OneIn(4) ? static_cast<int>(f.Any() % 1000) : static_cast<int>(f.Below(20))));
         v1::MadviseResponse r;
         return Call(&S::Madvise, q, &r);
       }},
      {"Msync", [&] {
         v1::MsyncRequest q;
         q.set_pid(pid);
         q.set_addr(f.Addr(mapped));
         q.set_length(f.Length());
         q.set_flags(f.OneIn(4) ? static_cast<uint32_t>(f.Any()) : static_cast<uint32_t>(f.Below(8)));
         v1::MsyncResponse r;
         return Call(&S::Msync, q, &r);
       }},
      {"GetLimits", [&] {
         v1::GetLimitsRequest q;
         q.set_pid(pid);
         v1::GetLimitsResponse r;
         return Call(&S::GetLimits, q, &r);
       }},
      {"SetLimits", [&] {
         v1::SetLimitsRequest q;
         q.set_pid(pid);
         if (f.OneIn(2)) q.mutable_limits()->set_as(f.Edge());
         if (f.OneIn(2)) q.mutable_limits()->set_data(f.Edge());
         if (f.OneIn(2)) q.mutable_limits()->set_stack(f.Edge());
         if (f.OneIn(2)) q.mutable_limits()->set_memlock(f.Edge());
         v1::SetLimitsResponse r;
         return Call(&S::SetLimits, q, &r);
       }},
      {"Read", [&] { return Read(pid, f.Addr(mapped), f.OneIn(2) ? f.DataSize() : f.Edge()); }},
      {"Write", [&] { return Write(pid, f.Addr(mapped), std::string(f.DataSize(), 'w')); }},
      {"Malloc", [&] {
         v1::MallocRequest q;
         q.set_pid(pid);
         q.set_size(f.Length());
         v1::MallocResponse r;
         grpc::Status s = Call(&S::Malloc, q, &r);
         return remember(s, r.addr());
       }},
      {"Calloc", [&] {
         v1::CallocRequest q;
         q.set_pid(pid);
         q.set_count(f.Edge());
         q.set_size(f.Length());
         v1::MallocResponse r;
         grpc::Status s = Call(&S::Calloc, q, &r);
         return remember(s, r.addr());
       }},
      {"Realloc", [&] {
         v1::ReallocRequest q;
         q.set_pid(pid);
         q.set_addr(f.Addr(mapped));
         q.set_size(f.Length());
         v1::MallocResponse r;
         grpc::Status s = Call(&S::Realloc, q, &r);
         return remember(s, r.addr());
       }},
      {"Free", [&] {
         v1::FreeRequest q;
         q.set_pid(pid);
         q.set_addr(f.Addr(mapped));
         v1::FreeResponse r;
         return Call(&S::Free, q, &r);
       }},
      {"GetStats", [&] {
         v1::GetStatsRequest q;
         q.set_pid(f.OneIn(3) ? 0 : pid);
         v1::GetStatsResponse r;
         return Call(&S::GetStats, q, &r);
       }},
      {"ListProcesses", [&] {
         v1::ListProcessesResponse r;
         return Call(&S::ListProcesses, v1::ListProcessesRequest(), &r);
       }},
      {"ListMappings", [&] {
         v1::ListMappingsRequest q;
         q.set_pid(pid);
         v1::ListMappingsResponse r;
         return Call(&S::ListMappings, q, &r);
       }},
      {"CreateFile", [&] {
         v1::CreateFileRequest q;
         q.set_path(path());
         q.set_truncate(f.OneIn(2));
         v1::FileInfo r;
         return Call(&S::CreateFile, q, &r);
       }},
      {"WriteFile", [&] {
         v1::WriteFileRequest q;
         q.set_path(path());
         q.set_offset(f.OneIn(2) ? f.Below(4 * kPage) : f.Edge());
         q.set_data(std::string(f.DataSize(), 'F'));
         v1::FileInfo r;
         return Call(&S::WriteFile, q, &r);
       }},
      {"ReadFile", [&] {
         v1::ReadFileRequest q;
         q.set_path(path());
         q.set_offset(f.OneIn(2) ? f.Below(4 * kPage) : f.Edge());
         q.set_length(f.OneIn(2) ? f.DataSize() : f.Edge());
         v1::ReadFileResponse r;
         return Call(&S::ReadFile, q, &r);
       }},
      {"StatFile", [&] {
         v1::StatFileRequest q;
         q.set_path(path());
         v1::FileInfo r;
         return Call(&S::StatFile, q, &r);
       }},
      {"TruncateFile", [&] {
         v1::TruncateFileRequest q;
         q.set_path(path());
         q.set_size(f.OneIn(2) ? f.Below(4 * kPage) : f.Edge());
         v1::TruncateFileResponse r;
         return Call(&S::TruncateFile, q, &r);
       }},
      {"DeleteFile", [&] {
         if (!f.OneIn(4)) return grpc::Status::OK;  // rarer, so files exist to map
         v1::DeleteFileRequest q;
         q.set_path(path());
         v1::DeleteFileResponse r;
         return Call(&S::DeleteFile, q, &r);
       }},
      {"ListFiles", [&] {
         v1::ListFilesRequest q;
         q.set_prefix(f.OneIn(2) ? "/f/" : path());
         v1::ListFilesResponse r;
         return Call(&S::ListFiles, q, &r);
       }},
  };

  std::map<std::string, std::map<int, int>> counts;  // rpc -> code -> calls
  int ok_calls = 0;
  for (int i = 0; i < kRequests; ++i) {
    pid = f.OneIn(4) ? f.Edge() : pids[f.Below(pids.size())];
    const auto& [name, rpc] = rpcs[f.Below(rpcs.size())];
    grpc::Status s = rpc();
    ++counts[name][static_cast<int>(s.error_code())];
    if (s.ok()) ++ok_calls;
    // Every call answered in time, and hostile input is never a server bug
    // nor a storage failure.
    for (StatusCode bad : {StatusCode::DEADLINE_EXCEEDED, StatusCode::UNAVAILABLE,
                           StatusCode::INTERNAL, StatusCode::UNKNOWN, StatusCode::DATA_LOSS}) {
      ASSERT_NE(s.error_code(), bad) << "request " << i << " " << name << ": " << Describe(s);
    }
    if (!s.ok()) {
      SCOPED_TRACE("request " + std::to_string(i) + " " + name);
      DecodeErrorDetail(s);
    }
    if (HasFailure()) return;
  }

  for (const auto& [name, codes] : counts) {
    std::string line;
    for (const auto& [code, n] : codes) line += " " + std::to_string(code) + ":" + std::to_string(n);
    std::printf("fuzz %-14s%s\n", name.c_str(), line.c_str());
  }
  EXPECT_EQ(counts.size(), rpcs.size()) << "some RPC was never sent";
  EXPECT_GT(ok_calls, kRequests / 10) << "too few calls succeeded to reach the engine's depths";

  Status invariants = server_->engine()->CheckInvariants();
  EXPECT_TRUE(invariants.ok()) << invariants.ToString();

  uint64_t fresh = CreateProcess("after-fuzz");
  uint64_t addr = MapPages(fresh, 2);
  ASSERT_TRUE(Write(fresh, addr + 100, "still serving").ok());
  std::string back;
  ASSERT_TRUE(Read(fresh, addr + 100, 13, &back).ok());
  EXPECT_EQ(back, "still serving");
}

}  // namespace
}  // namespace memserver::service
