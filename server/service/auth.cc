#include "server/service/auth.h"

#include <fmt/format.h>
#include <grpcpp/server_context.h>

#include <cctype>
#include <string_view>

namespace memserver::service {

namespace {

// The first value of `key` in the call's metadata; false when absent.
bool Header(const grpc::ServerContextBase& context, std::string_view key, std::string_view* value) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return false;
  *value = std::string_view(it->second.data(), it->second.size());
  return true;
}

bool StartsWithBearer(std::string_view v) {
  constexpr std::string_view kScheme = "bearer ";
  if (v.size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(v[i])) != kScheme[i]) return false;
  }
  return true;
}

}  // namespace

Status Authenticator::Authenticate(const grpc::ServerContextBase& context, Caller* caller) const {
  std::shared_ptr<const TenantTable> table = table_.load();
  if (table == nullptr) {
    *caller = Caller{"", true, "", nullptr, nullptr};
    return Status::OK();
  }
  std::string_view authorization;
  if (!Header(context, kAuthorizationHeader, &authorization) || !StartsWithBearer(authorization)) {
    return Status::Unauthenticated(
        "this server requires a bearer token: send `authorization: Bearer TOKEN` metadata "
        "(memctl and memload: --token-file FILE or MEMSERVER_TOKEN; the client library: "
        "ClientOptions::connection.token)");
  }
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  const TenantSpec* spec = table->FindByDigest(DigestToken(token));
  if (spec == nullptr) {
    return Status::Unauthenticated(
        "the bearer token is not valid on this server (no tenant has it, or its tenant was removed)");
  }
  caller->tenant = spec->name;
  caller->admin = spec->admin;
  caller->ns = spec->name;
  caller->spec = spec;
  std::string_view as;
  if (Header(context, kAsTenantHeader, &as)) {
    if (!spec->admin) {
      return Status::PermissionDenied(
          fmt::format("tenant '{}' is not an admin: only an admin may act as another tenant ({} metadata)",
                      spec->name, kAsTenantHeader),
          nullptr);
    }
    if (table->FindByName(as) == nullptr) {
      return Status::Unauthenticated(fmt::format("{}: no tenant is named '{}'", kAsTenantHeader,
                                                 as.substr(0, kMaxOwnerBytes)));
    }
    caller->ns = std::string(as);
  }
  caller->table = std::move(table);
  return Status::OK();
}

Status Authenticator::Recheck(const Caller& caller) const {
  std::shared_ptr<const TenantTable> table = table_.load();
  if (table == nullptr || caller.spec == nullptr) return Status::OK();
  const TenantSpec* now = table->FindByName(caller.tenant);
  if (now != nullptr && now->token_sha256 == caller.spec->token_sha256) return Status::OK();
  return Status::Unauthenticated(
      fmt::format("tenant '{}' was removed from the tenants file, or its token changed", caller.tenant));
}

}  // namespace memserver::service
