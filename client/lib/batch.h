// Batch: reads and writes of one process sent together, in one Access call
// (Client::Access) or on a session (AccessSession::Call), like readv/writev.
//
//   memserver::client::Batch batch;
//   batch.Write(a, "hello");
//   size_t r = batch.Read(a, 5);
//   std::vector<OpResult> results = client.Access(pid, batch);
//   results[r].data;  // "hello": ops run in order, a read sees earlier writes
//
// The server runs the ops in order, each with its own result; a failing op
// (a fault, say) does not stop the ops after it and, as the unary call, reads
// or changes nothing itself. The batch is not atomic with respect to other
// clients. A batch as a whole is refused (the call throws Error, no op runs)
// when it holds more than kMaxBatchOps ops (INVALID_ARGUMENT [EINVAL]), when
// its read lengths plus write sizes exceed the server's max I/O size
// (RESOURCE_EXHAUSTED [E2BIG]), or when the pid is unknown (NOT_FOUND [ESRCH]).
// An empty batch is valid and yields no results.
//
// A Batch is a plain value (copyable, movable); it is not tied to a server
// and may be sent any number of times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/lib/error.h"

namespace memserver::client {

// The server's limit on ops per batch (AccessRequest).
inline constexpr size_t kMaxBatchOps = 4096;

struct BatchOp {
  bool write = false;
  uint64_t addr = 0;
  uint64_t length = 0;  // read: bytes to read; write: data.size()
  std::string data;     // write: bytes to write
};

class Batch {
 public:
  // Appends a read of `length` bytes at `addr` (length 0 fails that op with
  // INVALID_ARGUMENT); returns the op's index in the results.
  size_t Read(uint64_t addr, uint64_t length);
  // Appends a write of `data` at `addr`; returns the op's index.
  size_t Write(uint64_t addr, std::string_view data);

  const std::vector<BatchOp>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  // Read lengths plus write sizes (saturating): what the server's max I/O
  // size bounds.
  uint64_t bytes() const { return bytes_; }
  void Clear();

 private:
  std::vector<BatchOp> ops_;
  uint64_t bytes_ = 0;
};

// The outcome of one op of a batch.
struct OpResult {
  // Set when the op failed: the Error the unary Read/Write would have thrown
  // (code, message, errno name, fault kind and address).
  std::optional<Error> error;
  // A successful read: exactly the bytes asked for. Empty otherwise.
  std::string data;

  bool ok() const { return !error.has_value(); }
};

}  // namespace memserver::client
