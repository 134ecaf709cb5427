// The tenants file (memserverd --tenants FILE): TOML, one table per tenant.
//
//   [tenants.alice]
//   token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//   max_processes = 64          # live processes                  (EAGAIN past it)
//   max_files = "1GiB"          # bytes of file content           (EDQUOT)
//   max_file_count = 10000      # files                           (EDQUOT)
//   max_locked = "64MiB"        # bytes of mlocked mappings       (ENOMEM)
//   max_resident = "512MiB"     # bytes of frames its faults hold (own pages reclaimed first)
//   max_swap = "2GiB"           # bytes of its pages in swap      (EDQUOT when nothing can go)
//   max_streams = 16            # AccessStreams open at once      (EAGAIN)
//   max_calls = 256             # unary calls in flight at once   (EAGAIN)
//
//   [tenants.ops]
//   token_sha256 = "..."
//   admin = true                # sees and manages every tenant's processes and files
//
// token_sha256 is the hex SHA-256 of the bearer token (`printf %s "$TOKEN" |
// sha256sum`): the file holds no token. Sizes are a number of bytes or a
// string with a unit ("64MiB"); a quota left out is unlimited. An unknown
// key, a duplicate token, a bad name or value is an error naming the tenant
// and the key (the server refuses to start, or a reload keeps the old table).
#pragma once

#include <memory>
#include <string>

#include "server/common/status.h"
#include "server/service/tenants.h"

namespace memserver::daemon {

// Parses the text of a tenants file (`origin` names it in errors).
Status ParseTenants(const std::string& text, const std::string& origin,
                    std::shared_ptr<const service::TenantTable>* table);
// Reads and parses the file at `path`.
Status LoadTenantsFile(const std::string& path, std::shared_ptr<const service::TenantTable>* table);

}  // namespace memserver::daemon
