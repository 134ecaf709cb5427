// The Memory service end to end: round trips and the status code of every
// class of bad request, through a real server and the generated stub.
#include <grpcpp/server_context.h>

#include "server/engine/engine.h"
#include "server/service/memory_service.h"
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using grpc::StatusCode;

std::string Pattern(size_t size, uint32_t seed) {
  std::string data(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return data;
}

TEST_F(ServiceTest, CreateMmapWriteReadRoundTrip) {
  uint64_t pid = CreateProcess("round-trip");
  uint64_t addr = MapPages(pid, 4);
  // Unaligned and spanning three pages.
  const std::string data = Pattern(2 * kPage + 100, 1);
  ASSERT_TRUE(Write(pid, addr + 1000, data).ok());
  std::string back;
  grpc::Status s = Read(pid, addr + 1000, data.size(), &back);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(back, data);
  // Untouched bytes read as zero.
  ASSERT_TRUE(Read(pid, addr, 1000, &back).ok());
  EXPECT_EQ(back, std::string(1000, '\0'));
}

TEST_F(ServiceTest, DataSurvivesEvictionToRocksDb) {
  uint64_t pid = CreateProcess();
  constexpr uint64_t kPages = 3 * kFrames;
  uint64_t addr = MapPages(pid, kPages);
  for (uint64_t i = 0; i < kPages; ++i) {
    ASSERT_TRUE(Write(pid, addr + i * kPage, Pattern(kPage, i)).ok()) << i;
  }
  for (uint64_t i = 0; i < kPages; ++i) {
    std::string back;
    ASSERT_TRUE(Read(pid, addr + i * kPage, kPage, &back).ok()) << i;
    EXPECT_EQ(back, Pattern(kPage, i)) << "page " << i;
  }
  v1::GetStatsRequest request;
  request.set_pid(pid);
  v1::GetStatsResponse stats;
  ASSERT_TRUE(Call(&v1::Memory::Stub::GetStats, request, &stats).ok());
  EXPECT_EQ(stats.global().frames_total(), kFrames);
  EXPECT_GT(stats.global().page_outs(), 0u);
  EXPECT_GT(stats.global().page_ins(), 0u);
  EXPECT_GT(stats.process().major_faults(), 0u);
}

TEST_F(ServiceTest, StatsAndListingsDescribeTheProcess) {
  uint64_t pid = CreateProcess("listed");
  uint64_t addr = MapPages(pid, 3);
  ASSERT_TRUE(Write(pid, addr, "x").ok());

  v1::GetStatsRequest stats_request;
  stats_request.set_pid(pid);
  v1::GetStatsResponse stats;
  ASSERT_TRUE(Call(&v1::Memory::Stub::GetStats, stats_request, &stats).ok());
  EXPECT_EQ(stats.process().pid(), pid);
  EXPECT_EQ(stats.process().name(), "listed");
  EXPECT_EQ(stats.process().virtual_bytes(), 3 * kPage);
  EXPECT_EQ(stats.process().mappings(), 1u);
  EXPECT_EQ(stats.process().resident_pages(), 1u);
  EXPECT_EQ(stats.global().page_size(), kPage);
  EXPECT_EQ(stats.global().processes(), 1u);
  EXPECT_EQ(stats.global().policy(), "clock");

  v1::GetStatsRequest global_request;  // pid 0: global only
  v1::GetStatsResponse global;
  ASSERT_TRUE(Call(&v1::Memory::Stub::GetStats, global_request, &global).ok());
  EXPECT_FALSE(global.has_process());
  EXPECT_EQ(global.global().frames_total(), kFrames);

  v1::ListMappingsRequest mappings_request;
  mappings_request.set_pid(pid);
  v1::ListMappingsResponse mappings;
  ASSERT_TRUE(Call(&v1::Memory::Stub::ListMappings, mappings_request, &mappings).ok());
  ASSERT_EQ(mappings.mappings_size(), 1);
  EXPECT_EQ(mappings.mappings(0).start(), addr);
  EXPECT_EQ(mappings.mappings(0).end(), addr + 3 * kPage);
  EXPECT_EQ(mappings.mappings(0).prot(), kRw);
  EXPECT_EQ(mappings.mappings(0).resident_pages(), 1u);

  v1::ListProcessesResponse processes;
  ASSERT_TRUE(Call(&v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest(), &processes).ok());
  ASSERT_EQ(processes.processes_size(), 1);
  EXPECT_EQ(processes.processes(0).pid(), pid);
  EXPECT_EQ(processes.processes(0).name(), "listed");
}

TEST_F(ServiceTest, ListingLargerThanTheRequestLimitIsStillSent) {
  // 600 processes with 256-byte names: ~170 KiB, over max_io + 64 KiB.
  constexpr int kProcesses = 600;
  for (int i = 0; i < kProcesses; ++i) CreateProcess(std::string(256, 'a' + i % 26));
  v1::ListProcessesResponse processes;
  grpc::Status s = Call(&v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest(), &processes);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_GT(processes.ByteSizeLong(), kMaxIo + (64 << 10));
  EXPECT_EQ(processes.processes_size(), kProcesses);
}

TEST_F(ServiceTest, ProcessNameOver256BytesIsInvalidArgument) {
  CreateProcess(std::string(256, 'n'));
  v1::CreateProcessRequest request;
  request.set_name(std::string(257, 'n'));
  v1::CreateProcessResponse response;
  grpc::Status s = Call(&v1::Memory::Stub::CreateProcess, request, &response);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "ENAMETOOLONG");
}

