// Owners and their quotas in the engine (server/engine/tenant_ledger.h):
// processes and files belong to an owner, files live in the owner's
// namespace, and each quota refuses with its name and gives back on release.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class TenantTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    OpenWithFrames(256);
  }
  void Quota(const std::string& owner, TenantQuota q) { engine().SetTenantQuotas({{owner, q}}); }
  uint64_t Used(const std::string& owner, TenantResource r) {
    for (const TenantUsage& u : engine().TenantUsages()) {
      if (u.owner == owner) return u.used[static_cast<int>(r)];
    }
    return 0;
  }
};

TEST_F(TenantTest, ForkedChildInheritsItsParentsOwner) {
  Pid parent = 0, child = 0;
  ASSERT_TRUE(engine().CreateProcess("p", &parent, 0, "alice").ok());
  ASSERT_TRUE(engine().Fork(parent, &child).ok());
  std::string owner;
  ASSERT_TRUE(engine().ProcessOwner(child, &owner).ok());
  EXPECT_EQ(owner, "alice");
  EXPECT_EQ(Used("alice", TenantResource::kProcesses), 2u);
  ProcessStats stats;
  ASSERT_TRUE(engine().GetProcessStats(child, &stats).ok());
  EXPECT_EQ(stats.owner, "alice");
}

TEST_F(TenantTest, ProcessQuotaRefusesWithEagainAndExitGivesItBack) {
  TenantQuota q;
  q.max_processes = 2;
  Quota("alice", q);
  Pid a = 0, b = 0, c = 0;
  ASSERT_TRUE(engine().CreateProcess("a", &a, 0, "alice").ok());
  ASSERT_TRUE(engine().CreateProcess("b", &b, 0, "alice").ok());
  Status s = engine().CreateProcess("c", &c, 0, "alice");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.errno_name(), "EAGAIN");
  EXPECT_NE(s.message().find("max_processes"), std::string::npos) << s.ToString();
  EXPECT_EQ(engine().Fork(a, &c).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(engine().CreateProcess("other", &c, 0, "bob").ok()) << "another owner is not charged";
  ASSERT_TRUE(engine().Exit(b).ok());
  EXPECT_TRUE(engine().CreateProcess("c", &c, 0, "alice").ok());
}

TEST_F(TenantTest, ProcessOwnerOfAMissingPidIsTheUsualNotFound) {
  std::string owner;
  Status s = engine().ProcessOwner(99, &owner);
  Status usual = engine().Exit(99);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), usual.ToString());
  EXPECT_EQ(s.ToString(), Engine::NoSuchProcess(99).ToString());
}

TEST_F(TenantTest, SamePathInTwoNamespacesIsTwoFiles) {
  FileInfo info;
  ASSERT_TRUE(engine().WriteFile("alice", "/f", 0, "alice's", &info).ok());
  EXPECT_EQ(engine().StatFile("bob", "/f", &info).code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine().CreateFile("bob", "/f", false, &info).ok());
  std::string data;
  ASSERT_TRUE(engine().ReadFile("alice", "/f", 0, 64, &data).ok());
  EXPECT_EQ(data, "alice's");
  ASSERT_TRUE(engine().ReadFile("bob", "/f", 0, 64, &data).ok());
  EXPECT_EQ(data, "");
  ASSERT_TRUE(engine().DeleteFile("bob", "/f").ok());
  EXPECT_TRUE(engine().StatFile("alice", "/f", &info).ok());
  EXPECT_EQ(engine().ListFiles("bob", "", false).size(), 0u);
  std::vector<FileInfo> all = engine().ListFiles("", "", true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].owner, "alice");
  EXPECT_TRUE(engine().ListFiles("/f").empty()) << "the no-tenant namespace is one more";
}

