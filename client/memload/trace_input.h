// TraceInput: a trace file's bytes, decompressed on the fly.
//
// OpenTraceInput picks the decoder from the file name: "*.zst" is Zstandard
// (libzstd streaming API), "*.gz" is gzip (zlib), anything else is read as
// is. Errors are Status values: NotFound / PermissionDenied when the file
// cannot be opened, DataLoss when the compressed stream is corrupt or ends
// in the middle of a frame, Unavailable for a read error.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/common/status.h"

namespace memserver::memload {

class TraceInput {
 public:
  virtual ~TraceInput() = default;
  // Reads up to `n` (> 0) bytes into `buf`; *got == 0 means the end.
  virtual Status Read(char* buf, size_t n, size_t* got) = 0;
};

Status OpenTraceInput(const std::string& path, std::unique_ptr<TraceInput>* input);

}  // namespace memserver::memload
