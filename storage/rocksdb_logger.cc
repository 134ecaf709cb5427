#include "storage/rocksdb_logger.h"

#include <cstdarg>
#include <cstdio>
#include <string>

#include <spdlog/spdlog.h>

namespace memserver::storage {
namespace {

spdlog::level::level_enum ToSpdlog(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::DEBUG_LEVEL: return spdlog::level::trace;
    case rocksdb::InfoLogLevel::INFO_LEVEL: return spdlog::level::debug;
    case rocksdb::InfoLogLevel::WARN_LEVEL: return spdlog::level::warn;
    case rocksdb::InfoLogLevel::ERROR_LEVEL: return spdlog::level::err;
    case rocksdb::InfoLogLevel::FATAL_LEVEL: return spdlog::level::critical;
    case rocksdb::InfoLogLevel::HEADER_LEVEL: return spdlog::level::debug;
    default: return spdlog::level::info;
  }
}

class SpdlogLogger final : public rocksdb::Logger {
 public:
  // RocksDB filters below INFO itself; finer filtering is spdlog's.
  SpdlogLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}

  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    const spdlog::level::level_enum to = ToSpdlog(level);
    if (!spdlog::should_log(to)) return;
    char small[512];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(small, sizeof(small), format, copy);
    va_end(copy);
    if (n < 0) return;  // a bad format: nothing sensible to print
    if (static_cast<size_t>(n) < sizeof(small)) {
      spdlog::log(to, "rocksdb: {}", std::string_view(small, static_cast<size_t>(n)));
      return;
    }
    std::string big(static_cast<size_t>(n) + 1, '\0');
    std::vsnprintf(big.data(), big.size(), format, ap);
    big.resize(static_cast<size_t>(n));
    spdlog::log(to, "rocksdb: {}", big);
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewSpdlogRocksDbLogger() { return std::make_shared<SpdlogLogger>(); }

}  // namespace memserver::storage