TEST_F(TenantTest, FileQuotaCountsBytesAndGivesThemBackOnTruncateAndDelete) {
  TenantQuota q;
  q.max_file_bytes = 10000;
  q.max_files = 2;
  Quota("alice", q);
  FileInfo info;
  ASSERT_TRUE(engine().WriteFile("alice", "/a", 0, std::string(6000, 'a'), &info).ok());
  Status s = engine().WriteFile("alice", "/a", 6000, std::string(5000, 'b'), &info);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.errno_name(), "EDQUOT");
  EXPECT_NE(s.message().find("max_files"), std::string::npos) << s.ToString();
  ASSERT_TRUE(engine().StatFile("alice", "/a", &info).ok());
  EXPECT_EQ(info.size, 6000u) << "a refused write changes nothing";
  EXPECT_EQ(engine().TruncateFile("alice", "/a", 20000).code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(engine().TruncateFile("alice", "/a", 1000).ok());
  EXPECT_EQ(Used("alice", TenantResource::kFileBytes), 1000u);
  ASSERT_TRUE(engine().WriteFile("alice", "/b", 0, std::string(9000, 'c'), &info).ok());
  s = engine().CreateFile("alice", "/c", false, &info);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("max_file_count"), std::string::npos) << s.ToString();
  ASSERT_TRUE(engine().DeleteFile("alice", "/b").ok());
  EXPECT_EQ(Used("alice", TenantResource::kFileBytes), 1000u);
  EXPECT_EQ(Used("alice", TenantResource::kFiles), 1u);
  EXPECT_TRUE(engine().CreateFile("alice", "/c", false, &info).ok());
}

TEST_F(TenantTest, LockedQuotaRefusesMlockAndUnmapGivesItBack) {
  TenantQuota q;
  q.max_locked_bytes = 8 * page();
  Quota("alice", q);
  Pid pid = 0;
  ASSERT_TRUE(engine().CreateProcess("p", &pid, 0, "alice").ok());
  MmapArgs args;
  args.length = 16 * page();
  uint64_t addr = 0;
  ASSERT_TRUE(engine().Mmap(pid, args, &addr).ok());
  ASSERT_TRUE(engine().Mlock(pid, addr, 4 * page()).ok());
  Status s = engine().Mlock(pid, addr, 16 * page());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.errno_name(), "ENOMEM");
  EXPECT_NE(s.message().find("max_locked"), std::string::npos) << s.ToString();
  EXPECT_EQ(Used("alice", TenantResource::kLockedBytes), 4 * page());
  ASSERT_TRUE(engine().Munmap(pid, addr, 16 * page()).ok());
  EXPECT_EQ(Used("alice", TenantResource::kLockedBytes), 0u);
  ASSERT_TRUE(engine().Mmap(pid, args, &addr).ok());
  EXPECT_TRUE(engine().Mlock(pid, addr, 8 * page()).ok());
  ASSERT_TRUE(engine().Exit(pid).ok());
  EXPECT_EQ(Used("alice", TenantResource::kLockedBytes), 0u);
}

TEST_F(TenantTest, MmapAndExecResolvePathsInTheProcessOwnersNamespace) {
  FileInfo info;
  ASSERT_TRUE(engine().WriteFile("alice", "/data", 0, std::string(page(), 'x'), &info).ok());
  Pid alices = 0, bobs = 0;
  ASSERT_TRUE(engine().CreateProcess("a", &alices, 0, "alice").ok());
  ASSERT_TRUE(engine().CreateProcess("b", &bobs, 0, "bob").ok());
  MmapArgs args;
  args.length = page();
  args.prot = kProtRead;
  args.flags = kMapPrivate;
  args.path = "/data";
  uint64_t addr = 0;
  EXPECT_TRUE(engine().Mmap(alices, args, &addr).ok());
  EXPECT_EQ(engine().Mmap(bobs, args, &addr).code(), StatusCode::kNotFound);
  ExecImage image;
  EXPECT_EQ(engine().Exec(bobs, "/data", &image).code(), StatusCode::kNotFound);
}

TEST_F(TenantTest, AnOwnerNameThatIsNotAKeyIsRefused) {
  Pid pid = 0;
  EXPECT_EQ(engine().CreateProcess("p", &pid, 0, "a/b").code(), StatusCode::kInvalidArgument);
  FileInfo info;
  EXPECT_EQ(engine().CreateFile(std::string(65, 'x'), "/f", false, &info).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memserver
