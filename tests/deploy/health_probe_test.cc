// memserver-health, the probe of the Docker HEALTHCHECK: healthy only when a
// real server answers SERVING; every other answer (NOT_SERVING, unknown
// service, no health service, nothing listening) is unhealthy with a reason,
// and the program's exit codes say which (0 serving, 1 not, 2 usage).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "client/healthcheck/health_probe.h"
#include "tests/service/service_fixture.h"

namespace memserver::healthcheck {
namespace {

using service::Server;
using service::TempDir;
using service::TestServerOptions;

constexpr auto kProbeTimeout = std::chrono::seconds(5);
// For probes that must fail: waiting the whole deadline is expected there.
constexpr auto kShortTimeout = std::chrono::milliseconds(300);

// A loopback port that is bound but not listening: connecting to it is
// refused for as long as the socket lives (no other process can take it).
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot bind a loopback socket";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A bare gRPC server on 127.0.0.1:0 with (or without) the default health
// service and nothing else, to make the answers memserverd never gives.
class BareServer {
 public:
  explicit BareServer(bool with_health) {
    grpc::EnableDefaultHealthCheckService(with_health);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    // A server needs one service. Nobody polls the queue, so calls of any
    // method other than the health service's wait until their deadline.
    builder.RegisterAsyncGenericService(&generic_);
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
  }
  ~BareServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    cq_->Shutdown();
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }
  BareServer(const BareServer&) = delete;
  BareServer& operator=(const BareServer&) = delete;
  grpc::Server* server() { return server_.get(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  grpc::AsyncGenericService generic_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};

// Runs memserver-health with ARGS; returns its exit status, its stdout and
// stderr in *output.
int RunProbe(const std::string& args, std::string* output) {
  const std::string command = std::string(MEMSERVER_HEALTH_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return -1;
  }
  char buffer[512];
  output->clear();
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class HealthProbeTest : public ::testing::Test {
 protected:
  void StartMemserver() {
    Status s = Server::Start(TestServerOptions(dir_.path()), &server_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    if (server_) {
      Status s = server_->Shutdown();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(HealthProbeTest, ServingMemserverIsHealthy) {
  ASSERT_NO_FATAL_FAILURE(StartMemserver());
  for (const char* service : {"", "memserver.v1.Memory"}) {
    ProbeResult result = ProbeHealth({server_->address(), service, kProbeTimeout, {}});
    EXPECT_TRUE(result.healthy) << service << ": " << result.message;
    EXPECT_EQ(result.message, "SERVING");
  }
}

TEST_F(HealthProbeTest, UnknownServiceIsUnhealthyAndNamed) {
  ASSERT_NO_FATAL_FAILURE(StartMemserver());
  ProbeResult result = ProbeHealth({server_->address(), "no.such.Service", kProbeTimeout, {}});
  EXPECT_FALSE(result.healthy);
  EXPECT_NE(result.message.find("NOT_FOUND"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("no.such.Service"), std::string::npos) << result.message;
}

TEST_F(HealthProbeTest, NotServingIsUnhealthy) {
  BareServer bare(/*with_health=*/true);
  ASSERT_NE(bare.server(), nullptr);
  bare.server()->GetHealthCheckService()->SetServingStatus(false);
  ProbeResult result = ProbeHealth({bare.address(), "", kProbeTimeout, {}});
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.message, bare.address() + ": NOT_SERVING");
}

TEST_F(HealthProbeTest, ServerWithoutHealthServiceIsUnhealthy) {
  BareServer bare(/*with_health=*/false);
  ASSERT_NE(bare.server(), nullptr);
  ProbeResult result = ProbeHealth({bare.address(), "", kShortTimeout, {}});
  EXPECT_FALSE(result.healthy);
  // The call reaches the server, which never answers it: the probe gives up
  // at its deadline rather than hanging, and says it was connected.
  EXPECT_NE(result.message.find("DEADLINE_EXCEEDED"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("connected, but no answer"), std::string::npos)
      << result.message;
}

TEST_F(HealthProbeTest, NothingListeningIsUnhealthyAtTheDeadline) {
  RefusingPort port;
  ProbeResult result = ProbeHealth({port.address(), "", kShortTimeout, {}});
  EXPECT_FALSE(result.healthy);
  EXPECT_NE(result.message.find("DEADLINE_EXCEEDED"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("could not connect"), std::string::npos) << result.message;
}

TEST_F(HealthProbeTest, ProgramExitsZeroWhenServing) {
  ASSERT_NO_FATAL_FAILURE(StartMemserver());
  std::string output;
  EXPECT_EQ(RunProbe("--addr " + server_->address() + " --timeout 5 --verbose", &output), 0)
      << output;
  EXPECT_EQ(output, "SERVING\n");
}

TEST_F(HealthProbeTest, ProgramExitsOneWithReasonWhenUnreachable) {
  RefusingPort port;
  std::string output;
  EXPECT_EQ(RunProbe("--addr " + port.address() + " --timeout 0.3", &output), 1) << output;
  EXPECT_NE(output.find("memserver-health: unhealthy: " + port.address()), std::string::npos)
      << output;
}

TEST_F(HealthProbeTest, ProgramExitsTwoOnBadFlags) {
  std::string output;
  EXPECT_EQ(RunProbe("--timeout -1", &output), 2) << output;
  EXPECT_EQ(RunProbe("--addr ''", &output), 2) << output;
  EXPECT_EQ(RunProbe("--no-such-flag", &output), 2) << output;
}

}  // namespace
}  // namespace memserver::healthcheck
