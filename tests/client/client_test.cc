// Client against a real in-process memserver: every RPC, the error mapping,
// accesses across pages and mappings, message size limits, transport errors.
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

TEST_F(ClientTest, CreateProcessIsListedWithItsName) {
  Process p = client().CreateProcess("worker-1");
  EXPECT_NE(p.pid(), 0u);
  auto processes = client().ListProcesses();
  auto it = std::find_if(processes.begin(), processes.end(),
                         [&](const ProcessStats& s) { return s.pid == p.pid(); });
  ASSERT_NE(it, processes.end());
  EXPECT_EQ(it->name, "worker-1");
  EXPECT_EQ(it->mappings, 0u);
}

TEST_F(ClientTest, ExitRemovesProcessAndSecondExitIsNotFound) {
  uint64_t pid = client().CreateProcess("short").Release();
  ASSERT_TRUE(IsListed(pid));
  client().Exit(pid);
  EXPECT_FALSE(IsListed(pid));
  Error e = ErrorOf([&] { client().Exit(pid); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(e.errno_name(), "ESRCH");
  EXPECT_FALSE(e.is_fault());
}

TEST_F(ClientTest, UnknownPidIsNotFoundOnEveryCall) {
  const uint64_t pid = 987654321;
  for (auto call : std::vector<std::function<void()>>{
           [&] { client().Mmap(pid, 0, kPage, kRw); },
           [&] { client().Read(pid, kBase, 1); },
           [&] { client().Write(pid, kBase, "x"); },
           [&] { client().GetStats(pid); },
           [&] { client().ListMappings(pid); }}) {
    Error e = ErrorOf(call);
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND) << e.what();
    EXPECT_EQ(e.errno_name(), "ESRCH") << e.what();
  }
}

TEST_F(ClientTest, ReadUnmappedAddressIsMapErrorFault) {
  Process p = client().CreateProcess();
  Error e = ErrorOf([&] { p.Read(kBase + 5, 8); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.errno_name(), "SIGSEGV");
  EXPECT_TRUE(e.is_fault());
  EXPECT_EQ(e.fault_kind(), FaultKind::kMapError);
  EXPECT_EQ(e.fault_address(), kBase + 5);
  EXPECT_EQ(std::string(e.what()).rfind("FAILED_PRECONDITION: ", 0), 0u) << e.what();
  EXPECT_NE(std::string(e.what()).find("[SIGSEGV]"), std::string::npos) << e.what();
}

TEST_F(ClientTest, FaultAddressIsFirstUnmappedByteOfAnAccessLeavingTheMapping) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, 2 * kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  p.Munmap(a + kPage, kPage);
  p.Write(a + kPage - 4, "abcd");
  Error e = ErrorOf([&] { p.Read(a + kPage - 4, 16); });
  EXPECT_EQ(e.fault_kind(), FaultKind::kMapError);
  EXPECT_EQ(e.fault_address(), a + kPage);
  EXPECT_EQ(p.Read(a + kPage - 4, 4), "abcd");
}

TEST_F(ClientTest, WriteToReadOnlyPageIsAccessErrorAndChangesNothing) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, 2 * kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  p.Write(a + kPage - 2, "ABCD");
  p.Mprotect(a + kPage, kPage, kProtRead);
  Error e = ErrorOf([&] { p.Write(a + kPage - 2, "wxyz"); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.errno_name(), "SIGSEGV");
  EXPECT_EQ(e.fault_kind(), FaultKind::kAccessError);
  EXPECT_EQ(e.fault_address(), a + kPage);
  EXPECT_EQ(p.Read(a + kPage - 2, 4), "ABCD");  // not even the writable half changed
}

TEST_F(ClientTest, ReadAndWriteSpanAPageBoundary) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(0, 2 * kPage, kRw);
  std::string data;
  for (int i = 0; i < 100; ++i) data.push_back(static_cast<char>('A' + i % 26));
  p.Write(a + kPage - 50, data);
  EXPECT_EQ(p.Read(a + kPage - 50, 100), data);
  EXPECT_EQ(p.Read(a + kPage - 50, 50), data.substr(0, 50));  // first page alone
  EXPECT_EQ(p.Read(a + kPage, 50), data.substr(50));          // second page alone
  EXPECT_EQ(p.Read(a + kPage - 51, 1), std::string(1, '\0'));  // untouched neighbour
}

TEST_F(ClientTest, ReadSpansTwoAdjacentMappings) {
  Process p = client().CreateProcess();
  p.Mmap(kBase, kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  p.Mmap(kBase + kPage, kPage, kRw, kMapShared | kMapAnonymous | kMapFixedNoreplace);
  p.Write(kBase + kPage - 3, "123456");
  p.Mprotect(kBase + kPage, kPage, kProtRead);
  EXPECT_EQ(p.Read(kBase + kPage - 3, 6), "123456");
}

TEST_F(ClientTest, ZeroLengthMmapIsInvalidArgumentNotFault) {
  Process p = client().CreateProcess();
  Error e = ErrorOf([&] { p.Mmap(0, 0, kRw); });
  EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.errno_name(), "EINVAL");
  EXPECT_FALSE(e.is_fault());
}

TEST_F(ClientTest, UnknownProtBitsAreInvalidArgument) {
  Process p = client().CreateProcess();
  Error e = ErrorOf([&] { p.Mmap(0, kPage, 0x80); });
  EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.errno_name(), "EINVAL");
}

