// Block traces for replay (formats of /work/shared/traces/README.md), plain
// or compressed (see trace_input.h):
//
//   - ARC ".lis": each line "start_block block_count ignored request_id"
//     stands for block_count (>= 1) consecutive accesses start_block,
//     start_block + 1, ...; fields after the second are ignored.
//   - LIRS: one block number per line; a line holding "*" is a marker and
//     is skipped.
//
// Blank lines are skipped in both. Block numbers are kept as they are (not
// renamed), so replay preserves the trace's spatial layout: block b is the
// page at base + b * page_size. A malformed line is InvalidArgument naming
// the source and line number; more than the parser's access limit is
// ResourceExhausted (the trace is held in memory, 8 bytes per access).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace memserver::memload {

enum class TraceFormat { kArc, kLirs };

struct BlockTrace {
  std::vector<uint64_t> blocks;  // one entry per access, in trace order
  uint64_t max_block = 0;        // largest block; 0 when empty
};

// Default access limit: 2^28 accesses (2 GiB of memory).
inline constexpr uint64_t kMaxTraceAccesses = uint64_t{1} << 28;

// "arc" or "lirs"; InvalidArgument otherwise.
Status ParseTraceFormat(std::string_view name, TraceFormat* format);
const char* TraceFormatName(TraceFormat format);
// ARC when the name, without a ".zst" / ".gz" suffix, ends in ".lis"; else LIRS.
TraceFormat GuessTraceFormat(const std::string& path);

// Incremental parser: bytes may be fed in chunks that split lines anywhere.
class TraceParser {
 public:
  TraceParser(TraceFormat format, std::string source_name,
              uint64_t max_accesses = kMaxTraceAccesses);
  Status Feed(std::string_view bytes);
  // Parses a last line without a newline and moves the trace out.
  Status Finish(BlockTrace* trace);

 private:
  Status ParseLine(std::string_view line);

  const TraceFormat format_;
  const std::string source_name_;
  const uint64_t max_accesses_;
  uint64_t line_number_ = 0;
  std::string partial_;  // an unterminated line carried to the next Feed
  BlockTrace trace_;
};

Status ParseTraceText(std::string_view text, TraceFormat format, BlockTrace* trace);
Status ReadTraceFile(const std::string& path, TraceFormat format, BlockTrace* trace);

// The distinct blocks of a trace, in increasing order.
std::vector<uint64_t> DistinctBlocks(const BlockTrace& trace);

}  // namespace memserver::memload
