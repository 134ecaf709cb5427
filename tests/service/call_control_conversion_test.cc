// CallControlFrom: what the engine's long calls see of a real gRPC call,
// its deadline and its cancellation, read by a probe service on a loopback
// server (a generic callback service: any method name reaches it).
#include "server/service/call_control_conversion.h"

#include <gtest/gtest.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

namespace memserver::service {
namespace {

using Clock = CallControl::Clock;
constexpr auto kBound = std::chrono::seconds(30);

// What the probe saw of the call, filled on the server's side.
struct Seen {
  std::mutex mu;
  bool has_deadline = false;
  Clock::duration deadline_in{};
  Status at_start;
  Status at_end;  // after waiting for the control to stop the call (cancel test)
  std::atomic<bool> started{false};
  std::atomic<bool> done{false};
};

class Probe : public grpc::CallbackGenericService {
 public:
  Probe(Seen* seen, bool wait_for_stop) : seen_(seen), wait_for_stop_(wait_for_stop) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(grpc::GenericCallbackServerContext* context, Seen* seen, bool wait) {
        const CallControl control = CallControlFrom(*context);
        {
          std::lock_guard<std::mutex> l(seen->mu);
          seen->has_deadline = control.has_deadline();
          seen->deadline_in = control.deadline() - Clock::now();
          seen->at_start = control.Check();
        }
        seen->started = true;
        if (!wait) {
          Finish(grpc::Status::OK);
          return;
        }
        // As an engine call between steps: poll until the control says stop.
        std::thread([this, context, seen] {
          const CallControl c = CallControlFrom(*context);
          const auto bound = Clock::now() + kBound;
          Status s;
          while ((s = c.Check()).ok() && Clock::now() < bound) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          {
            std::lock_guard<std::mutex> l(seen->mu);
            seen->at_end = s;
          }
          seen->done = true;
          Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stopped"));
        }).detach();
      }
      void OnDone() override { delete this; }
    };
    return new Reactor(context, seen_, wait_for_stop_);
  }

 private:
  Seen* seen_;
  bool wait_for_stop_;
};

class CallControlConversionTest : public ::testing::Test {
 protected:
  void Start(bool wait_for_stop) {
    probe_ = std::make_unique<Probe>(&seen_, wait_for_stop);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterCallbackGenericService(probe_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    stub_ = std::make_unique<grpc::GenericStub>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  // Starts a call; the future holds its final status.
  std::future<grpc::Status> Call(grpc::ClientContext* context) {
    grpc::Slice payload("probe");
    request_ = grpc::ByteBuffer(&payload, 1);
    auto done = std::make_shared<std::promise<grpc::Status>>();
    std::future<grpc::Status> f = done->get_future();
    stub_->UnaryCall(context, "/probe.Probe/Call", grpc::StubOptions(), &request_, &response_,
                     [done](grpc::Status s) { done->set_value(std::move(s)); });
    return f;
  }

  Seen seen_;
  std::unique_ptr<Probe> probe_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::GenericStub> stub_;
  grpc::ByteBuffer request_, response_;
};

TEST_F(CallControlConversionTest, ClientDeadlineBecomesTheEngineDeadline) {
  Start(/*wait_for_stop=*/false);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto result = Call(&context);
  ASSERT_EQ(result.wait_for(kBound), std::future_status::ready);
  EXPECT_TRUE(result.get().ok());
  std::lock_guard<std::mutex> l(seen_.mu);
  EXPECT_TRUE(seen_.has_deadline);
  EXPECT_GT(seen_.deadline_in, std::chrono::seconds(30));
  EXPECT_LE(seen_.deadline_in, std::chrono::seconds(61));
  EXPECT_TRUE(seen_.at_start.ok()) << seen_.at_start.ToString();
}

TEST_F(CallControlConversionTest, NoClientDeadlineIsNoEngineDeadline) {
  Start(/*wait_for_stop=*/false);
  grpc::ClientContext context;
  auto result = Call(&context);
  ASSERT_EQ(result.wait_for(kBound), std::future_status::ready);
  std::lock_guard<std::mutex> l(seen_.mu);
  EXPECT_FALSE(seen_.has_deadline);
  EXPECT_TRUE(seen_.at_start.ok()) << seen_.at_start.ToString();
}

TEST_F(CallControlConversionTest, ClientCancellationStopsTheEngineCall) {
  Start(/*wait_for_stop=*/true);
  grpc::ClientContext context;
  auto result = Call(&context);
  const auto bound = Clock::now() + kBound;
  while (!seen_.started && Clock::now() < bound) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(seen_.started) << "the call never reached the server";
  context.TryCancel();
  while (!seen_.done && Clock::now() < bound) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(seen_.done) << "the server's control never said stop";
  ASSERT_EQ(result.wait_for(kBound), std::future_status::ready);
  std::lock_guard<std::mutex> l(seen_.mu);
  EXPECT_EQ(seen_.at_end.code(), StatusCode::kCancelled) << seen_.at_end.ToString();
}

TEST_F(CallControlConversionTest, PassedDeadlineStopsTheEngineCall) {
  Start(/*wait_for_stop=*/true);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  auto result = Call(&context);
  const auto bound = Clock::now() + kBound;
  while (!seen_.done && Clock::now() < bound) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(seen_.done) << "the server's control never said stop";
  ASSERT_EQ(result.wait_for(kBound), std::future_status::ready);
  EXPECT_EQ(result.get().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  std::lock_guard<std::mutex> l(seen_.mu);
  // gRPC cancels the call at its deadline, or the engine's clock gets there
  // first: either stops the work.
  EXPECT_TRUE(seen_.at_end.code() == StatusCode::kDeadlineExceeded || seen_.at_end.code() == StatusCode::kCancelled)
      << seen_.at_end.ToString();
}

}  // namespace
}  // namespace memserver::service
