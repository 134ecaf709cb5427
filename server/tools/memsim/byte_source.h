// ByteSource: reads a file's bytes, decompressing it on the fly.
//
// OpenByteSource picks the decoder from the file name: "*.zst" is Zstandard
// (libzstd streaming API), "*.gz" is gzip (zlib), anything else is read as is.
// Errors are Status values: NotFound/PermissionDenied when the file cannot be
// opened, DataLoss when the compressed stream is corrupt or truncated.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/common/status.h"

namespace memserver::memsim {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; *got = 0 means end of data.
  virtual Status Read(char* buf, size_t n, size_t* got) = 0;
};

Status OpenByteSource(const std::string& path, std::unique_ptr<ByteSource>* source);

}  // namespace memserver::memsim
