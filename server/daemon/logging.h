// memserverd's logs: spdlog on stderr, one line per event, each with a
// timestamp and a level.
//
//   text: 2026-11-25T10:09:29.123+00:00 [info] memserverd listening on ... key=value
//   json: {"ts":"2026-11-25T10:09:29.123Z","level":"info","msg":"...","key":"value"}
//
// In JSON every line is one object: the message and every field value are
// escaped (a message may carry text from the network, e.g. a process name),
// so a line never breaks the object. Timestamps are UTC with milliseconds.
// Logs written through plain spdlog::info(...) get ts, level and msg; events
// with structured fields go through LogEvent.
#pragma once

#include <spdlog/common.h>

#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace memserver::daemon {

enum class LogFormat { kText, kJson };

// "text" or "json"; InvalidArgument otherwise.
Status ParseLogFormat(std::string_view name, LogFormat* format);

// Makes the default spdlog logger write `format` lines to stderr at `level`
// and above. Call once, before other threads log.
void SetUpLogging(LogFormat format, spdlog::level::level_enum level);

// One field of an event. `value` is a string, or with `raw_json` already a
// JSON value (an object, say) that JSON lines embed as it is and text lines
// show as it is.
struct LogField {
  std::string key;
  std::string value;
  bool raw_json = false;
};

// Logs `msg` with `fields`: as "msg key=value ..." in text (a value that is
// empty or has a space, '"', '=' or a control character is written as a
// JSON string, so a hostile value cannot start a line of its own), as
// members of the line's object in JSON.
void LogEvent(spdlog::level::level_enum level, std::string_view msg,
              const std::vector<LogField>& fields);

// `text` as a JSON string literal, quotes included. Bytes that are not
// valid UTF-8 are replaced by U+FFFD so the line stays valid JSON.
std::string JsonQuote(std::string_view text);

}  // namespace memserver::daemon
