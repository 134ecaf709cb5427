// Server wiring: health checking, start-up failures reported as Status,
// Shutdown with calls in flight, Wait.
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "server/engine/engine.h"
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using grpc::StatusCode;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service, HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  HealthCheckRequest request;
  request.set_service(service);
  auto context = Context();
  return stub->Check(context.get(), request, response);
}

TEST_F(ServiceTest, HealthCheckAnswersServing) {
  for (const char* service : {"", "memserver.v1.Memory"}) {
    HealthCheckResponse response;
    grpc::Status s = CheckHealth(channel_, service, &response);
    ASSERT_TRUE(s.ok()) << service << " " << Describe(s);
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << service;
  }
}

TEST_F(ServiceTest, HealthCheckOfAnUnknownServiceIsNotFoundAndNamed) {
  HealthCheckResponse response;
  grpc::Status s = CheckHealth(channel_, "no.such.Service", &response);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_NE(s.error_message().find("no.such.Service"), std::string::npos) << Describe(s);
}

TEST_F(ServiceTest, HealthCheckOfAnOversizedServiceNameIsInvalidArgument) {
  HealthCheckResponse response;
  grpc::Status s = CheckHealth(channel_, std::string(4096, 'x'), &response);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
}

// Watch streams the status at once, SERVICE_UNKNOWN for a name Check does
// not know, and NOT_SERVING when shutdown begins, which ends the stream.
TEST_F(ServiceTest, HealthWatchStreamsServingThenNotServingAtShutdown) {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  auto unknown_context = Context();
  HealthCheckRequest unknown_request;
  unknown_request.set_service("no.such.Service");
  auto unknown = stub->Watch(unknown_context.get(), unknown_request);
  HealthCheckResponse update;
  ASSERT_TRUE(unknown->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  unknown_context->TryCancel();
  EXPECT_EQ(unknown->Finish().error_code(), StatusCode::CANCELLED);

  auto context = Context();
  HealthCheckRequest request;
  request.set_service("memserver.v1.Memory");
  auto reader = stub->Watch(context.get(), request);
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);
  HealthCheckResponse response;
  ASSERT_TRUE(CheckHealth(channel_, "", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  std::thread stopper([&] { EXPECT_TRUE(server_->Shutdown().ok()); });
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&update));
  EXPECT_TRUE(reader->Finish().ok());
  stopper.join();
}

