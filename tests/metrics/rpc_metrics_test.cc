// The RPC metrics interceptor on a real gRPC server (loopback, ephemeral
// port) serving memserver.v1.Memory with a minimal implementation: every
// call is counted and timed once under its method and status code, and
// hostile method names cannot grow the label set.
#include "server/service/rpc_metrics.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "memserver/v1/memserver.grpc.pb.h"
#include "tests/metrics/exposition.h"

namespace memserver::metrics {
namespace {

using service::kMaxUndeclaredMethods;
using service::NewRpcMetricsInterceptorFactory;

using testutil::ParseExposition;
using testutil::Value;

// Only CreateProcess is implemented: an empty name is refused; every other
// method answers UNIMPLEMENTED (the generated base class does that).
class MinimalMemory final : public v1::Memory::Service {
 public:
  grpc::Status CreateProcess(grpc::ServerContext*, const v1::CreateProcessRequest* request,
                             v1::CreateProcessResponse* response) override {
    if (request->name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name is empty");
    }
    response->set_pid(42);
    return grpc::Status::OK;
  }
};

class RpcMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<prometheus::Registry>();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    if (WithGenericService()) builder.RegisterCallbackGenericService(&generic_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(MakeFactory());
    builder.experimental().SetInterceptorCreators(std::move(creators));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Memory::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  // With a generic service, calls to unregistered methods reach it (which
  // answers UNIMPLEMENTED) under their own names; without one, gRPC answers
  // them itself.
  virtual bool WithGenericService() const { return false; }

  // The factory under test: by default the one the server installs, which
  // prepares memserver.v1.Memory.
  virtual std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeFactory() {
    return NewRpcMetricsInterceptorFactory(registry_);
  }

  // The calls, public for helpers that make them from several threads.
 public:
  grpc::Status CreateProcess(const std::string& name) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::CreateProcessRequest request;
    request.set_name(name);
    v1::CreateProcessResponse response;
    return stub_->CreateProcess(&context, request, &response);
  }

  grpc::Status Exit() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ExitRequest request;
    v1::ExitResponse response;
    return stub_->Exit(&context, request, &response);
  }

  // Calls `method` (a full gRPC path) with an empty message.
  grpc::Status CallGeneric(const std::string& method) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice empty_message("");  // an empty protobuf message
    grpc::ByteBuffer request(&empty_message, 1);
    grpc::ByteBuffer response;
    grpc::Status status;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status s) {
                        std::lock_guard<std::mutex> lock(mu);
                        status = std::move(s);
                        done = true;
                        cv.notify_all();
                      });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });  // the deadline above bounds this
    return status;
  }


 protected:
  // The registry as the text a scrape would serve. Metrics are recorded
  // before the status goes out, so a returned call is already counted.
  std::map<std::string, double> Scrape() {
    text_ = prometheus::TextSerializer().Serialize(registry_->Collect());
    return ParseExposition(text_);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  MinimalMemory service_;
  grpc::CallbackGenericService generic_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Memory::Stub> stub_;
  std::string text_;
};

