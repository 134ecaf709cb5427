// Conversion of RocksDB statuses into the engine's Status.
//
// The code is chosen by what the caller should do next (backing_store.h).
// Messages reach clients, so they name the operation and the kind of failure
// but never RocksDB's own text, which carries the server's file paths
// ("While appending to file: /data/000174.sst: ..."); that text is logged
// for the operator instead (spdlog, rate-limited).
#pragma once

#include <string_view>

#include <rocksdb/status.h>

#include "server/common/status.h"

namespace memserver::storage {

Status FromRocks(const rocksdb::Status& s, std::string_view what);

// The status of a write refused because the disk is (nearly) full.
Status NoSpace(std::string_view what);

}  // namespace memserver::storage
