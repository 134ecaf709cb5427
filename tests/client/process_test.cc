// Process: RAII ownership of a remote process, and the typed helpers.
#include <array>
#include <cstring>
#include <vector>

#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using ProcessTest = ClientTest;

TEST_F(ProcessTest, DestructorExitsTheProcess) {
  uint64_t pid;
  {
    Process p = client().CreateProcess("scoped");
    pid = p.pid();
    ASSERT_TRUE(IsListed(pid));
  }
  EXPECT_FALSE(IsListed(pid));
}

TEST_F(ProcessTest, ReleaseKeepsTheProcessAlive) {
  uint64_t pid;
  {
    Process p = client().CreateProcess("kept");
    pid = p.Release();
    EXPECT_FALSE(p.owns());
    EXPECT_EQ(p.pid(), 0u);
  }
  EXPECT_TRUE(IsListed(pid));
  client().Exit(pid);
}

TEST_F(ProcessTest, AdoptedPidIsExitedByItsNewHandle) {
  uint64_t pid = client().CreateProcess("adopted").Release();
  { Process again(client(), pid); }
  EXPECT_FALSE(IsListed(pid));
}

TEST_F(ProcessTest, MoveConstructionTransfersOwnership) {
  Process outer = client().CreateProcess("outer");
  uint64_t pid = outer.pid();
  {
    Process inner(std::move(outer));
    EXPECT_FALSE(outer.owns());
    EXPECT_EQ(inner.pid(), pid);
    outer = client().CreateProcess("replacement");  // moved-from handles are reusable
  }
  EXPECT_FALSE(IsListed(pid));  // inner exited it
  EXPECT_TRUE(IsListed(outer.pid()));
}

TEST_F(ProcessTest, MoveAssignmentExitsThePreviousProcess) {
  Process a = client().CreateProcess("a");
  Process b = client().CreateProcess("b");
  uint64_t pid_a = a.pid();
  uint64_t pid_b = b.pid();
  a = std::move(b);
  EXPECT_FALSE(IsListed(pid_a));
  EXPECT_TRUE(IsListed(pid_b));
  EXPECT_EQ(a.pid(), pid_b);
  EXPECT_FALSE(b.owns());
}

TEST_F(ProcessTest, ExplicitExitEmptiesTheHandle) {
  Process p = client().CreateProcess("explicit");
  uint64_t pid = p.pid();
  p.Exit();
  EXPECT_FALSE(p.owns());
  EXPECT_FALSE(IsListed(pid));
}

TEST_F(ProcessTest, EmptyHandleThrowsFailedPreconditionWithoutCallingTheServer) {
  Process p = client().CreateProcess("released");
  uint64_t pid = p.Release();
  for (auto call : std::vector<std::function<void()>>{
           [&] { p.Read(kBase, 1); }, [&] { p.Write(kBase, "x"); },
           [&] { p.Mmap(0, kPage); }, [&] { p.Exit(); }, [&] { p.Stats(); }}) {
    Error e = ErrorOf(call);
    EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION) << e.what();
    EXPECT_EQ(e.errno_name(), "") << e.what();  // the server's errors carry an errno
  }
  EXPECT_TRUE(IsListed(pid));
  client().Exit(pid);
}

TEST_F(ProcessTest, DestructorSwallowsTheErrorOfAnAlreadyExitedProcess) {
  uint64_t pid = 0;
  EXPECT_NO_THROW({
    Process p = client().CreateProcess("exited elsewhere");
    pid = p.pid();
    client().Exit(pid);
  });
  EXPECT_FALSE(IsListed(pid));
}

TEST_F(ProcessTest, DestructorSwallowsTheErrorOfAStoppedServer) {
  Process p = client().CreateProcess("orphan");
  server_->Shutdown();
  Error e = ErrorOf([&] { p.Stats(); });
  EXPECT_EQ(e.code(), grpc::StatusCode::UNAVAILABLE) << e.what();
  // p's destructor runs at the end of the test against a stopped server.
}

