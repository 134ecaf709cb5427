// 2,000 open AccessStreams cost the real memserverd no thread each: its
// thread count stays bounded, and a second tenant's reads still answer
// while they are open. Prints the server's RSS per open stream.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "client/lib/connection.h"
#include "memserver/v1/memserver.grpc.pb.h"
#include "tests/e2e/daemon.h"
#include "tests/support/temp_dir.h"

namespace memserver::e2e {
namespace {

namespace v1 = memserver::v1;

constexpr int kStreams = 2000;
constexpr int kChannels = 4;  // 500 streams per connection, under the default 1024
// gRPC's own threads, the stream pool, RocksDB's: what a server has with no
// stream open, plus this much slack for threads gRPC starts on demand.
constexpr long kThreadSlack = 32;

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[32];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// A field of /proc/PID/status ("Threads", "VmRSS" in kB).
long ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& token) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
  client::ConnectionOptions c;
  c.token = token;
  return client::OpenChannel(address, c, args);
}

// One open stream driven through a completion queue.
struct Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::AccessRequest, v1::AccessResponse>> rw;
  v1::AccessRequest request;
  v1::AccessResponse response;
  grpc::Status status;
};

// Waits for `n` completions on `cq`, each within the deadline; false when
// one fails or does not come.
bool Drain(grpc::CompletionQueue& cq, int n, std::chrono::system_clock::time_point deadline) {
  for (int i = 0; i < n; ++i) {
    void* tag = nullptr;
    bool ok = false;
    if (cq.AsyncNext(&tag, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT || !ok) return false;
  }
  return true;
}

TEST(StreamBoundE2eTest, TwoThousandStreamsKeepThreadsBoundedAndOtherTenantsServed) {
  test::TempDir dir;
  const std::string tenants = dir.File("tenants.toml");
  {
    std::ofstream out(tenants);
    out << fmt::format("[tenants.streamer]\ntoken_sha256 = \"{}\"\n\n[tenants.reader]\ntoken_sha256 = \"{}\"\n",
                       Sha256Hex("streamer-token"), Sha256Hex("reader-token"));
  }
  std::string error;
  auto daemon = Daemon::Start(dir.path(),
                              {"--data-dir", dir.File("data"), "--metrics-listen", "", "--tenants", tenants,
                               "--memory", "64MiB", "--stream-threads", "4"},
                              {}, &error);
  ASSERT_NE(daemon, nullptr) << error;

  // The reader's process, and one read to warm the server up.
  auto reader = v1::Memory::NewStub(Channel(daemon->address(), "reader-token"));
  auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ((*reader).*method)(&context, request, response);
  };
  v1::CreateProcessRequest create;
  v1::CreateProcessResponse created;
  ASSERT_TRUE(call(&v1::Memory::Stub::CreateProcess, create, &created).ok());
  v1::MmapRequest mmap;
  mmap.set_pid(created.pid());
  mmap.set_length(1 << 16);
  mmap.set_prot(3);
  mmap.set_flags(0x22);
  v1::MmapResponse mapped;
  ASSERT_TRUE(call(&v1::Memory::Stub::Mmap, mmap, &mapped).ok());
  v1::ReadRequest read;
  read.set_pid(created.pid());
  read.set_addr(mapped.addr());
  read.set_length(4096);
  v1::ReadResponse data;
  ASSERT_TRUE(call(&v1::Memory::Stub::Read, read, &data).ok());

  const long threads_before = ProcStatus(daemon->pid(), "Threads");
  const long rss_before_kb = ProcStatus(daemon->pid(), "VmRSS");
  ASSERT_GT(threads_before, 0);

  // The streamer opens 2,000 streams on 4 connections; each answers one
  // (empty) batch, so every stream is known to be open on the server.
  std::vector<std::unique_ptr<v1::Memory::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) stubs.push_back(v1::Memory::NewStub(Channel(daemon->address(), "streamer-token")));
  v1::CreateProcessResponse own;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stubs[0]->CreateProcess(&context, create, &own).ok());
  }
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Stream>> streams;
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(120);
  for (int i = 0; i < kStreams; ++i) {
    auto s = std::make_unique<Stream>();
    s->context.set_deadline(deadline + std::chrono::seconds(60));
    s->rw = stubs[i % kChannels]->AsyncAccessStream(&s->context, &cq, s.get());
    streams.push_back(std::move(s));
  }
  ASSERT_TRUE(Drain(cq, kStreams, deadline)) << "not every stream started";
  for (auto& s : streams) {
    s->request.set_pid(own.pid());
    s->rw->Write(s->request, s.get());
  }
  ASSERT_TRUE(Drain(cq, kStreams, deadline)) << "not every first batch was sent";
  for (auto& s : streams) s->rw->Read(&s->response, s.get());
  ASSERT_TRUE(Drain(cq, kStreams, deadline)) << "not every stream answered";
  for (auto& s : streams) ASSERT_EQ(s->response.status().code(), 0) << s->response.status().message();

  const long threads_open = ProcStatus(daemon->pid(), "Threads");
  const long rss_open_kb = ProcStatus(daemon->pid(), "VmRSS");
  EXPECT_LE(threads_open, threads_before + kThreadSlack)
      << kStreams << " open streams grew the server from " << threads_before << " to " << threads_open << " threads";
  // The other tenant is still served, promptly, while they are open.
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    grpc::Status s = call(&v1::Memory::Stub::Read, read, &data);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
  std::printf("[ figures  ] %d streams: server threads %ld -> %ld, RSS %ld -> %ld KiB (%.1f KiB per stream)\n",
              kStreams, threads_before, threads_open, rss_before_kb, rss_open_kb,
              double(rss_open_kb - rss_before_kb) / kStreams);

  // Half-close every stream; each ends with OK.
  for (auto& s : streams) s->rw->WritesDone(s.get());
  ASSERT_TRUE(Drain(cq, kStreams, deadline));
  for (auto& s : streams) s->rw->Finish(&s->status, s.get());
  ASSERT_TRUE(Drain(cq, kStreams, deadline));
  for (auto& s : streams) EXPECT_TRUE(s->status.ok()) << s->status.error_message();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  EXPECT_EQ(daemon->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace memserver::e2e
