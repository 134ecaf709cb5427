#include "client/memload/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

#include "client/memload/trace_input.h"

namespace memserver::memload {

namespace {

constexpr size_t kReadChunk = 1 << 20;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Splits `line` at whitespace into at most fields.size() fields; returns the
// number of fields found (which may exceed fields.size(): the rest are not
// stored).
size_t SplitFields(std::string_view line, std::array<std::string_view, 2>* fields) {
  size_t found = 0;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (found < fields->size()) (*fields)[found] = line.substr(start, i - start);
    ++found;
  }
  return found;
}

bool ParseUint(std::string_view text, uint64_t* value) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value, 10);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

Status ParseTraceFormat(std::string_view name, TraceFormat* format) {
  if (name == "arc") {
    *format = TraceFormat::kArc;
  } else if (name == "lirs") {
    *format = TraceFormat::kLirs;
  } else {
    return Status::InvalidArgument(fmt::format("unknown trace format '{}' (arc, lirs)", name));
  }
  return Status::OK();
}

const char* TraceFormatName(TraceFormat format) {
  return format == TraceFormat::kArc ? "arc" : "lirs";
}

TraceFormat GuessTraceFormat(const std::string& path) {
  std::string_view name = path;
  for (std::string_view suffix : {".zst", ".gz"}) {
    if (name.ends_with(suffix)) {
      name.remove_suffix(suffix.size());
      break;
    }
  }
  return name.ends_with(".lis") ? TraceFormat::kArc : TraceFormat::kLirs;
}

TraceParser::TraceParser(TraceFormat format, std::string source_name, uint64_t max_accesses)
    : format_(format), source_name_(std::move(source_name)), max_accesses_(max_accesses) {}

Status TraceParser::ParseLine(std::string_view line) {
  ++line_number_;
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("{}:{}: {} (in '{}', {} format)", source_name_,
                                               line_number_, why, line.substr(0, 80),
                                               TraceFormatName(format_)));
  };
  std::array<std::string_view, 2> fields;
  const size_t found = SplitFields(line, &fields);
  if (found == 0) return Status::OK();

  uint64_t start = 0;
  uint64_t count = 1;
  if (format_ == TraceFormat::kLirs) {
    if (found == 1 && fields[0] == "*") return Status::OK();
    if (found != 1) return invalid("expected one block number per line");
    if (!ParseUint(fields[0], &start)) return invalid("the block number is not a decimal integer");
  } else {
    if (found < 2) return invalid("expected 'start_block block_count ...'");
    if (!ParseUint(fields[0], &start)) return invalid("start_block is not a decimal integer");
    if (!ParseUint(fields[1], &count)) return invalid("block_count is not a decimal integer");
    if (count == 0) return invalid("block_count must be at least 1");
    if (start > UINT64_MAX - (count - 1)) return invalid("the block range overflows 64 bits");
  }
  if (count > max_accesses_ - trace_.blocks.size()) {
    return Status::ResourceExhausted(fmt::format(
        "{}:{}: the trace has more than {} accesses", source_name_, line_number_, max_accesses_));
  }
  for (uint64_t k = 0; k < count; ++k) trace_.blocks.push_back(start + k);
  trace_.max_block = std::max(trace_.max_block, start + (count - 1));
  return Status::OK();
}

Status TraceParser::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      // Bounded: a line longer than a trace line can reasonably be is garbage.
      if (partial_.size() + bytes.size() > 4096) {
        return Status::InvalidArgument(fmt::format("{}:{}: line longer than 4096 bytes",
                                                   source_name_, line_number_ + 1));
      }
      partial_.append(bytes);
      return Status::OK();
    }
    if (partial_.empty()) {
      MEMSERVER_RETURN_IF_ERROR(ParseLine(bytes.substr(0, newline)));
    } else {
      partial_.append(bytes.substr(0, newline));
      MEMSERVER_RETURN_IF_ERROR(ParseLine(partial_));
      partial_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
  return Status::OK();
}

Status TraceParser::Finish(BlockTrace* trace) {
  if (!partial_.empty()) {
    MEMSERVER_RETURN_IF_ERROR(ParseLine(partial_));
    partial_.clear();
  }
  *trace = std::move(trace_);
  trace_ = BlockTrace();
  return Status::OK();
}

Status ParseTraceText(std::string_view text, TraceFormat format, BlockTrace* trace) {
  TraceParser parser(format, "<text>");
  MEMSERVER_RETURN_IF_ERROR(parser.Feed(text));
  return parser.Finish(trace);
}

Status ReadTraceFile(const std::string& path, TraceFormat format, BlockTrace* trace) {
  std::unique_ptr<TraceInput> input;
  MEMSERVER_RETURN_IF_ERROR(OpenTraceInput(path, &input));
  TraceParser parser(format, path);
  std::vector<char> buf(kReadChunk);
  while (true) {
    size_t got = 0;
    MEMSERVER_RETURN_IF_ERROR(input->Read(buf.data(), buf.size(), &got));
    if (got == 0) break;
    MEMSERVER_RETURN_IF_ERROR(parser.Feed(std::string_view(buf.data(), got)));
  }
  return parser.Finish(trace);
}

std::vector<uint64_t> DistinctBlocks(const BlockTrace& trace) {
  std::vector<uint64_t> blocks = trace.blocks;
  std::sort(blocks.begin(), blocks.end());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  return blocks;
}

}  // namespace memserver::memload
