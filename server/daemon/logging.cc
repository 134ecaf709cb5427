#include "server/daemon/logging.h"

#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

namespace memserver::daemon {

namespace {

// The fields of the event being logged on this thread (LogEvent sets it
// around one synchronous spdlog call; the formatter runs in that call).
thread_local const std::vector<LogField>* t_fields = nullptr;

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  uint32_t min = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  uint32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

void AppendJsonQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(text, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out->append(fmt::format("\\u{:04x}", c));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

std::string IsoUtc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"ts\":\"" + IsoUtc(msg.time) + "\",\"level\":";
    AppendJsonQuoted(std::string_view(spdlog::level::to_string_view(msg.level).data(),
                                      spdlog::level::to_string_view(msg.level).size()),
                     &line);
    line.append(",\"msg\":");
    AppendJsonQuoted(std::string_view(msg.payload.data(), msg.payload.size()), &line);
    if (t_fields != nullptr) {
      for (const LogField& field : *t_fields) {
        line.push_back(',');
        AppendJsonQuoted(field.key, &line);
        line.push_back(':');
        if (field.raw_json) {
          line.append(field.value);
        } else {
          AppendJsonQuoted(field.value, &line);
        }
      }
    }
    line.append("}\n");
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

LogFormat g_format = LogFormat::kText;

}  // namespace

Status ParseLogFormat(std::string_view name, LogFormat* format) {
  if (name == "text") {
    *format = LogFormat::kText;
  } else if (name == "json") {
    *format = LogFormat::kJson;
  } else {
    return Status::InvalidArgument(fmt::format("unknown log format '{}' (text or json)", name));
  }
  return Status::OK();
}

void SetUpLogging(LogFormat format, spdlog::level::level_enum level) {
  g_format = format;
  auto logger = spdlog::stderr_color_mt("memserverd");
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  AppendJsonQuoted(text, &out);
  return out;
}

void LogEvent(spdlog::level::level_enum level, std::string_view msg,
              const std::vector<LogField>& fields) {
  if (g_format == LogFormat::kJson) {
    t_fields = &fields;
    spdlog::log(level, "{}", msg);
    t_fields = nullptr;
    return;
  }
  std::string line(msg);
  for (const LogField& field : fields) {
    const bool quote =
        !field.raw_json &&
        (field.value.empty() || std::any_of(field.value.begin(), field.value.end(), [](char c) {
           return c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20 ||
                  c == 0x7f;
         }));
    line += fmt::format(" {}={}", field.key, quote ? JsonQuote(field.value) : field.value);
  }
  spdlog::log(level, "{}", line);
}

}  // namespace memserver::daemon
