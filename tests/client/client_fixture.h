// ClientTest: a real memserver in this process (Server::Start on 127.0.0.1:0,
// real RocksDB in a fresh temporary directory) and a memserver::client::Client
// connected to it with a 10 s deadline per call.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "client/lib/client.h"
#include "server/service/server.h"
#include "tests/support/temp_dir.h"

namespace memserver::client {

inline constexpr uint64_t kPage = 4096;
inline constexpr uint64_t kFrames = 2048;         // 8 MiB: more than one max-size I/O
inline constexpr uint64_t kMaxIo = 4ull << 20;    // the server's default, over gRPC's 4 MiB limit
inline constexpr uint64_t kBase = 0x10000000;     // a free address for MAP_FIXED_NOREPLACE
inline constexpr uint32_t kRw = kProtRead | kProtWrite;
inline constexpr uint32_t kPrivateAnon = kMapPrivate | kMapAnonymous;

// A fresh directory under the test temp dir, removed by its destructor.
using ::memserver::test::TempDir;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service::ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_.path();
    options.engine.page_size = kPage;
    options.engine.memory_bytes = kFrames * kPage;
    options.engine.max_io_bytes = kMaxIo;
    Status s = service::Server::Start(options, &server_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ClientOptions client_options;
    client_options.deadline = std::chrono::seconds(10);
    client_ = std::make_unique<Client>(server_->address(), client_options);
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown();
  }

  Client& client() { return *client_; }

  bool IsListed(uint64_t pid) {
    auto processes = client().ListProcesses();
    return std::any_of(processes.begin(), processes.end(),
                       [pid](const ProcessStats& p) { return p.pid == pid; });
  }

  // Runs `call`, which must throw Error; returns it (or a default-coded
  // UNKNOWN Error after recording a failure when nothing was thrown).
  template <class Call>
  static Error ErrorOf(Call&& call) {
    try {
      call();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected memserver::client::Error, nothing was thrown";
    return Error(grpc::StatusCode::UNKNOWN, "nothing thrown");
  }

  TempDir dir_;
  std::unique_ptr<service::Server> server_;
  std::unique_ptr<Client> client_;
};

}  // namespace memserver::client
