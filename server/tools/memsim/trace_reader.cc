#include "server/tools/memsim/trace_reader.h"

#include <charconv>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "server/tools/memsim/byte_source.h"

namespace memserver::memsim {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits off the next whitespace-separated field of *rest.
std::string_view NextField(std::string_view* rest) {
  *rest = Trim(*rest);
  size_t end = 0;
  while (end < rest->size() && (*rest)[end] != ' ' && (*rest)[end] != '\t') ++end;
  std::string_view field = rest->substr(0, end);
  rest->remove_prefix(end);
  return field;
}

bool ParseU64(std::string_view field, uint64_t* value) {
  if (field.empty()) return false;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), *value);
  return ec == std::errc() && ptr == field.data() + field.size();
}

// Accumulates accesses, renaming blocks to dense ids.
class TraceBuilder {
 public:
  explicit TraceBuilder(Trace* trace) : trace_(trace) {
    trace_->keys.clear();
    trace_->distinct = 0;
  }

  uint64_t size() const { return trace_->keys.size(); }

  // REQUIRES: size() < kMaxAccesses.
  void Add(uint64_t block) {
    auto [it, inserted] = ids_.try_emplace(block, trace_->distinct);
    if (inserted) ++trace_->distinct;
    trace_->keys.push_back(it->second);
  }

 private:
  Trace* trace_;
  std::unordered_map<uint64_t, uint32_t> ids_;
};

class LineParser {
 public:
  LineParser(const std::string& path, TraceFormat format, Trace* trace)
      : path_(path), format_(format), builder_(trace) {}

  Status Line(std::string_view line, uint64_t line_no) {
    line = Trim(line);
    if (line.empty()) return Status::OK();
    if (format_ == TraceFormat::kLirs) {
      if (line == "*") return Status::OK();
      uint64_t block;
      if (!ParseU64(line, &block)) return Bad(line_no, "expected one block number");
      return Add(block, 1, line_no);
    }
    std::string_view rest = line;
    uint64_t start, count;
    if (!ParseU64(NextField(&rest), &start) || !ParseU64(NextField(&rest), &count)) {
      return Bad(line_no, "expected 'start_block block_count ...'");
    }
    if (count > UINT64_MAX - start) return Bad(line_no, "block range overflows");
    return Add(start, count, line_no);
  }

 private:
  Status Add(uint64_t start, uint64_t count, uint64_t line_no) {
    if (count > kMaxAccesses - builder_.size()) {  // checked before expanding
      return Status::ResourceExhausted(
          fmt::format("trace '{}' line {}: more than {} accesses", path_, line_no, kMaxAccesses));
    }
    for (uint64_t i = 0; i < count; ++i) builder_.Add(start + i);
    return Status::OK();
  }

  Status Bad(uint64_t line_no, const char* what) const {
    return Status::InvalidArgument(fmt::format("trace '{}' line {} ({} format): {}", path_,
                                               line_no, TraceFormatName(format_), what));
  }

  const std::string& path_;
  TraceFormat format_;
  TraceBuilder builder_;
};

}  // namespace

Status ParseTraceFormat(std::string_view name, TraceFormat* format) {
  if (name == "arc") {
    *format = TraceFormat::kArc;
  } else if (name == "lirs") {
    *format = TraceFormat::kLirs;
  } else {
    return Status::InvalidArgument(fmt::format("unknown trace format '{}'; valid: arc, lirs", name));
  }
  return Status::OK();
}

const char* TraceFormatName(TraceFormat format) {
  return format == TraceFormat::kArc ? "arc" : "lirs";
}

TraceFormat GuessTraceFormat(const std::string& path) {
  std::string_view name = path;
  if (EndsWith(name, ".zst")) name.remove_suffix(4);
  else if (EndsWith(name, ".gz")) name.remove_suffix(3);
  return EndsWith(name, ".lis") ? TraceFormat::kArc : TraceFormat::kLirs;
}

Status ReadTrace(const std::string& path, TraceFormat format, Trace* trace) {
  std::unique_ptr<ByteSource> source;
  Status s = OpenByteSource(path, &source);
  if (!s.ok()) return s;
  LineParser parser(path, format, trace);
  std::vector<char> buf(1 << 16);
  std::string partial;  // the unfinished last line of the previous chunk
  uint64_t line_no = 0;
  for (;;) {
    size_t got = 0;
    s = source->Read(buf.data(), buf.size(), &got);
    if (!s.ok()) return s;
    if (got == 0) break;
    std::string_view chunk(buf.data(), got);
    size_t nl;
    while ((nl = chunk.find('\n')) != std::string_view::npos) {
      std::string_view line = chunk.substr(0, nl);
      chunk.remove_prefix(nl + 1);
      if (!partial.empty()) {
        partial.append(line);
        line = partial;
      }
      s = parser.Line(line, ++line_no);
      if (!s.ok()) return s;
      partial.clear();
    }
    if (partial.size() + chunk.size() > (1 << 20)) {
      return Status::InvalidArgument(
          fmt::format("trace '{}' line {}: line longer than 1 MiB", path, line_no + 1));
    }
    partial.append(chunk);
  }
  if (!partial.empty()) return parser.Line(partial, ++line_no);
  return Status::OK();
}

}  // namespace memserver::memsim
