// MetricsServer over real loopback sockets: what it answers to well-formed,
// unknown, oversized and garbage requests, that it keeps serving after each,
// its collectables, and its start and stop.
#include "server/metrics/http_server.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/metrics/exposition.h"
#include "tests/metrics/http_client.h"

namespace memserver::metrics {
namespace {

namespace http = boost::beast::http;
using testutil::GetRequest;
using testutil::ParseExposition;
using testutil::Send;
using testutil::Value;

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<prometheus::Registry>();
    auto& family = prometheus::BuildCounter()
                       .Name("memserver_test_events_total")
                       .Help("Events counted by the test")
                       .Register(*registry_);
    family.Add({{"source", "test"}}).Increment(3);
    Status s = MetricsServer::Start("127.0.0.1:0", registry_, &server_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  // The server still serves a scrape, with the test counter in it.
  void ExpectStillServing() {
    auto exchange = Send(server_->port(), GetRequest("/metrics"));
    ASSERT_EQ(exchange.connect_error, "");
    ASSERT_EQ(exchange.responses.size(), 1u) << exchange.read_end;
    EXPECT_EQ(exchange.responses[0].result_int(), 200);
    EXPECT_EQ(Value(ParseExposition(exchange.responses[0].body()),
                    "memserver_test_events_total{source=\"test\"}"),
              3);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, GetMetricsServesTheRegistryInTextFormat) {
  auto exchange = Send(server_->port(), GetRequest("/metrics"));
  ASSERT_EQ(exchange.connect_error, "");
  ASSERT_EQ(exchange.responses.size(), 1u) << exchange.read_end;
  const auto& response = exchange.responses[0];
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(std::string(response[http::field::content_type]).rfind("text/plain; version=0.0.4", 0),
            0u)
      << response[http::field::content_type];
  const std::string& body = response.body();
  EXPECT_NE(body.find("# TYPE memserver_test_events_total counter\n"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_test_events_total{source=\"test\"} 3\n"), std::string::npos)
      << body;
}

TEST_F(MetricsServerTest, QueryStringIsIgnored) {
  auto exchange = Send(server_->port(), GetRequest("/metrics?name[]=x"));
  ASSERT_EQ(exchange.responses.size(), 1u) << exchange.read_end;
  EXPECT_EQ(exchange.responses[0].result_int(), 200);
}

TEST_F(MetricsServerTest, HeadAnswersHeadersWithTheBodyLength) {
  auto exchange = Send(server_->port(), GetRequest("/metrics", "HEAD"));
  ASSERT_EQ(exchange.responses.size(), 1u) << exchange.read_end;
  EXPECT_EQ(exchange.responses[0].result_int(), 200);
  EXPECT_GT(std::stoul(std::string(exchange.responses[0][http::field::content_length])), 0u);
}

TEST_F(MetricsServerTest, OtherPathsAre404) {
  for (const char* target : {"/other", "/", "/metrics/", "/metricsx", "*"}) {
    auto exchange = Send(server_->port(), GetRequest(target));
    ASSERT_EQ(exchange.responses.size(), 1u) << target << " " << exchange.read_end;
    EXPECT_EQ(exchange.responses[0].result_int(), 404) << target;
  }
  ExpectStillServing();
}

TEST_F(MetricsServerTest, OtherMethodsOnMetricsAre405) {
  auto exchange = Send(server_->port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                        "Connection: close\r\n\r\nabc");
  ASSERT_EQ(exchange.responses.size(), 1u) << exchange.read_end;
  EXPECT_EQ(exchange.responses[0].result_int(), 405);
  EXPECT_EQ(exchange.responses[0][http::field::allow], "GET, HEAD");
}

TEST_F(MetricsServerTest, GarbageIs400AndClosesAndTheServerGoesOn) {
  const std::string garbage[] = {
      std::string("\x01\x02\xff\xfe not http at all\r\n\r\n"),
      "GET /metrics HTTP/9.9\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nBad Header Line\r\n\r\n",
  };
  for (const std::string& request : garbage) {
    auto exchange = Send(server_->port(), request, 1, /*until_close=*/true);
    ASSERT_EQ(exchange.responses.size(), 1u) << request << " " << exchange.read_end;
    EXPECT_EQ(exchange.responses[0].result_int(), 400) << request;
    EXPECT_EQ(exchange.read_end, "end of stream") << request;
  }
  ExpectStillServing();
}

TEST_F(MetricsServerTest, OversizedHeaderIs431AndClosesAndTheServerGoesOn) {
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " +
                              std::string(4 * MetricsServer::kMaxHeaderBytes, 'a') + "\r\n\r\n";
  auto exchange = Send(server_->port(), request, 1, /*until_close=*/true);
  ASSERT_EQ(exchange.responses.size(), 1u) << exchange.read_end;
  EXPECT_EQ(exchange.responses[0].result_int(), 431);
  EXPECT_EQ(exchange.read_end, "end of stream");
  ExpectStillServing();
}

TEST_F(MetricsServerTest, OversizedBodyIs413) {
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(MetricsServer::kMaxBodyBytes + 1) + "\r\n\r\n" +
                              std::string(MetricsServer::kMaxBodyBytes + 1, 'b');
  auto exchange = Send(server_->port(), request, 1, /*until_close=*/true);
  ASSERT_EQ(exchange.responses.size(), 1u) << exchange.read_end;
  EXPECT_EQ(exchange.responses[0].result_int(), 413);
  ExpectStillServing();
}

TEST_F(MetricsServerTest, PeerClosingMidRequestDoesNotStopTheServer) {
  auto exchange = Send(server_->port(), "GET /metr", 0);
  EXPECT_EQ(exchange.connect_error, "");
  ExpectStillServing();
}

TEST_F(MetricsServerTest, KeepAliveConnectionAnswersPipelinedRequestsInOrder) {
  const std::string two = GetRequest("/metrics", "GET", /*keep_alive=*/true) +
                          GetRequest("/nope", "GET", /*keep_alive=*/true);
  auto exchange = Send(server_->port(), two, 2, /*until_close=*/true,
                       std::chrono::milliseconds(200));
  ASSERT_EQ(exchange.responses.size(), 2u) << exchange.read_end;
  EXPECT_EQ(exchange.responses[0].result_int(), 200);
  EXPECT_EQ(exchange.responses[1].result_int(), 404);
  EXPECT_EQ(exchange.read_end, "timeout");  // still open for a third
}

// 64 idle connections (the bound) do not lock a scraper out: a new
// connection displaces the one that has waited longest, at once.
TEST_F(MetricsServerTest, IdleConnectionsAtTheLimitDoNotBlockAScrape) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  const asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"),
                                       static_cast<unsigned short>(server_->port()));
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> idle;
  for (size_t i = 0; i < MetricsServer::kMaxConnections; ++i) {
    idle.push_back(std::make_unique<asio::ip::tcp::socket>(ioc));
    idle.back()->connect(server);
  }
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto scrape = Send(server_->port(), GetRequest("/metrics"));
    ASSERT_EQ(scrape.responses.size(), 1u) << "scrape " << i << " with the bound's worth of idle connections";
    EXPECT_EQ(scrape.responses[0].result_int(), 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
  // The oldest idle connection was the one closed.
  boost::system::error_code ec;
  char byte;
  idle.front()->non_blocking(false);
  idle.front()->read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST_F(MetricsServerTest, RegisteredCollectableIsScrapedUntilRemoved) {
  auto extra = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge().Name("memserver_test_extra").Help("x").Register(*extra).Add({}).Set(7);
  server_->RegisterCollectable(extra);
  auto samples = ParseExposition(server_->Scrape());
  EXPECT_EQ(Value(samples, "memserver_test_extra"), 7);
  EXPECT_EQ(Value(samples, "memserver_test_events_total{source=\"test\"}"), 3);
  server_->RemoveCollectable(extra.get());
  EXPECT_EQ(Value(ParseExposition(server_->Scrape()), "memserver_test_extra"), -1);
}

TEST_F(MetricsServerTest, StopClosesThePortAndIsIdempotent) {
  const int port = server_->port();
  server_->Stop();
  server_->Stop();
  EXPECT_NE(Send(port, GetRequest("/metrics")).connect_error, "");
  // The port is free again.
  std::unique_ptr<MetricsServer> again;
  Status s = MetricsServer::Start("127.0.0.1:" + std::to_string(port), registry_, &again);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(again->port(), port);
}

TEST_F(MetricsServerTest, StopWithAnOpenConnectionReturns) {
  // A keep-alive connection the client leaves open; Stop must not wait for it.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"),
                  static_cast<unsigned short>(server_->port())});
  server_->Stop();
}

TEST_F(MetricsServerTest, PortInUseIsUnavailable) {
  std::unique_ptr<MetricsServer> second;
  Status s = MetricsServer::Start("127.0.0.1:" + std::to_string(server_->port()), registry_,
                                  &second);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(second, nullptr);
  ExpectStillServing();
}

TEST(MetricsServerStartTest, MalformedAddressOrNullRegistryIsInvalidArgument) {
  auto registry = std::make_shared<prometheus::Registry>();
  for (const char* address : {"", "nonsense", "127.0.0.1:", ":9464", "127.0.0.1:99999",
                              "127.0.0.1:http", "127.0.0.1:-1", "example.com:9464", "[::1"}) {
    std::unique_ptr<MetricsServer> server;
    Status s = MetricsServer::Start(address, registry, &server);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << address << " " << s.ToString();
    EXPECT_EQ(server, nullptr) << address;
  }
  std::unique_ptr<MetricsServer> server;
  EXPECT_EQ(MetricsServer::Start("127.0.0.1:0", nullptr, &server).code(),
            StatusCode::kInvalidArgument);
}

TEST(MetricsServerStartTest, LocalhostAndIpv6LoopbackAreAccepted) {
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<MetricsServer> server;
  Status s = MetricsServer::Start("localhost:0", registry, &server);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Send(server->port(), GetRequest("/metrics")).responses.size(), 1u);
  std::unique_ptr<MetricsServer> v6;
  s = MetricsServer::Start("[::1]:0", registry, &v6);
  // A machine without IPv6 cannot bind ::1: that is Unavailable, not a crash.
  EXPECT_TRUE(s.ok() || s.code() == StatusCode::kUnavailable) << s.ToString();
}

}  // namespace
}  // namespace memserver::metrics
