// The tenants file (server/daemon/tenants_file.h): what it accepts, and
// errors that name the tenant and the key.
#include "server/daemon/tenants_file.h"

#include <gtest/gtest.h>

#include <string>

namespace memserver::daemon {
namespace {

const std::string kHex(64, 'a');

Status Parse(const std::string& text, std::shared_ptr<const service::TenantTable>* table = nullptr) {
  std::shared_ptr<const service::TenantTable> scratch;
  return ParseTenants(text, "tenants.toml", table ? table : &scratch);
}

TEST(TenantsFileTest, ParsesTokensAdminAndEveryQuota) {
  std::shared_ptr<const service::TenantTable> table;
  Status s = Parse("[tenants.alice]\ntoken_sha256 = \"" + kHex +
                       "\"\nmax_processes = 4\nmax_files = \"1MiB\"\nmax_file_count = 9\nmax_locked = 4096\n"
                       "max_resident = \"64MiB\"\nmax_swap = 8192\nmax_streams = 2\nmax_calls = 3\n\n[tenants.ops]\ntoken_sha256 = \"" +
                       std::string(64, 'B') + "\"\nadmin = true\n",
                   &table);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const service::TenantSpec* alice = table->FindByName("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_FALSE(alice->admin);
  EXPECT_EQ(alice->quota.max_processes, 4u);
  EXPECT_EQ(alice->quota.max_file_bytes, 1u << 20);
  EXPECT_EQ(alice->quota.max_files, 9u);
  EXPECT_EQ(alice->quota.max_locked_bytes, 4096u);
  EXPECT_EQ(alice->quota.max_resident_bytes, 64u << 20);
  EXPECT_EQ(alice->quota.max_swap_bytes, 8192u);
  EXPECT_EQ(alice->max_streams, 2u);
  EXPECT_EQ(alice->max_calls, 3u);
  const service::TenantSpec* ops = table->FindByName("ops");
  ASSERT_NE(ops, nullptr);
  EXPECT_TRUE(ops->admin);
  EXPECT_EQ(ops->quota.max_processes, kUnlimited);
  EXPECT_EQ(table->FindByDigest(ops->token_sha256), ops);
  EXPECT_EQ(table->FindByDigest(service::DigestToken("x")), nullptr);
}

TEST(TenantsFileTest, DigestIsTheSha256OfTheToken) {
  // printf %s test | sha256sum
  EXPECT_EQ(service::DigestHex(service::DigestToken("test")),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
}

TEST(TenantsFileTest, ErrorsNameTheTenantAndTheKey) {
  struct Case {
    std::string text, needle;
  };
  const std::string token = "token_sha256 = \"" + kHex + "\"\n";
  for (const Case& c : std::vector<Case>{
           {"[tenants.a]\n" + token + "max_proceses = 3\n", "tenants.a.max_proceses: unknown key"},
           {"[tenants.a]\ntoken_sha256 = \"abc\"\n", "tenants.a.token_sha256"},
           {"[tenants.a]\nadmin = true\n", "tenants.a has no token_sha256"},
           {"[tenants.a]\n" + token + "max_processes = -1\n", "tenants.a.max_processes"},
           {"[tenants.a]\n" + token + "max_files = \"lots\"\n", "tenants.a.max_files"},
           {"[tenants.a]\n" + token + "max_resident = \"lots\"\n", "tenants.a.max_resident"},
           {"[tenants.a]\n" + token + "max_swap = -4\n", "tenants.a.max_swap"},
           {"[tenants.a]\n" + token + "[tenants.b]\n" + token, "the same token_sha256"},
           {"[tenants.\"a/b\"]\n" + token, "tenant 'a/b'"},
           {"[other]\nx = 1\n", "unknown top-level key 'other'"},
           {"", "no tenant"},
           {"[tenants.a\n", "tenants.toml:1"},
       }) {
    Status s = Parse(c.text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << "for:\n" << c.text << "\ngot: " << s.message();
  }
}

}  // namespace
}  // namespace memserver::daemon
