// Authenticator: who is calling. Every Memory call carries
// `authorization: Bearer TOKEN` metadata (what gRPC's access-token call
// credentials send); the token's SHA-256 names a tenant of the current
// TenantTable (server/service/tenants.h). The health service is exempt
// (it never asks).
//
//   no table (memserverd without --tenants)  every call is the admin of
//                                            owner "" (the no-tenant world)
//   no authorization metadata, or not Bearer UNAUTHENTICATED, saying what to send
//   a token no tenant has (or a removed one) UNAUTHENTICATED
//   an admin's `memserver-as-tenant: NAME`   acts in NAME's namespace (its files,
//                                            new processes owned by NAME);
//                                            NAME unknown: UNAUTHENTICATED;
//                                            sent by a non-admin: PERMISSION_DENIED
//
// The messages never echo a token. SetTenants swaps the table atomically:
// a call authenticated before the swap finishes under the old table, every
// later one uses the new (a removed tenant's calls fail from then on).
//
// Thread-safety: everything is thread-safe; Authenticate takes no lock.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "server/common/status.h"
#include "server/service/tenants.h"

namespace grpc {
class ServerContextBase;
}

namespace memserver::service {

inline constexpr char kAuthorizationHeader[] = "authorization";
inline constexpr char kAsTenantHeader[] = "memserver-as-tenant";

// The authenticated caller of one call.
struct Caller {
  // The tenant's name; "" without tenants.
  std::string tenant;
  // Sees and manages every owner's processes and files.
  bool admin = false;
  // The namespace of its file calls and the owner of the processes it
  // creates: `tenant`, or the tenant an admin acts as.
  std::string ns;
  // Its entry of the table it was authenticated with (null without tenants;
  // `table` keeps it alive for the call).
  const TenantSpec* spec = nullptr;
  std::shared_ptr<const TenantTable> table;

  // May this caller see and act on something owned by `owner`?
  bool MayUse(const std::string& owner) const { return admin || owner == tenant; }
};

class Authenticator {
 public:
  Authenticator() = default;
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // null: no authentication (the no-tenant world).
  void SetTenants(std::shared_ptr<const TenantTable> table) { table_.store(std::move(table)); }
  std::shared_ptr<const TenantTable> tenants() const { return table_.load(); }

  Status Authenticate(const grpc::ServerContextBase& context, Caller* caller) const;
  // Is `caller` (authenticated earlier, e.g. at a stream's start) still a
  // tenant of the current table with the same token? OK, or UNAUTHENTICATED.
  Status Recheck(const Caller& caller) const;

 private:
  std::atomic<std::shared_ptr<const TenantTable>> table_;
};

}  // namespace memserver::service
