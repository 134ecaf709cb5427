// Checks on request fields that the engine cannot make, done by the service
// before it touches the engine or allocates anything: a process name's
// length (the engine takes any name) and a Read's length (the service must
// size the response buffer before the engine sees the request). Everything
// the engine validates itself (alignment, overflow, prot/flag bits, pids,
// paths, write sizes) is left to it, so each rule lives in one place.
#pragma once

#include <cstdint>
#include <string_view>

#include "server/common/status.h"

namespace memserver::service {

// A process name is at most `max_bytes` bytes.
// InvalidArgument [ENAMETOOLONG] otherwise.
Status ValidateProcessName(std::string_view name, size_t max_bytes);

// A Read moves 1..max_io_bytes bytes. 0 is InvalidArgument [EINVAL]; over
// the limit is ResourceExhausted [E2BIG] with a message naming the limit.
// Call it BEFORE allocating `length` bytes.
Status ValidateReadLength(uint64_t length, uint64_t max_io_bytes);

}  // namespace memserver::service
