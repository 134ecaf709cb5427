// RocksDB's info log, sent to the server's own log (spdlog) instead of a
// LOG file in the data directory.
//
// Why: RocksDB 7.8 (Debian 12) writes its info log through a
// WritableFileWriter, and once one append to that file has failed (a full
// disk) the next log line trips an assertion in writable_file_writer.h
// ("Assertion `sync_without_flush_called_' failed") and aborts the whole
// server; Debian builds the library with assertions on. A flush job that
// logs after the disk filled was enough (seen here, backtrace through
// EnvLogger::Logv from FlushJob::WriteLevel0Table). A logger that never
// touches the disk cannot fail that way, and the operator finds RocksDB's
// words where the server's are.
//
// Levels: RocksDB DEBUG -> trace, INFO and HEADER -> debug, WARN -> warn,
// ERROR -> error, FATAL -> critical; every line starts with "rocksdb: ".
// A line the server's log level would drop is not formatted at all.
//
// Thread-safety: thread-safe (spdlog's default logger is).
#pragma once

#include <memory>

#include <rocksdb/env.h>

namespace memserver::storage {

std::shared_ptr<rocksdb::Logger> NewSpdlogRocksDbLogger();

}  // namespace memserver::storage
