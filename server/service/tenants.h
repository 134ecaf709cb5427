// TenantTable: who may call memserverd, as the tenants file says
// (server/daemon/tenants_file.h reads it). Immutable once built; a reload
// builds a new table and swaps it in (Authenticator::SetTenants), so a call
// sees one table from its start to its end.
//
// A tenant has a name (the owner of its processes and files in the engine,
// server/engine/tenant_ledger.h), the SHA-256 of its bearer token (the
// server never holds a token), an admin flag and its quotas: the engine's
// (processes, file bytes, files, locked bytes) and the service's own
// (AccessStreams and calls in flight at once).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/engine/tenant_ledger.h"

namespace memserver::service {

using TokenDigest = std::array<uint8_t, 32>;  // SHA-256

// SHA-256 of `token`.
TokenDigest DigestToken(std::string_view token);
// Parses 64 hex digits (either case). InvalidArgument otherwise.
Status ParseTokenDigest(std::string_view hex, TokenDigest* digest);
std::string DigestHex(const TokenDigest& digest);

struct TenantSpec {
  // 1-64 bytes of [A-Za-z0-9_.-] (ValidateOwner).
  std::string name;
  TokenDigest token_sha256{};
  // Sees and manages every tenant's processes and files. Default: false.
  bool admin = false;
  // The engine's quotas. Default: unlimited.
  TenantQuota quota;
  // Most AccessStreams open at once. Default: unlimited (the server-wide
  // and per-connection bounds still apply).
  uint64_t max_streams = kUnlimited;
  // Most unary calls in flight at once. Default: unlimited (likewise).
  uint64_t max_calls = kUnlimited;
};

class TenantTable {
 public:
  // Checks names (ValidateOwner, non-empty, unique) and digests (unique).
  static Status Build(std::vector<TenantSpec> tenants, std::shared_ptr<const TenantTable>* table);

  // The tenant whose token hashes to `digest`, or null.
  const TenantSpec* FindByDigest(const TokenDigest& digest) const;
  const TenantSpec* FindByName(std::string_view name) const;
  const std::vector<TenantSpec>& tenants() const { return tenants_; }
  // Every tenant's engine quota, for Engine::SetTenantQuotas.
  std::map<std::string, TenantQuota> EngineQuotas() const;

 private:
  std::vector<TenantSpec> tenants_;
  std::map<TokenDigest, size_t> by_digest_;
  std::map<std::string, size_t, std::less<>> by_name_;
};

}  // namespace memserver::service
