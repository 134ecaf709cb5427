#include "server/daemon/tenants_file.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "server/common/byte_size.h"

namespace memserver::daemon {

namespace {

using service::TenantSpec;

// A count: a non-negative integer.
Status Count(const toml::node& node, const std::string& where, uint64_t* out) {
  std::optional<int64_t> v = node.value<int64_t>();
  if (!node.is_integer() || !v || *v < 0) return Status::InvalidArgument(where + " must be a whole number >= 0");
  *out = static_cast<uint64_t>(*v);
  return Status::OK();
}

// Bytes: an integer, or a string with a unit ("64MiB").
Status Bytes(const toml::node& node, const std::string& where, uint64_t* out) {
  if (node.is_integer()) return Count(node, where, out);
  if (node.is_string()) {
    Status s = ParseByteSize(*node.value<std::string>(), out);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("{}: {}", where, s.message()));
    return Status::OK();
  }
  return Status::InvalidArgument(where + " must be a number of bytes or a size such as \"64MiB\"");
}

Status ParseTenant(const std::string& name, const toml::table& t, const std::string& origin, TenantSpec* spec) {
  spec->name = name;
  bool has_token = false;
  for (const auto& [key_node, value] : t) {
    const std::string key(key_node.str());
    const std::string where = fmt::format("{}: tenants.{}.{}", origin, name, key);
    if (key == "token_sha256") {
      if (!value.is_string()) return Status::InvalidArgument(where + " must be a string of 64 hex digits");
      Status s = service::ParseTokenDigest(*value.value<std::string>(), &spec->token_sha256);
      if (!s.ok()) return Status::InvalidArgument(fmt::format("{}: {}", where, s.message()));
      has_token = true;
    } else if (key == "admin") {
      if (!value.is_boolean()) return Status::InvalidArgument(where + " must be true or false");
      spec->admin = *value.value<bool>();
    } else if (key == "max_processes") {
      MEMSERVER_RETURN_IF_ERROR(Count(value, where, &spec->quota.max_processes));
    } else if (key == "max_files") {
      MEMSERVER_RETURN_IF_ERROR(Bytes(value, where, &spec->quota.max_file_bytes));
    } else if (key == "max_file_count") {
      MEMSERVER_RETURN_IF_ERROR(Count(value, where, &spec->quota.max_files));
    } else if (key == "max_locked") {
      MEMSERVER_RETURN_IF_ERROR(Bytes(value, where, &spec->quota.max_locked_bytes));
    } else if (key == "max_streams") {
      MEMSERVER_RETURN_IF_ERROR(Count(value, where, &spec->max_streams));
    } else if (key == "max_calls") {
      MEMSERVER_RETURN_IF_ERROR(Count(value, where, &spec->max_calls));
    } else if (key == "max_resident") {
      MEMSERVER_RETURN_IF_ERROR(Bytes(value, where, &spec->quota.max_resident_bytes));
    } else if (key == "max_swap") {
      MEMSERVER_RETURN_IF_ERROR(Bytes(value, where, &spec->quota.max_swap_bytes));
    } else {
      return Status::InvalidArgument(
          where + ": unknown key (known: token_sha256, admin, max_processes, max_files, max_file_count, "
                  "max_locked, max_resident, max_swap, max_streams, max_calls)");
    }
  }
  if (!has_token) return Status::InvalidArgument(fmt::format("{}: tenants.{} has no token_sha256", origin, name));
  return Status::OK();
}

}  // namespace

Status ParseTenants(const std::string& text, const std::string& origin,
                    std::shared_ptr<const service::TenantTable>* table) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line,
                                               e.source().begin.column, e.description()));
  }
  std::vector<TenantSpec> specs;
  for (const auto& [key, value] : root) {
    if (key.str() != "tenants") {
      return Status::InvalidArgument(
          fmt::format("{}: unknown top-level key '{}' (every tenant is a [tenants.NAME] table)", origin, key.str()));
    }
    const toml::table* tenants = value.as_table();
    if (tenants == nullptr) return Status::InvalidArgument(origin + ": 'tenants' must be a table of [tenants.NAME]");
    for (const auto& [name, spec_node] : *tenants) {
      const toml::table* t = spec_node.as_table();
      if (t == nullptr) {
        return Status::InvalidArgument(fmt::format("{}: tenants.{} must be a table", origin, name.str()));
      }
      TenantSpec spec;
      MEMSERVER_RETURN_IF_ERROR(ParseTenant(std::string(name.str()), *t, origin, &spec));
      specs.push_back(std::move(spec));
    }
  }
  if (specs.empty()) return Status::InvalidArgument(origin + ": no tenant ([tenants.NAME] tables) is defined");
  Status s = service::TenantTable::Build(std::move(specs), table);
  if (!s.ok()) return Status::InvalidArgument(fmt::format("{}: {}", origin, s.message()));
  return Status::OK();
}

Status LoadTenantsFile(const std::string& path, std::shared_ptr<const service::TenantTable>* table) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(fmt::format("cannot read the tenants file '{}'", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseTenants(text.str(), path, table);
}

}  // namespace memserver::daemon
