// Trace reading for memsim: block-access traces in the formats of
// /work/shared/traces/README.md, plain or compressed (see byte_source.h).
//
//   - ARC ".lis": each line "start_block block_count ignored request_id"
//     stands for block_count consecutive accesses start_block,
//     start_block+1, ...; fields after the second are ignored.
//   - LIRS: one block number per line; a line holding "*" is a marker and is
//     skipped, as are blank lines.
//
// Block numbers are renamed to dense ids 0, 1, 2, ... in order of first
// appearance, so simulators can index arrays by key. A malformed line is an
// InvalidArgument naming the file and line number; a trace over kMaxAccesses
// accesses is ResourceExhausted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace memserver::memsim {

enum class TraceFormat { kArc, kLirs };

struct Trace {
  std::vector<uint32_t> keys;  // one dense id per access, in order
  uint32_t distinct = 0;       // number of distinct ids (ids are < distinct)
};

inline constexpr uint64_t kMaxAccesses = uint64_t{1} << 31;

// "arc" or "lirs"; InvalidArgument otherwise.
Status ParseTraceFormat(std::string_view name, TraceFormat* format);
const char* TraceFormatName(TraceFormat format);

// ARC when the name, without a ".zst"/".gz" suffix, ends in ".lis"; else LIRS.
TraceFormat GuessTraceFormat(const std::string& path);

Status ReadTrace(const std::string& path, TraceFormat format, Trace* trace);

}  // namespace memserver::memsim