TEST_F(ClientTest, FixedNoreplaceOverMappingIsAlreadyExists) {
  Process p = client().CreateProcess();
  p.Mmap(kBase, 4 * kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  Error e = ErrorOf([&] { p.Mmap(kBase + kPage, kPage, kRw, kPrivateAnon | kMapFixedNoreplace); });
  EXPECT_EQ(e.code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(e.errno_name(), "EEXIST");
}

TEST_F(ClientTest, MprotectOverUnmappedPagesIsFailedPreconditionEnomem) {
  Process p = client().CreateProcess();
  Error e = ErrorOf([&] { p.Mprotect(kBase, kPage, kProtRead); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.errno_name(), "ENOMEM");
  EXPECT_FALSE(e.is_fault());
}

TEST_F(ClientTest, ReadAfterMunmapFaults) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(0, kPage, kRw);
  p.Write(a, "gone soon");
  p.Munmap(a, kPage);
  Error e = ErrorOf([&] { p.Read(a, 4); });
  EXPECT_EQ(e.fault_kind(), FaultKind::kMapError);
  EXPECT_EQ(e.fault_address(), a);
}

TEST_F(ClientTest, StatsCountResidentPagesAndVirtualSize) {
  Process p = client().CreateProcess("stats");
  uint64_t a = p.Mmap(0, 4 * kPage, kRw);
  for (int i = 0; i < 3; ++i) p.Write(a + i * kPage, "x");
  Stats stats = client().GetStats(p.pid());
  EXPECT_EQ(stats.process.pid, p.pid());
  EXPECT_EQ(stats.process.name, "stats");
  EXPECT_EQ(stats.process.virtual_bytes, 4 * kPage);
  EXPECT_EQ(stats.process.mappings, 1u);
  EXPECT_EQ(stats.process.resident_pages, 3u);
  EXPECT_EQ(stats.process.swapped_pages, 0u);
  EXPECT_EQ(stats.global.page_size, kPage);
  EXPECT_EQ(stats.global.frames_total, kFrames);
  EXPECT_EQ(stats.global.processes, 1u);
  GlobalStats global = client().GetGlobalStats();
  EXPECT_EQ(global.page_size, kPage);
  EXPECT_EQ(global.frames_total - global.frames_free, 3u);
  EXPECT_FALSE(global.policy.empty());
}

TEST_F(ClientTest, MprotectInTheMiddleSplitsTheMapping) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, 3 * kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  p.Mprotect(a + kPage, kPage, kProtRead);
  std::vector<Mapping> m = client().ListMappings(p.pid());
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].start, a);
  EXPECT_EQ(m[0].end, a + kPage);
  EXPECT_EQ(m[0].prot, kRw);
  EXPECT_EQ(m[1].start, a + kPage);
  EXPECT_EQ(m[1].end, a + 2 * kPage);
  EXPECT_EQ(m[1].prot, kProtRead);
  EXPECT_EQ(m[2].start, a + 2 * kPage);
  EXPECT_EQ(m[2].end, a + 3 * kPage);
  EXPECT_EQ(m[2].prot, kRw);
  for (const Mapping& each : m) EXPECT_EQ(each.flags & kPrivateAnon, kPrivateAnon);
}

// 4 MiB of data plus framing is over gRPC's default 4 MiB receive limit: the
// client must raise its own limit to read what the server allows.
TEST_F(ClientTest, ReadAndWriteOfMaxIoSizeSucceed) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(0, kMaxIo, kRw);
  std::string zeros = p.Read(a, kMaxIo);
  EXPECT_EQ(zeros, std::string(kMaxIo, '\0'));
  std::string data(kMaxIo, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 4096);
  p.Write(a, data);
  EXPECT_EQ(p.Read(a, kMaxIo), data);
}

TEST_F(ClientTest, ReadOverMaxIoIsResourceExhausted) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(0, 2 * kMaxIo, kRw);
  Error e = ErrorOf([&] { p.Read(a, kMaxIo + 1); });
  EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_FALSE(e.is_fault());
}

TEST_F(ClientTest, ConcurrentCallsFromManyThreadsShareOneClient) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Process p = client().CreateProcess("thread-" + std::to_string(t));
        uint64_t a = p.Mmap(0, kPage, kRw);
        for (int i = 0; i < kRounds; ++i) {
          uint64_t value = static_cast<uint64_t>(t) * 1000 + static_cast<uint64_t>(i);
          p.WriteValue(a + 8 * (i % 16), value);
          if (p.ReadValue<uint64_t>(a + 8 * (i % 16)) != value) failures[t] = "mismatch";
        }
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_TRUE(client().ListProcesses().empty());
}

TEST_F(ClientTest, ClientOverAnExistingChannelWorks) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  Client other(grpc::CreateCustomChannel(server_->address(), grpc::InsecureChannelCredentials(), args));
  Process p = other.CreateProcess("via-channel");
  EXPECT_TRUE(IsListed(p.pid()));
}

// A loopback port bound but not listening refuses connections.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot bind a loopback socket";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ClientTransportTest, RefusedConnectionIsUnavailableWithoutDetail) {
  ClosedPort port;
  Client client(port.address());
  try {
    client.CreateProcess("nobody home");
    FAIL() << "CreateProcess succeeded against a closed port";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::UNAVAILABLE) << e.what();
    EXPECT_EQ(e.errno_name(), "");
    EXPECT_FALSE(e.is_fault());
  }
}

// A listening socket nobody accepts from completes TCP but never speaks
// HTTP/2: the call waits for the server until its deadline.
TEST(ClientTransportTest, SilentServerHitsTheCallDeadline) {
  ClosedPort port;
  ASSERT_EQ(listen(port.fd(), 1), 0);
  ClientOptions options;
  options.deadline = std::chrono::milliseconds(300);
  Client client(port.address(), options);
  try {
    client.GetGlobalStats();
    FAIL() << "GetGlobalStats succeeded against a silent server";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::DEADLINE_EXCEEDED) << e.what();
  }
}

}  // namespace
}  // namespace memserver::client