struct Record {
  int32_t id;
  double weight;
  char tag[5];
  bool operator==(const Record& o) const {
    return id == o.id && weight == o.weight && std::memcmp(tag, o.tag, sizeof(tag)) == 0;
  }
};

TEST_F(ProcessTest, TypedValuesRoundTripAtAnyAlignment) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(0, kPage);
  p.WriteValue<uint8_t>(a, 0xab);
  p.WriteValue<int32_t>(a + 1, -123456);  // unaligned
  p.WriteValue<uint64_t>(a + 16, 0x0123456789abcdefULL);
  p.WriteValue<double>(a + 24, 3.25);
  Record r{42, -0.5, {'a', 'b', 'c', 'd', 'e'}};
  p.WriteValue(a + 100, r);
  EXPECT_EQ(p.ReadValue<uint8_t>(a), 0xab);
  EXPECT_EQ(p.ReadValue<int32_t>(a + 1), -123456);
  EXPECT_EQ(p.ReadValue<uint64_t>(a + 16), 0x0123456789abcdefULL);
  EXPECT_EQ(p.ReadValue<double>(a + 24), 3.25);
  EXPECT_EQ(p.ReadValue<Record>(a + 100), r);
  // The bytes are the client's own representation.
  uint64_t v = 0x0123456789abcdefULL;
  EXPECT_EQ(p.Read(a + 16, 8), std::string(reinterpret_cast<const char*>(&v), 8));
}

TEST_F(ProcessTest, TypedValueStraddlesAPageBoundary) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(0, 2 * kPage);
  p.WriteValue<uint64_t>(a + kPage - 4, 0xfeedfacecafebeefULL);
  EXPECT_EQ(p.ReadValue<uint64_t>(a + kPage - 4), 0xfeedfacecafebeefULL);
  EXPECT_EQ(p.ReadValue<uint32_t>(a + kPage), 0xfeedfaceu);  // high half, little endian
}

TEST_F(ProcessTest, ArraysRoundTripAcrossPages) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(0, 4 * kPage);
  std::vector<uint32_t> values(3000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint32_t>(i * i);
  p.WriteArray(a + 2, values);
  EXPECT_EQ(p.ReadArray<uint32_t>(a + 2, values.size()), values);
  std::array<int16_t, 3> small = {-1, 2, -3};
  p.WriteArray(a, std::span<const int16_t>(small));
  EXPECT_EQ(p.ReadArray<int16_t>(a, 3), std::vector<int16_t>({-1, 2, -3}));
}

TEST_F(ProcessTest, EmptyArraysMakeNoCall) {
  Process p = client().CreateProcess();
  // An RPC at an unmapped address would fault.
  EXPECT_TRUE(p.ReadArray<uint64_t>(kBase, 0).empty());
  EXPECT_NO_THROW(p.WriteArray(kBase, std::vector<uint64_t>{}));
}

TEST_F(ProcessTest, TypedReadOfUnmappedMemoryThrowsFault) {
  Process p = client().CreateProcess();
  Error e = ErrorOf([&] { p.ReadValue<uint64_t>(kBase); });
  EXPECT_TRUE(e.is_fault());
  EXPECT_EQ(e.fault_address(), kBase);
}

TEST_F(ProcessTest, DefaultMmapIsPrivateAnonymousReadWrite) {
  Process p = client().CreateProcess("pmap");
  uint64_t a = p.Mmap(0, 3 * kPage);
  p.WriteValue<char>(a, 'x');
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].start, a);
  EXPECT_EQ(m[0].end, a + 3 * kPage);
  EXPECT_EQ(m[0].prot, kRw);
  EXPECT_EQ(m[0].flags & (kMapPrivate | kMapShared | kMapAnonymous), kPrivateAnon);
  EXPECT_EQ(m[0].resident_pages, 1u);
  ProcessStats s = p.Stats();
  EXPECT_EQ(s.pid, p.pid());
  EXPECT_EQ(s.virtual_bytes, 3 * kPage);
}

}  // namespace
}  // namespace memserver::client
