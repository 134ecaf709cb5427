// Server's metrics wiring (server/service/server.h): with
// metrics_listen_address set, Server::Start serves /metrics on its own port
// with the engine's counters and every RPC timed; without, nothing listens;
// Shutdown stops it before the engine goes.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "memserver/v1/memserver.grpc.pb.h"
#include "server/service/server.h"
#include "tests/metrics/http_client.h"
#include "tests/support/temp_dir.h"

namespace memserver::metrics {
namespace {

using ::memserver::test::TempDir;

service::ServerOptions Options(const std::string& dir, const std::string& metrics) {
  service::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.metrics_listen_address = metrics;
  options.data_dir = dir;
  options.engine.memory_bytes = 64 * 4096;
  return options;
}

std::string Scrape(int port) {
  testutil::Exchange e = testutil::Send(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(e.connect_error, "");
  if (e.responses.size() != 1) return "";
  return e.responses[0].body();
}

TEST(ServerMetricsTest, ServesEngineAndRpcMetricsOnItsOwnPort) {
  TempDir dir;
  std::unique_ptr<service::Server> server;
  ASSERT_TRUE(service::Server::Start(Options(dir.path(), "127.0.0.1:0"), &server).ok());
  ASSERT_GT(server->metrics_port(), 0);
  EXPECT_NE(server->metrics_port(), server->port());

  auto stub = v1::Memory::NewStub(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    v1::CreateProcessRequest request;
    v1::CreateProcessResponse response;
    ASSERT_TRUE(stub->CreateProcess(&context, request, &response).ok());
  }
  grpc::ClientContext context;
  v1::ExitRequest exit;
  exit.set_pid(999);
  v1::ExitResponse exited;
  EXPECT_EQ(stub->Exit(&context, exit, &exited).error_code(), grpc::StatusCode::NOT_FOUND);

  const std::string body = Scrape(server->metrics_port());
  EXPECT_NE(body.find("memserver_processes 3\n"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_frames{state=\"free\"} 64\n"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_rpcs_total{code=\"OK\",method=\"CreateProcess\"} 3\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("memserver_rpcs_total{code=\"NOT_FOUND\",method=\"Exit\"} 1\n"),
            std::string::npos)
      << body;

  const int port = server->metrics_port();
  ASSERT_TRUE(server->Shutdown().ok());
  EXPECT_NE(testutil::Send(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").connect_error,
            "");
}

TEST(ServerMetricsTest, EmptyAddressServesNoMetrics) {
  TempDir dir;
  std::unique_ptr<service::Server> server;
  ASSERT_TRUE(service::Server::Start(Options(dir.path(), ""), &server).ok());
  EXPECT_EQ(server->metrics_port(), 0);
  EXPECT_TRUE(server->Shutdown().ok());
}

TEST(ServerMetricsTest, BadMetricsAddressFailsTheStart) {
  TempDir dir;
  std::unique_ptr<service::Server> server;
  Status s = service::Server::Start(Options(dir.path(), "no-port"), &server);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(server, nullptr);
  // The failed start closed the store: the next one opens it.
  ASSERT_TRUE(service::Server::Start(Options(dir.path(), ""), &server).ok());
  EXPECT_TRUE(server->Shutdown().ok());
}

}  // namespace
}  // namespace memserver::metrics
