// The AccessStream session against a real server: requests answered in
// order with their tags, refused batches answered without ending the
// stream, and the ways a stream ends (half-close, cancellation, server
// shutdown) without leaving a handler running.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "server/service/access_batch.h"
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using Stream = grpc::ClientReaderWriter<v1::AccessRequest, v1::AccessResponse>;

v1::AccessRequest Request(uint64_t pid, uint64_t tag) {
  v1::AccessRequest request;
  request.set_pid(pid);
  request.set_tag(tag);
  return request;
}

void AddRead(v1::AccessRequest* request, uint64_t addr, uint64_t length) {
  v1::AccessOp* op = request->add_ops();
  op->set_kind(v1::AccessOp::READ);
  op->set_addr(addr);
  op->set_length(length);
}

void AddWrite(v1::AccessRequest* request, uint64_t addr, const std::string& data) {
  v1::AccessOp* op = request->add_ops();
  op->set_kind(v1::AccessOp::WRITE);
  op->set_addr(addr);
  op->set_data(data);
}

class AccessStreamTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    pid_ = CreateProcess("stream");
    base_ = MapPages(pid_, 4);
  }

  // Opens a stream whose context lives in context_ (deadline: a minute, so
  // that only what a test does ends it).
  std::unique_ptr<Stream> Open() {
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(1));
    return stub_->AccessStream(context_.get());
  }

  // One request, one answer.
  v1::AccessResponse RoundTrip(Stream& stream, const v1::AccessRequest& request) {
    v1::AccessResponse response;
    EXPECT_TRUE(stream.Write(request));
    EXPECT_TRUE(stream.Read(&response));
    return response;
  }

  uint64_t pid_ = 0;
  uint64_t base_ = 0;
  std::unique_ptr<grpc::ClientContext> context_;
};

TEST_F(AccessStreamTest, ManyBatchesAreAnsweredInOrderWithTheirTags) {
  constexpr int kBatches = 200;
  std::unique_ptr<Stream> stream = Open();
  // Pipelined: every request is sent before any answer is read.
  for (int i = 0; i < kBatches; ++i) {
    v1::AccessRequest request = Request(pid_, 1000 + i);
    const uint64_t addr = base_ + static_cast<uint64_t>(i) * 8;
    AddWrite(&request, addr, std::to_string(i));
    AddRead(&request, base_, 8 * kBatches);  // sees every earlier batch's write
    ASSERT_TRUE(stream->Write(request)) << i;
  }
  for (int i = 0; i < kBatches; ++i) {
    v1::AccessResponse response;
    ASSERT_TRUE(stream->Read(&response)) << i;
    EXPECT_EQ(response.tag(), 1000u + i);
    ASSERT_EQ(response.results_size(), 2);
    const std::string& memory = response.results(1).data();
    ASSERT_EQ(memory.size(), 8u * kBatches);
    for (int j = 0; j <= i; ++j) {
      EXPECT_EQ(memory.substr(static_cast<size_t>(j) * 8, std::to_string(j).size()),
                std::to_string(j))
          << "batch " << i << " does not see batch " << j;
    }
    if (i + 1 < kBatches) {
      EXPECT_EQ(memory[static_cast<size_t>(i + 1) * 8], '\0') << "batch " << i << " sees later";
    }
  }
  ASSERT_TRUE(stream->WritesDone());
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(AccessStreamTest, RefusedBatchesAreAnsweredAndTheStreamGoesOn) {
  std::unique_ptr<Stream> stream = Open();

  v1::AccessRequest too_many = Request(pid_, 1);
  for (size_t i = 0; i <= kMaxAccessOps; ++i) AddRead(&too_many, base_, 8);
  v1::AccessResponse response = RoundTrip(*stream, too_many);
  EXPECT_EQ(response.tag(), 1u);
  EXPECT_EQ(response.status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.results_size(), 0);

  v1::AccessRequest too_big = Request(pid_, 2);
  AddRead(&too_big, base_, kMaxIo + 1);
  response = RoundTrip(*stream, too_big);
  EXPECT_EQ(response.tag(), 2u);
  EXPECT_EQ(response.status().code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::ErrorDetail detail;
  ASSERT_EQ(response.status().details_size(), 1);
  ASSERT_TRUE(response.status().details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.errno_name(), "E2BIG");

  v1::AccessRequest no_such_pid = Request(pid_ + 1000, 3);
  AddWrite(&no_such_pid, base_, "x");
  response = RoundTrip(*stream, no_such_pid);
  EXPECT_EQ(response.tag(), 3u);
  EXPECT_EQ(response.status().code(), grpc::StatusCode::NOT_FOUND);

  v1::AccessRequest good = Request(pid_, 4);
  AddWrite(&good, base_, "ok");
  AddRead(&good, base_, 2);
  AddRead(&good, base_ + 4 * kPage, 1);  // a fault is an op's result, not the batch's
  response = RoundTrip(*stream, good);
  EXPECT_EQ(response.tag(), 4u);
  EXPECT_FALSE(response.has_status());
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(1).data(), "ok");
  EXPECT_EQ(response.results(2).status().code(), grpc::StatusCode::FAILED_PRECONDITION);

  ASSERT_TRUE(stream->WritesDone());
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(AccessStreamTest, HalfCloseWithoutRequestsEndsTheStreamOk) {
  std::unique_ptr<Stream> stream = Open();
  ASSERT_TRUE(stream->WritesDone());
  v1::AccessResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(AccessStreamTest, CancelledStreamEndsItsHandler) {
  std::unique_ptr<Stream> stream = Open();
  v1::AccessRequest request = Request(pid_, 9);
  AddRead(&request, base_, 8);
  RoundTrip(*stream, request);  // the handler is running, blocked in its next Read
  context_->TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server is still serving other calls...
  EXPECT_TRUE(Read(pid_, base_, 8).ok());
  // ...and its handler has returned: a shutdown that waits an hour for
  // handlers to finish completes (it would hang here otherwise).
  Status s = server_->Shutdown(std::chrono::hours(1));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(AccessStreamTest, ShutdownWithAnOpenStreamCompletesAndEndsTheStream) {
  std::unique_ptr<Stream> stream = Open();
  v1::AccessRequest request = Request(pid_, 1);
  AddWrite(&request, base_, "kept");
  RoundTrip(*stream, request);  // the stream is open and idle on the server

  // The grace period is an hour: the open stream must be cancelled by the
  // shutdown itself, or this call would hang (the stream's own deadline, a
  // minute, is not what ends it either).
  Status s = server_->Shutdown(std::chrono::hours(1));
  EXPECT_TRUE(s.ok()) << s.ToString();

  v1::AccessResponse response;
  request.set_tag(2);
  stream->Write(request);  // may or may not be accepted locally
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status end = stream->Finish();
  EXPECT_FALSE(end.ok());
  EXPECT_NE(end.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << Describe(end);

  // The write before the shutdown was checkpointed: a new server on the same
  // data directory reads it back.
  server_.reset();
  ASSERT_TRUE(Server::Start(TestServerOptions(dir_.path()), &server_).ok());
  channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  stub_ = v1::Memory::NewStub(channel_);
  std::string data;
  ASSERT_TRUE(Read(pid_, base_, 4, &data).ok());
  EXPECT_EQ(data, "kept");
}

}  // namespace
}  // namespace memserver::service