TEST_F(ServiceTest, UnalignedMunmapAddressIsInvalidArgument) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 2);
  grpc::Status s = Munmap(pid, addr + 1, kPage);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "EINVAL");
  s = Mprotect(pid, addr + 100, kPage, v1::PROT_READ);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
}

TEST_F(ServiceTest, ZeroLengthIsInvalidArgument) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 2);
  EXPECT_EQ(Mmap(pid, 0, 0, kRw, kPrivateAnon).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Munmap(pid, addr, 0).error_code(), StatusCode::INVALID_ARGUMENT);
  grpc::Status s = Read(pid, addr, 0);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "EINVAL");
}

TEST_F(ServiceTest, OverflowingRangeIsInvalidArgument) {
  uint64_t pid = CreateProcess();
  const uint64_t top_page = UINT64_MAX - kPage + 1;
  grpc::Status s = Munmap(pid, top_page, 2 * kPage);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  s = Mprotect(pid, top_page, 2 * kPage, v1::PROT_READ);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  s = Munmap(pid, kPage, UINT64_MAX);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
}

TEST_F(ServiceTest, UnknownProtBitsAreInvalidArgument) {
  uint64_t pid = CreateProcess();
  grpc::Status s = Mmap(pid, 0, kPage, 0x8, kPrivateAnon);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  uint64_t addr = MapPages(pid, 1);
  s = Mprotect(pid, addr, kPage, kRw | 0x80000000u);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
}

TEST_F(ServiceTest, UnknownFlagBitsAreInvalidArgument) {
  uint64_t pid = CreateProcess();
  grpc::Status s = Mmap(pid, 0, kPage, kRw, kPrivateAnon | 0x40000000u);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "EINVAL");
}

