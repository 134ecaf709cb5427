// Internal to client/lib (not a public header: it includes the generated
// gRPC code). Client::Stub runs one unary RPC with the client's deadline and
// turns a non-OK status into Error; the calls of Client are split over
// client.cc, memory_calls.cc, heap_calls.cc and file_calls.cc, which all use it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "client/lib/client.h"
#include "memserver/v1/memserver.grpc.pb.h"

namespace memserver::client {

namespace v1 = memserver::v1;

struct Client::Stub {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Memory::Stub> stub;
  std::chrono::milliseconds deadline;

  // Runs one unary RPC `method` with a deadline `deadline` from now; throws
  // Error on a non-OK status.
  template <class Request, class Response>
  void Call(grpc::Status (v1::Memory::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
            const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    grpc::Status status = (stub.get()->*method)(&context, request, response);
    if (!status.ok()) throw Error::FromStatus(status);
  }
};

// The Error for an answer that breaks the API's contract (code INTERNAL).
inline Error MalformedAnswer(const std::string& what) {
  return Error(grpc::StatusCode::INTERNAL, "malformed answer from the server: " + what);
}

}  // namespace memserver::client
