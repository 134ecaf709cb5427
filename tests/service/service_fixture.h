// ServiceTest: a real memserver (Server::Start on 127.0.0.1:0, real RocksDB
// in a fresh temporary directory, 64 frames so eviction happens) and a
// generated Memory stub connected to it. Helpers return the grpc::Status of
// each call, made with a 5 s deadline.
#pragma once

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "memserver/v1/memserver.grpc.pb.h"
#include "server/service/server.h"
#include "tests/support/temp_dir.h"

namespace memserver::service {

inline constexpr uint32_t kPage = 4096;
inline constexpr uint64_t kFrames = 64;
inline constexpr uint64_t kMaxIo = 64 << 10;
inline constexpr auto kCallDeadline = std::chrono::seconds(5);
inline constexpr uint32_t kRw = v1::PROT_READ | v1::PROT_WRITE;
inline constexpr uint32_t kPrivateAnon = v1::MAP_PRIVATE | v1::MAP_ANONYMOUS;

// A fresh directory under the test temp dir, removed by its destructor.
using ::memserver::test::TempDir;

inline ServerOptions TestServerOptions(const std::string& data_dir) {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.data_dir = data_dir;
  options.engine.page_size = kPage;
  options.engine.memory_bytes = kFrames * kPage;
  options.engine.max_io_bytes = kMaxIo;
  options.engine.eviction_batch = 8;
  return options;
}

inline std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  return context;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = Server::Start(TestServerOptions(dir_.path()), &server_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->port(), 0);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Memory::NewStub(channel_);
  }
  // Every test ends with a graceful shutdown, whose checkpoint must succeed.
  void TearDown() override {
    if (server_) {
      Status s = server_->Shutdown();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }

  // Calls one RPC of the stub with a fresh deadline-bound context.
  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (v1::Memory::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                          Response*),
                    const Request& request, Response* response) {
    auto context = Context();
    return (stub_.get()->*rpc)(context.get(), request, response);
  }

  uint64_t CreateProcess(const std::string& name = "test") {
    v1::CreateProcessRequest request;
    request.set_name(name);
    v1::CreateProcessResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::CreateProcess, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.pid();
  }
  grpc::Status Mmap(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags,
                    uint64_t* mapped = nullptr) {
    v1::MmapRequest request;
    request.set_pid(pid);
    request.set_addr(addr);
    request.set_length(length);
    request.set_prot(prot);
    request.set_flags(flags);
    v1::MmapResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::Mmap, request, &response);
    if (mapped) *mapped = response.addr();
    return s;
  }
  // Maps `pages` read-write private anonymous pages; returns the address.
  uint64_t MapPages(uint64_t pid, uint64_t pages) {
    uint64_t addr = 0;
    grpc::Status s = Mmap(pid, 0, pages * kPage, kRw, kPrivateAnon, &addr);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(addr % kPage, 0u);
    return addr;
  }
  grpc::Status Munmap(uint64_t pid, uint64_t addr, uint64_t length) {
    v1::MunmapRequest request;
    request.set_pid(pid);
    request.set_addr(addr);
    request.set_length(length);
    v1::MunmapResponse response;
    return Call(&v1::Memory::Stub::Munmap, request, &response);
  }
  grpc::Status Mprotect(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot) {
    v1::MprotectRequest request;
    request.set_pid(pid);
    request.set_addr(addr);
    request.set_length(length);
    request.set_prot(prot);
    v1::MprotectResponse response;
    return Call(&v1::Memory::Stub::Mprotect, request, &response);
  }
  grpc::Status Read(uint64_t pid, uint64_t addr, uint64_t length, std::string* data = nullptr) {
    v1::ReadRequest request;
    request.set_pid(pid);
    request.set_addr(addr);
    request.set_length(length);
    v1::ReadResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::Read, request, &response);
    if (data) *data = response.data();
    return s;
  }
  grpc::Status Write(uint64_t pid, uint64_t addr, const std::string& data) {
    v1::WriteRequest request;
    request.set_pid(pid);
    request.set_addr(addr);
    request.set_data(data);
    v1::WriteResponse response;
    return Call(&v1::Memory::Stub::Write, request, &response);
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Memory::Stub> stub_;
};

// Decodes the binary error details (grpc-status-details-bin) of a failed
// call into its one ErrorDetail, failing the test when they do not decode.
inline v1::ErrorDetail DecodeErrorDetail(const grpc::Status& status) {
  v1::RpcStatus rpc_status;
  v1::ErrorDetail detail;
  EXPECT_TRUE(rpc_status.ParseFromString(status.error_details()))
      << "undecodable details for " << status.error_message();
  EXPECT_EQ(rpc_status.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(rpc_status.details_size(), 1);
  if (rpc_status.details_size() >= 1) {
    EXPECT_TRUE(rpc_status.details(0).UnpackTo(&detail));
  }
  return detail;
}

// "INVALID_ARGUMENT: message" for assertion output.
inline std::string Describe(const grpc::Status& status) {
  return std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
}

}  // namespace memserver::service