TEST_F(ServiceTest, UnknownPidIsNotFound) {
  const uint64_t pid = 987654321;
  std::vector<std::pair<const char*, grpc::Status>> results;
  v1::ExitRequest exit_request;
  exit_request.set_pid(pid);
  v1::ExitResponse exit_response;
  results.emplace_back("Exit", Call(&v1::Memory::Stub::Exit, exit_request, &exit_response));
  results.emplace_back("Mmap", Mmap(pid, 0, kPage, kRw, kPrivateAnon));
  results.emplace_back("Munmap", Munmap(pid, kPage * 100, kPage));
  results.emplace_back("Mprotect", Mprotect(pid, kPage * 100, kPage, v1::PROT_READ));
  results.emplace_back("Read", Read(pid, kPage * 100, 1));
  results.emplace_back("Write", Write(pid, kPage * 100, "x"));
  v1::GetStatsRequest stats_request;
  stats_request.set_pid(pid);
  v1::GetStatsResponse stats_response;
  results.emplace_back("GetStats",
                       Call(&v1::Memory::Stub::GetStats, stats_request, &stats_response));
  v1::ListMappingsRequest list_request;
  list_request.set_pid(pid);
  v1::ListMappingsResponse list_response;
  results.emplace_back("ListMappings",
                       Call(&v1::Memory::Stub::ListMappings, list_request, &list_response));
  for (const auto& [rpc, s] : results) {
    EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << rpc << " " << Describe(s);
    EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "ESRCH") << rpc;
  }
}

TEST_F(ServiceTest, ExitedProcessIsNotFound) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 1);
  v1::ExitRequest request;
  request.set_pid(pid);
  v1::ExitResponse response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Exit, request, &response).ok());
  EXPECT_EQ(Read(pid, addr, 1).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Call(&v1::Memory::Stub::Exit, request, &response).error_code(), StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, ReadOverMaxIoIsResourceExhaustedNamingTheLimit) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 1);
  for (uint64_t length : {kMaxIo + 1, uint64_t{1} << 40, uint64_t{UINT64_MAX}}) {
    grpc::Status s = Read(pid, addr, length);
    EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
    EXPECT_NE(s.error_message().find(std::to_string(kMaxIo)), std::string::npos)
        << s.error_message();
  }
}

TEST_F(ServiceTest, ReadOfMaxIoBytesSucceeds) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, kMaxIo / kPage);
  std::string data;
  grpc::Status s = Read(pid, addr, kMaxIo, &data);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(data.size(), kMaxIo);
}

TEST_F(ServiceTest, WriteOverMaxIoIsResourceExhausted) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, kMaxIo / kPage + 1);
  grpc::Status s = Write(pid, addr, std::string(kMaxIo + 1, 'w'));
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  EXPECT_NE(s.error_message().find(std::to_string(kMaxIo)), std::string::npos)
      << s.error_message();
}

TEST_F(ServiceTest, MessageOverTheSizeLimitIsRefusedByGrpc) {
  uint64_t pid = CreateProcess();
  // Past max_io plus the 64 KiB of headroom: gRPC refuses it before the
  // service sees it (so without our error details).
  grpc::Status s = Write(pid, kPage * 100, std::string(kMaxIo + (128 << 10), 'w'));
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  // The server is still fine.
  uint64_t addr = MapPages(pid, 1);
  EXPECT_TRUE(Write(pid, addr, "still here").ok());
}

TEST_F(ServiceTest, MmapLargerThanTheAddressSpaceIsResourceExhausted) {
  uint64_t pid = CreateProcess();
  grpc::Status s = Mmap(pid, 0, uint64_t{1} << 48, kRw, kPrivateAnon);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "ENOMEM");
}

TEST_F(ServiceTest, MapFixedNoReplaceOverAMappingIsAlreadyExists) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 4);
  grpc::Status s = Mmap(pid, addr + kPage, kPage, kRw, kPrivateAnon | v1::MAP_FIXED_NOREPLACE);
  EXPECT_EQ(s.error_code(), StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "EEXIST");
}

// No sockets: the service class called directly with a hostile length must
// answer without allocating it (a 2^64-1 byte resize would throw).
TEST_F(ServiceTest, HostileReadLengthNeverAllocates) {
  MemoryServiceImpl service(server_->engine());
  uint64_t pid = CreateProcess();
  grpc::ServerContext context;
  v1::ReadRequest request;
  request.set_pid(pid);
  request.set_addr(kPage * 100);
  request.set_length(UINT64_MAX);
  v1::ReadResponse response;
  grpc::Status s = service.Read(&context, &request, &response);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_LT(response.data().capacity(), 1024u);
}

}  // namespace
}  // namespace memserver::service
