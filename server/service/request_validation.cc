#include "server/service/request_validation.h"

#include <fmt/format.h>

#include "server/common/byte_size.h"

namespace memserver::service {

namespace {

Status OverMaxIo(uint64_t length, uint64_t max_io_bytes) {
  return Status::ResourceExhausted(
      fmt::format("read of {} bytes exceeds the server's max I/O size of {} bytes ({}); "
                  "split it into smaller calls",
                  length, max_io_bytes, FormatByteSize(max_io_bytes)),
      "E2BIG");
}

}  // namespace

Status ValidateProcessName(std::string_view name, size_t max_bytes) {
  if (name.size() > max_bytes) {
    return Status::InvalidArgument(
        fmt::format("process name is {} bytes, longer than the limit of {} bytes", name.size(),
                    max_bytes),
        "ENAMETOOLONG");
  }
  return Status::OK();
}

Status ValidateReadLength(uint64_t length, uint64_t max_io_bytes) {
  if (length == 0) return Status::InvalidArgument("read length must be > 0");
  if (length > max_io_bytes) return OverMaxIo(length, max_io_bytes);
  return Status::OK();
}

}  // namespace memserver::service