// The process-wide switch for gRPC's default (callback) health service does
// not reach memserver's server: its own service still answers, and Shutdown
// (which destroys the services) is clean.
TEST(ServerStartTest, DefaultHealthServiceSwitchedOnElsewhereIsNotUsed) {
  grpc::EnableDefaultHealthCheckService(true);
  TempDir dir;
  std::unique_ptr<Server> server;
  Status st = Server::Start(TestServerOptions(dir.path()), &server);
  grpc::EnableDefaultHealthCheckService(false);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  HealthCheckResponse response;
  ASSERT_TRUE(CheckHealth(channel, "memserver.v1.Memory", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  // Only ours knows memserver.v1.Memory in Watch; gRPC's default service
  // would answer SERVICE_UNKNOWN.
  auto stub = grpc::health::v1::Health::NewStub(channel);
  auto context = Context();
  HealthCheckRequest request;
  request.set_service("memserver.v1.Memory");
  auto reader = stub->Watch(context.get(), request);
  HealthCheckResponse update;
  ASSERT_TRUE(reader->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::SERVING);
  context->TryCancel();
  reader->Finish();
  EXPECT_TRUE(server->Shutdown().ok());
}

TEST_F(ServiceTest, AddressIsDialableLoopback) {
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(ServiceTest, StartOnAPortInUseFailsWithAStatus) {
  TempDir other;
  ServerOptions options = TestServerOptions(other.path());
  options.listen_address = server_->address();
  std::unique_ptr<Server> second;
  Status s = Server::Start(options, &second);
  EXPECT_EQ(s.code(), memserver::StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(server_->address()), std::string::npos) << s.message();
  EXPECT_EQ(second, nullptr);
  // The first server is unaffected.
  EXPECT_NE(CreateProcess(), 0u);
}

TEST(ServerStartTest, MalformedListenAddressIsInvalidArgument) {
  for (const char* address : {"nonsense", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:http",
                              ":7070", "[::1:0", "127.0.0.1:-1"}) {
    TempDir dir;
    ServerOptions options = TestServerOptions(dir.path());
    options.listen_address = address;
    std::unique_ptr<Server> server;
    Status s = Server::Start(options, &server);
    EXPECT_EQ(s.code(), memserver::StatusCode::kInvalidArgument) << address << ": " << s.ToString();
    EXPECT_NE(s.message().find(address), std::string::npos) << s.message();
    EXPECT_EQ(server, nullptr);
  }
}

TEST(ServerStartTest, AddressOfAnotherMachineIsUnavailable) {
  TempDir dir;
  ServerOptions options = TestServerOptions(dir.path());
  options.listen_address = "192.0.2.1:0";  // TEST-NET-1: never local; bind fails at once
  options.insecure = true;  // past the refusal of an open non-loopback address, to the bind
  std::unique_ptr<Server> server;
  Status s = Server::Start(options, &server);
  EXPECT_EQ(s.code(), memserver::StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(server, nullptr);
}

TEST(ServerStartTest, OpenNonLoopbackAddressIsRefusedNamingWhatToConfigure) {
  TempDir dir;
  ServerOptions options = TestServerOptions(dir.path());
  options.listen_address = "0.0.0.0:0";
  std::unique_ptr<Server> server;
  Status s = Server::Start(options, &server);
  EXPECT_EQ(s.code(), memserver::StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("--tls-cert"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("--tenants"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("--insecure"), std::string::npos) << s.ToString();
  EXPECT_EQ(server, nullptr);
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_TRUE(IsLoopbackAddress("unix:/tmp/s"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:1"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:1"));
}

TEST(ServerStartTest, DataDirectoryThatCannotBeCreatedFails) {
  TempDir dir;
  const std::string file = dir.path() + "/plain-file";
  std::ofstream(file) << "not a directory";
  ServerOptions options = TestServerOptions(file + "/data");
  std::unique_ptr<Server> server;
  Status s = Server::Start(options, &server);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(file), std::string::npos) << s.message();
  EXPECT_EQ(server, nullptr);
}

TEST(ServerStartTest, InvalidEngineOptionsAreInvalidArgument) {
  TempDir dir;
  ServerOptions options = TestServerOptions(dir.path());
  options.engine.page_size = 1000;
  std::unique_ptr<Server> server;
  Status s = Server::Start(options, &server);
  EXPECT_EQ(s.code(), memserver::StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(server, nullptr);
}

TEST(ServerStartTest, ShutdownClosesRocksDbSoTheDirectoryCanBeReopened) {
  TempDir dir;
  std::unique_ptr<Server> first;
  ASSERT_TRUE(Server::Start(TestServerOptions(dir.path()), &first).ok());
  first->Shutdown();
  EXPECT_EQ(first->engine(), nullptr);
  first->Shutdown();  // idempotent
  std::unique_ptr<Server> second;
  Status s = Server::Start(TestServerOptions(dir.path()), &second);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ServerStartTest, ProcessesSurviveAGracefulRestart) {
  TempDir dir;
  uint64_t pid = 0;
  uint64_t addr = 0;
  const std::string data(3 * kPage, 'r');
  {
    std::unique_ptr<Server> server;
    ASSERT_TRUE(Server::Start(TestServerOptions(dir.path()), &server).ok());
    auto stub = v1::Memory::NewStub(
        grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
    v1::CreateProcessRequest create;
    create.set_name("survivor");
    v1::CreateProcessResponse created;
    auto context = Context();
    ASSERT_TRUE(stub->CreateProcess(context.get(), create, &created).ok());
    pid = created.pid();
    v1::MmapRequest map;
    map.set_pid(pid);
    map.set_length(2 * kFrames * kPage);  // more than fits in frames
    map.set_prot(kRw);
    map.set_flags(kPrivateAnon);
    v1::MmapResponse mapped;
    context = Context();
    ASSERT_TRUE(stub->Mmap(context.get(), map, &mapped).ok());
    addr = mapped.addr();
    for (uint64_t page = 0; page + 3 <= 2 * kFrames; page += 3) {  // 126 pages
      v1::WriteRequest write;
      write.set_pid(pid);
      write.set_addr(addr + page * kPage);
      write.set_data(data);
      v1::WriteResponse written;
      context = Context();
      grpc::Status written_status = stub->Write(context.get(), write, &written);
      ASSERT_TRUE(written_status.ok()) << Describe(written_status);
    }
    Status s = server->Shutdown();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::unique_ptr<Server> server;
  ASSERT_TRUE(Server::Start(TestServerOptions(dir.path()), &server).ok());
  EXPECT_TRUE(server->engine()->recovery().restored);
  auto stub = v1::Memory::NewStub(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  // Everything written before the restart, read back in max-I/O chunks.
  const uint64_t written_bytes = (2 * kFrames - 2) * kPage;
  for (uint64_t offset = 0; offset < written_bytes; offset += kMaxIo) {
    v1::ReadRequest read;
    read.set_pid(pid);
    read.set_addr(addr + offset);
    read.set_length(std::min<uint64_t>(kMaxIo, written_bytes - offset));
    v1::ReadResponse back;
    auto context = Context();
    grpc::Status s = stub->Read(context.get(), read, &back);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(back.data(), std::string(read.length(), 'r')) << "at offset " << offset;
  }
  auto context = Context();
  v1::ListProcessesResponse processes;
  context = Context();
  ASSERT_TRUE(stub->ListProcesses(context.get(), v1::ListProcessesRequest(), &processes).ok());
  ASSERT_EQ(processes.processes_size(), 1);
  EXPECT_EQ(processes.processes(0).name(), "survivor");
}

TEST(ServerStartTest, WaitReturnsOnceShutdownCompletes) {
  TempDir dir;
  std::unique_ptr<Server> server;
  ASSERT_TRUE(Server::Start(TestServerOptions(dir.path()), &server).ok());
  std::thread waiter([&] { server->Wait(); });
  server->Shutdown();
  waiter.join();
  EXPECT_EQ(server->engine(), nullptr);
}

// N threads write in a loop; once each has completed a call, Shutdown runs.
// Every call either completed OK or failed with UNAVAILABLE/CANCELLED; after
// the first failure a thread stops. Nothing crashes or hangs.
TEST_F(ServiceTest, ShutdownWithCallsInFlightFinishesThemOrRefusesCleanly) {
  constexpr int kThreads = 4;
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 2 * kFrames);

  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  std::vector<grpc::Status> last(kThreads);
  std::vector<uint64_t> ok_calls(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread has its own channel: separate connections, so calls are
      // genuinely concurrent on the server.
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", t);
      auto stub = v1::Memory::NewStub(grpc::CreateCustomChannel(
          server_->address(), grpc::InsecureChannelCredentials(), args));
      const std::string data(8 * kPage, static_cast<char>('a' + t));
      for (uint64_t i = 0;; ++i) {
        v1::WriteRequest request;
        request.set_pid(pid);
        request.set_addr(addr + ((i * kThreads + t) % (2 * kFrames - 8)) * kPage);
        request.set_data(data);
        v1::WriteResponse response;
        auto context = Context();
        grpc::Status s = stub->Write(context.get(), request, &response);
        if (!s.ok()) {
          last[t] = s;
          return;
        }
        if (++ok_calls[t] == 1) {
          std::lock_guard<std::mutex> lock(mu);
          ++started;
          cv.notify_all();
        }
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    // Not fatal: the threads must be joined either way.
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return started == kThreads; }));
  }
  server_->Shutdown(std::chrono::seconds(5));
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_GT(ok_calls[t], 0u);
    EXPECT_TRUE(last[t].error_code() == StatusCode::UNAVAILABLE ||
                last[t].error_code() == StatusCode::CANCELLED)
        << "thread " << t << ": " << Describe(last[t]);
  }
}

}  // namespace
}  // namespace memserver::service