TEST_F(RpcMetricsTest, EachCallIsCountedUnderItsMethodAndCode) {
  ASSERT_TRUE(CreateProcess("a").ok());
  ASSERT_TRUE(CreateProcess("b").ok());
  ASSERT_EQ(CreateProcess("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto s = Scrape();
  EXPECT_EQ(Value(s, "memserver_rpcs_total{code=\"OK\",method=\"CreateProcess\"}"), 2) << text_;
  EXPECT_EQ(Value(s, "memserver_rpcs_total{code=\"INVALID_ARGUMENT\",method=\"CreateProcess\"}"),
            1)
      << text_;
}

TEST_F(RpcMetricsTest, EachCallIsTimedOnceInAValidHistogram) {
  ASSERT_TRUE(CreateProcess("a").ok());
  ASSERT_TRUE(CreateProcess("b").ok());
  const auto s = Scrape();
  const std::string labels = "code=\"OK\",method=\"CreateProcess\"";
  EXPECT_EQ(Value(s, "memserver_rpc_duration_seconds_count{" + labels + "}"), 2) << text_;
  EXPECT_EQ(Value(s, "memserver_rpc_duration_seconds_bucket{" + labels + ",le=\"+Inf\"}"), 2)
      << text_;
  EXPECT_GT(Value(s, "memserver_rpc_duration_seconds_sum{" + labels + "}"), 0) << text_;
  EXPECT_LE(Value(s, "memserver_rpc_duration_seconds_bucket{" + labels + ",le=\"5e-05\"}"), 2)
      << text_;
}

TEST_F(RpcMetricsTest, UnimplementedMethodIsCountedWithItsCode) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ExitRequest request;
  v1::ExitResponse response;
  ASSERT_EQ(stub_->Exit(&context, request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(Value(Scrape(), "memserver_rpcs_total{code=\"UNIMPLEMENTED\",method=\"Exit\"}"), 1)
      << text_;
}

// Calls to methods nobody registered, under names that are hostile or many.
// Returns how many calls it made.
size_t CallUnregisteredMethods(RpcMetricsTest* test, size_t distinct) {
  const std::vector<std::string> hostile = {"/memserver.v1.Memory/Bad-Name!",
                                            "/x/" + std::string(65, 'a'), "/memserver.v1.Memory/"};
  for (const std::string& name : hostile) {
    EXPECT_EQ(test->CallGeneric(name).error_code(), grpc::StatusCode::UNIMPLEMENTED) << name;
  }
  for (size_t i = 0; i < distinct; ++i) {
    EXPECT_EQ(test->CallGeneric("/no.such.Service/M" + std::to_string(i)).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  return hostile.size() + distinct;
}

// The rpcs_total series, by their labels.
std::map<std::string, double> RpcSeries(const std::map<std::string, double>& samples) {
  std::map<std::string, double> series;
  const std::string prefix = "memserver_rpcs_total{";
  for (const auto& [key, value] : samples) {
    if (key.rfind(prefix, 0) == 0) series[key.substr(prefix.size())] = value;
  }
  return series;
}

TEST_F(RpcMetricsTest, UnregisteredMethodsShareOneSeries) {
  const size_t calls = CallUnregisteredMethods(this, 2 * kMaxUndeclaredMethods);
  ASSERT_TRUE(CreateProcess("a").ok());
  const auto series = RpcSeries(Scrape());
  ASSERT_EQ(series.size(), 2u) << text_;
  EXPECT_EQ(Value(series, "code=\"OK\",method=\"CreateProcess\"}"), 1) << text_;
  for (const auto& [labels, value] : series) {
    if (labels.find("CreateProcess") != std::string::npos) continue;
    EXPECT_EQ(labels.rfind("code=\"UNIMPLEMENTED\",", 0), 0u) << labels;
    EXPECT_EQ(value, double(calls)) << labels;
  }
}

class RpcMetricsGenericTest : public RpcMetricsTest {
 protected:
  bool WithGenericService() const override { return true; }
};

TEST_F(RpcMetricsGenericTest, HostileMethodNamesAreOtherAndTheLabelSetIsBounded) {
  const size_t extra = 10;
  const size_t calls = CallUnregisteredMethods(this, kMaxUndeclaredMethods + extra);
  // A declared method arriving after all that still gets its own name.
  ASSERT_TRUE(CreateProcess("a").ok());
  const auto series = RpcSeries(Scrape());
  for (const auto& [labels, value] : series) {
    EXPECT_EQ(labels.find("Bad-Name"), std::string::npos) << labels;
    EXPECT_EQ(labels.find("aaaa"), std::string::npos) << labels;
  }
  // The first kMaxUndeclaredMethods names keep theirs; the 3 hostile calls
  // and the rest are "other"; plus CreateProcess.
  EXPECT_EQ(series.size(), kMaxUndeclaredMethods + 2) << text_;
  EXPECT_EQ(Value(series, "code=\"UNIMPLEMENTED\",method=\"M0\"}"), 1) << text_;
  EXPECT_EQ(Value(series, "code=\"UNIMPLEMENTED\",method=\"other\"}"),
            double(calls - kMaxUndeclaredMethods))
      << text_;
  EXPECT_EQ(Value(series, "code=\"OK\",method=\"CreateProcess\"}"), 1) << text_;
}

// From kThreads threads at once, so that the first calls of each series
// race: per thread, a declared method 3 times OK and 2 times
// INVALID_ARGUMENT, another declared one once UNIMPLEMENTED, an undeclared
// one twice UNIMPLEMENTED. Returns the rpcs_total series that must result.
std::map<std::string, double> CallMixConcurrently(RpcMetricsTest* test) {
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([test] {
      for (int i = 0; i < 3; ++i) EXPECT_TRUE(test->CreateProcess("a").ok());
      for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(test->CreateProcess("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      }
      EXPECT_EQ(test->Exit().error_code(), grpc::StatusCode::UNIMPLEMENTED);
      for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(test->CallGeneric("/no.such.Service/Extra").error_code(),
                  grpc::StatusCode::UNIMPLEMENTED);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return {{"code=\"OK\",method=\"CreateProcess\"}", 3 * kThreads},
          {"code=\"INVALID_ARGUMENT\",method=\"CreateProcess\"}", 2 * kThreads},
          {"code=\"UNIMPLEMENTED\",method=\"Exit\"}", kThreads},
          {"code=\"UNIMPLEMENTED\",method=\"Extra\"}", 2 * kThreads}};
}

// Both families hold exactly `expected` (rpcs_total series -> calls).
void ExpectExactlySeries(const std::map<std::string, double>& samples,
                         const std::map<std::string, double>& expected, const std::string& text) {
  EXPECT_EQ(RpcSeries(samples), expected) << text;
  for (const auto& [labels, calls] : expected) {
    EXPECT_EQ(Value(samples, "memserver_rpc_duration_seconds_count{" + labels), calls) << text;
  }
}

TEST_F(RpcMetricsGenericTest, EachMethodAndCodePairIsCountedOncePerCallInItsOwnSeries) {
  const std::map<std::string, double> expected = CallMixConcurrently(this);
  ExpectExactlySeries(Scrape(), expected, text_);
}

// A factory that prepared no service resolves every method on its slow path.
class RpcMetricsUnpreparedTest : public RpcMetricsGenericTest {
 protected:
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeFactory() override {
    return NewRpcMetricsInterceptorFactory(registry_, {});
  }
};

TEST_F(RpcMetricsUnpreparedTest, UnpreparedServicesGetTheSameSeries) {
  const std::map<std::string, double> expected = CallMixConcurrently(this);
  ExpectExactlySeries(Scrape(), expected, text_);
}

}  // namespace
}  // namespace memserver::metrics
