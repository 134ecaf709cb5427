// Batch, its wire form (batch_wire.h), and Client::Access.
#include "client/lib/batch.h"

#include <grpcpp/support/status.h>

#include <string>
#include <utility>

#include "client/lib/batch_wire.h"
#include "client/lib/client.h"
#include "client/lib/client_stub.h"

namespace memserver::client {

namespace {

uint64_t SaturatingAdd(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

}  // namespace

size_t Batch::Read(uint64_t addr, uint64_t length) {
  ops_.push_back(BatchOp{false, addr, length, {}});
  bytes_ = SaturatingAdd(bytes_, length);
  return ops_.size() - 1;
}

size_t Batch::Write(uint64_t addr, std::string_view data) {
  ops_.push_back(BatchOp{true, addr, data.size(), std::string(data)});
  bytes_ = SaturatingAdd(bytes_, data.size());
  return ops_.size() - 1;
}

void Batch::Clear() {
  ops_.clear();
  bytes_ = 0;
}

void BatchToProto(uint64_t pid, const Batch& batch, uint64_t tag, v1::AccessRequest* request) {
  request->Clear();
  request->set_pid(pid);
  request->set_tag(tag);
  request->mutable_ops()->Reserve(static_cast<int>(batch.size()));
  for (const BatchOp& op : batch.ops()) {
    v1::AccessOp* out = request->add_ops();
    out->set_addr(op.addr);
    if (op.write) {
      out->set_kind(v1::AccessOp::WRITE);
      out->set_data(op.data);
    } else {
      out->set_kind(v1::AccessOp::READ);
      out->set_length(op.length);
    }
  }
}

Error ErrorFromRpcStatus(const v1::RpcStatus& status) {
  // The same bytes a unary call carries in grpc-status-details-bin, so the
  // same decoding applies.
  return Error::FromStatus(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                        status.message(), status.SerializeAsString()));
}

std::vector<OpResult> ResultsFromProto(const Batch& batch, v1::AccessResponse* response) {
  if (static_cast<size_t>(response->results_size()) != batch.size()) {
    throw MalformedAnswer("Access returned " + std::to_string(response->results_size()) +
                          " results for " + std::to_string(batch.size()) + " ops");
  }
  std::vector<OpResult> results(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    v1::AccessResult& in = *response->mutable_results(static_cast<int>(i));
    const BatchOp& op = batch.ops()[i];
    if (in.has_status() && in.status().code() != 0) {
      results[i].error = ErrorFromRpcStatus(in.status());
      continue;
    }
    const uint64_t expected = op.write ? 0 : op.length;
    if (in.data().size() != expected) {
      throw MalformedAnswer("Access op " + std::to_string(i) + " returned " +
                            std::to_string(in.data().size()) + " bytes, expected " +
                            std::to_string(expected));
    }
    results[i].data = std::move(*in.mutable_data());
  }
  return results;
}

std::vector<OpResult> Client::Access(uint64_t pid, const Batch& batch) {
  v1::AccessRequest request;
  BatchToProto(pid, batch, /*tag=*/0, &request);
  v1::AccessResponse response;
  stub_->Call(&v1::Memory::Stub::Access, request, &response);
  return ResultsFromProto(batch, &response);
}

}  // namespace memserver::client
