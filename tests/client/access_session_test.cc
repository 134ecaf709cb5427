// AccessSession: against an in-process memserver (many batches on one
// stream, refusals that keep it open, shutdown that breaks it, close), and
// against a scripted server that misbehaves (no answer, wrong tag, wrong
// result count).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "client/lib/access_session.h"
#include "memserver/v1/memserver.grpc.pb.h"
#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using AccessSessionTest = ClientTest;

TEST_F(AccessSessionTest, RunsManyBatchesOnOneStream) {
  Process p = client().CreateProcess();
  const uint64_t a = p.Mmap(0, kPage, kRw);
  AccessSession session(client());
  for (int i = 0; i < 100; ++i) {
    Batch batch;
    batch.Write(a + static_cast<uint64_t>(i), std::string(1, static_cast<char>('A' + i % 26)));
    batch.Read(a, static_cast<uint64_t>(i) + 1);
    std::vector<OpResult> results = session.Call(p.pid(), batch);
    ASSERT_EQ(results.size(), 2u);
    ASSERT_TRUE(results[1].ok());
    ASSERT_EQ(results[1].data.size(), static_cast<size_t>(i) + 1);
    EXPECT_EQ(results[1].data.back(), static_cast<char>('A' + i % 26));
  }
  EXPECT_TRUE(session.usable());
  session.Close();
  EXPECT_FALSE(session.usable());
  session.Close();  // idempotent
}

TEST_F(AccessSessionTest, RefusedBatchThrowsAndTheSessionGoesOn) {
  Process p = client().CreateProcess();
  const uint64_t a = p.Mmap(0, kPage, kRw);
  AccessSession session(client());
  Batch big;
  big.Read(a, kMaxIo + 1);
  Error e = ErrorOf([&] { session.Call(p.pid(), big); });
  EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(e.errno_name(), "E2BIG");
  e = ErrorOf([&] { session.Call(p.pid() + 1000, Batch()); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(session.usable());

  Batch batch;
  batch.Write(a, "on");
  batch.Read(a + kPage, 1);  // a fault is a result, not a throw
  std::vector<OpResult> results = session.Call(p.pid(), batch);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok());
  ASSERT_FALSE(results[1].ok());
  EXPECT_TRUE(results[1].error->is_fault());
}

TEST_F(AccessSessionTest, ServerShutdownBreaksTheSession) {
  Process p = client().CreateProcess();
  const uint64_t pid = p.Release();  // the server goes away before the handle would exit it
  const uint64_t a = client().Mmap(pid, 0, kPage, kRw);
  AccessSession session(client());
  Batch batch;
  batch.Read(a, 8);
  ASSERT_EQ(session.Call(pid, batch).size(), 1u);

  ASSERT_TRUE(server_->Shutdown(std::chrono::milliseconds(100)).ok());
  Error e = ErrorOf([&] { session.Call(pid, batch); });
  EXPECT_TRUE(e.code() == grpc::StatusCode::UNAVAILABLE ||
              e.code() == grpc::StatusCode::CANCELLED)
      << e.what();
  EXPECT_FALSE(session.usable());
  e = ErrorOf([&] { session.Call(pid, batch); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(std::string(e.what()).find("broken"), std::string::npos) << e.what();
  session.Close();  // the failure was reported by Call: Close does not throw it again
}

TEST_F(AccessSessionTest, CallAfterCloseIsFailedPrecondition) {
  AccessSession session(client());
  session.Close();
  Error e = ErrorOf([&] { session.Call(1, Batch()); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// A Memory service whose AccessStream misbehaves in one chosen way.
class ScriptedService final : public memserver::v1::Memory::Service {
 public:
  enum class Mode { kStall, kWrongTag, kWrongResultCount };
  explicit ScriptedService(Mode mode) : mode_(mode) {}

  grpc::Status AccessStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<memserver::v1::AccessResponse, memserver::v1::AccessRequest>*
          stream) override {
    memserver::v1::AccessRequest request;
    while (stream->Read(&request)) {
      memserver::v1::AccessResponse response;
      response.set_tag(request.tag());
      for (int i = 0; i < request.ops_size(); ++i) response.add_results();
      switch (mode_) {
        case Mode::kStall: {
          // Until the client gives up (polled, bounded by the test's deadline).
          std::unique_lock<std::mutex> lock(mu_);
          while (!context->IsCancelled() && !released_) {
            cv_.wait_for(lock, std::chrono::milliseconds(10));
          }
          return grpc::Status::OK;
        }
        case Mode::kWrongTag: response.set_tag(request.tag() + 1); break;
        case Mode::kWrongResultCount: response.add_results(); break;
      }
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  const Mode mode_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

class MisbehavingServerTest : public ::testing::Test {
 protected:
  void Start(ScriptedService::Mode mode) {
    service_ = std::make_unique<ScriptedService>(mode);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ClientOptions options;
    options.deadline = std::chrono::milliseconds(200);
    client_ = std::make_unique<Client>("127.0.0.1:" + std::to_string(port), options);
  }
  void TearDown() override {
    if (service_) service_->Release();
    client_.reset();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  std::unique_ptr<ScriptedService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Client> client_;
};

Batch OneRead() {
  Batch batch;
  batch.Read(0x1000, 8);
  return batch;
}

// The Error a Call of OneRead() on pid 1 throws.
Error CallError(AccessSession& session) {
  try {
    session.Call(1, OneRead());
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected memserver::client::Error, nothing was thrown";
  return Error(grpc::StatusCode::UNKNOWN, "nothing thrown");
}

TEST_F(MisbehavingServerTest, NoAnswerWithinTheDeadlineIsDeadlineExceeded) {
  Start(ScriptedService::Mode::kStall);
  AccessSession session(*client_);
  Error e = CallError(session);
  EXPECT_EQ(e.code(), grpc::StatusCode::DEADLINE_EXCEEDED) << e.what();
  EXPECT_FALSE(session.usable());
}

TEST_F(MisbehavingServerTest, AnswerWithAnotherTagBreaksTheSession) {
  Start(ScriptedService::Mode::kWrongTag);
  AccessSession session(*client_);
  Error e = CallError(session);
  EXPECT_EQ(e.code(), grpc::StatusCode::INTERNAL) << e.what();
  EXPECT_FALSE(session.usable());
}

TEST_F(MisbehavingServerTest, WrongResultCountIsInternalAndTheSessionGoesOn) {
  Start(ScriptedService::Mode::kWrongResultCount);
  AccessSession session(*client_);
  Error e = CallError(session);
  EXPECT_EQ(e.code(), grpc::StatusCode::INTERNAL) << e.what();
  EXPECT_TRUE(session.usable());
  e = CallError(session);
  EXPECT_EQ(e.code(), grpc::StatusCode::INTERNAL) << e.what();
}

}  // namespace
}  // namespace memserver::client
