#include "server/service/tenants.h"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace memserver::service {

TokenDigest DigestToken(std::string_view token) {
  TokenDigest digest{};
  unsigned int size = 0;
  EVP_Digest(token.data(), token.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

Status ParseTokenDigest(std::string_view hex, TokenDigest* digest) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() != 64) {
    return Status::InvalidArgument(
        fmt::format("token_sha256 must be 64 hex digits (the SHA-256 of the token, e.g. from "
                    "`printf %s TOKEN | sha256sum`), got {} characters",
                    hex.size()));
  }
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("token_sha256 holds a character that is not a hex digit");
    (*digest)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return Status::OK();
}

std::string DigestHex(const TokenDigest& digest) {
  std::string out;
  for (uint8_t b : digest) out += fmt::format("{:02x}", b);
  return out;
}

Status TenantTable::Build(std::vector<TenantSpec> tenants, std::shared_ptr<const TenantTable>* table) {
  auto t = std::make_shared<TenantTable>();
  for (size_t i = 0; i < tenants.size(); ++i) {
    const TenantSpec& spec = tenants[i];
    if (spec.name.empty()) return Status::InvalidArgument("a tenant has an empty name");
    Status s = ValidateOwner(spec.name);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("tenant '{}': {}", spec.name, s.message()));
    if (!t->by_name_.emplace(spec.name, i).second) {
      return Status::InvalidArgument(fmt::format("tenant '{}' is defined twice", spec.name));
    }
    auto [it, fresh] = t->by_digest_.emplace(spec.token_sha256, i);
    if (!fresh) {
      return Status::InvalidArgument(fmt::format("tenants '{}' and '{}' have the same token_sha256",
                                                 tenants[it->second].name, spec.name));
    }
  }
  t->tenants_ = std::move(tenants);
  *table = std::move(t);
  return Status::OK();
}

const TenantSpec* TenantTable::FindByDigest(const TokenDigest& digest) const {
  auto it = by_digest_.find(digest);
  return it == by_digest_.end() ? nullptr : &tenants_[it->second];
}

const TenantSpec* TenantTable::FindByName(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tenants_[it->second];
}

std::map<std::string, TenantQuota> TenantTable::EngineQuotas() const {
  std::map<std::string, TenantQuota> out;
  for (const TenantSpec& t : tenants_) out[t.name] = t.quota;
  return out;
}

}  // namespace memserver::service
