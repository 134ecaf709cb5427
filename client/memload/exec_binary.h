// StagedBinary: the local executable an exec storm runs, placed in the
// server's file store so that every process execs the same file and shares
// its text frames through the file's page cache.
//
// Where and for how long: the file is /memload/<basename of the local path>.
//   - Missing there: uploaded (WriteFile calls of 1 MiB), and deleted again
//     by Remove() or the destructor: the run leaves the store as it found it.
//   - Present with exactly the local bytes (an earlier or concurrent run, or
//     a file put there on purpose): used as is and kept.
//   - Present with other bytes: FAILED_PRECONDITION naming the path; memload
//     never overwrites or deletes a file it did not create.
// (Two runs staging the same binary at once: the one that created the file
// deletes it at its end, and the other's Exec calls then fail NOT_FOUND.)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "memserver/v1/memserver.grpc.pb.h"
#include "server/common/status.h"

namespace memserver::memload {

// Largest local executable staged.
inline constexpr uint64_t kMaxExecBinaryBytes = uint64_t{256} << 20;

class StagedBinary {
 public:
  // Reads `local_path` and stages it as described above. InvalidArgument for
  // an empty, unreadable or oversized local file; the server's status for a
  // failed call. `stub` is borrowed and must outlive the object; `timeout` is
  // the deadline of each call.
  static Status Stage(v1::Memory::StubInterface& stub, const std::string& local_path,
                      std::chrono::milliseconds timeout, std::unique_ptr<StagedBinary>* staged);
  ~StagedBinary();  // Remove(), errors ignored
  StagedBinary(const StagedBinary&) = delete;
  StagedBinary& operator=(const StagedBinary&) = delete;

  // The path in the server's file store.
  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }
  // Whether this run uploaded the file (and so deletes it).
  bool uploaded() const { return uploaded_; }

  // The file's pages in the server's page cache now (StatFile).
  Status CachedPages(uint64_t* pages);
  // Deletes the file if this run uploaded it; once. Call it after every
  // process that exec'ed the file is gone.
  Status Remove();

 private:
  StagedBinary(v1::Memory::StubInterface& stub, std::chrono::milliseconds timeout)
      : stub_(stub), timeout_(timeout) {}
  std::unique_ptr<grpc::ClientContext> Context() const;
  // Whether the server's file holds exactly `content` (ReadFile in chunks).
  Status SameContent(const std::string& content, uint64_t size, bool* same);
  Status Upload(const std::string& content);

  v1::Memory::StubInterface& stub_;
  const std::chrono::milliseconds timeout_;
  std::string path_;
  uint64_t bytes_ = 0;
  bool uploaded_ = false;
};

}  // namespace memserver::memload
