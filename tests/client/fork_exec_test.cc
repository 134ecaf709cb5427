// Client::Fork and Client::Exec through the wire: copy-on-write, ownership of
// the child handle, and loading a real executable uploaded with UploadFile.
#include <algorithm>
#include <fstream>
#include <iterator>

#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using ForkTest = ClientTest;
using ExecTest = ClientTest;

// The mapping of `mappings` that contains `addr`, or nullptr.
const Mapping* MappingAt(const std::vector<Mapping>& mappings, uint64_t addr) {
  auto it = std::find_if(mappings.begin(), mappings.end(),
                         [addr](const Mapping& m) { return m.start <= addr && addr < m.end; });
  return it == mappings.end() ? nullptr : &*it;
}

std::string LocalContent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(ForkTest, ChildWriteIsNotSeenByParentAndParentWriteNotByChild) {
  Process parent = client().CreateProcess("parent");
  uint64_t a = parent.Mmap(kBase, 2 * kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  parent.Write(a, "parent-data");
  parent.Write(a + kPage, "second-page");

  Process child = parent.Fork();
  ASSERT_TRUE(child.owns());
  EXPECT_NE(child.pid(), parent.pid());
  EXPECT_EQ(child.Read(a, 11), "parent-data");  // the copy starts equal

  child.Write(a, "CHILD");
  EXPECT_EQ(parent.Read(a, 11), "parent-data");
  EXPECT_EQ(child.Read(a, 11), "CHILDt-data");  // only the written bytes changed in the child
  parent.Write(a + kPage, "PARENT");
  EXPECT_EQ(child.Read(a + kPage, 11), "second-page");
  EXPECT_EQ(parent.Read(a + kPage, 11), "PARENT-page");
}

TEST_F(ForkTest, ChildHasTheParentsMappingsAndItsOwnHandle) {
  Process parent = client().CreateProcess("parent");
  parent.Mmap(kBase, 3 * kPage, kProtRead, kPrivateAnon | kMapFixedNoreplace);
  uint64_t child_pid = 0;
  {
    Process child = parent.Fork();
    child_pid = child.pid();
    ASSERT_TRUE(IsListed(child_pid));
    std::vector<Mapping> mappings = child.Mappings();
    ASSERT_EQ(mappings.size(), 1u);
    EXPECT_EQ(mappings[0].start, kBase);
    EXPECT_EQ(mappings[0].end, kBase + 3 * kPage);
    EXPECT_EQ(mappings[0].prot, kProtRead);
  }
  EXPECT_FALSE(IsListed(child_pid));     // the child's handle exited it
  EXPECT_TRUE(IsListed(parent.pid()));   // and only it
}

TEST_F(ForkTest, SharedMappingStaysSharedAcrossFork) {
  Process parent = client().CreateProcess("parent");
  uint64_t a = parent.Mmap(kBase, kPage, kRw, kMapShared | kMapAnonymous | kMapFixedNoreplace);
  parent.Write(a, "before");
  Process child = parent.Fork();
  child.Write(a, "by-kid");
  EXPECT_EQ(parent.Read(a, 6), "by-kid");
}

TEST_F(ForkTest, ForkOfUnknownPidIsNotFound) {
  Error e = ErrorOf([&] { client().Fork(987654321); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(e.errno_name(), "ESRCH");
}

TEST_F(ForkTest, ForkOnEmptyHandleFailsWithoutAnRpc) {
  Process p = client().CreateProcess();
  p.Exit();
  Error e = ErrorOf([&] { p.Fork(); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ExecTest, UploadedBinTrueLoadsWithEntryInsideItsFileBackedText) {
  const std::string local = "/bin/true";
  const std::string content = LocalContent(local);
  ASSERT_GT(content.size(), 4096u);
  FileInfo uploaded = client().UploadFile(local, "/bin/true");
  EXPECT_EQ(uploaded.size, content.size());
  EXPECT_EQ(client().StatFile("/bin/true").size, content.size());

  Process p = client().CreateProcess("true");
  ExecImage image = p.Exec("/bin/true");
  EXPECT_GE(image.entry, image.load_base);
  EXPECT_GE(image.segments, 1u);
  EXPECT_LT(image.stack_bottom, image.stack_top);
  EXPECT_EQ(p.Brk(), image.brk_start);

  std::vector<Mapping> mappings = p.Mappings();
  const Mapping* text = MappingAt(mappings, image.entry);
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->backing, "/bin/true");
  EXPECT_NE(text->prot & kProtExec, 0u);
  // The bytes at the entry point are the file's bytes at the matching offset.
  const uint64_t file_offset = image.entry - text->start + text->offset;
  ASSERT_LT(file_offset + 16, content.size());
  EXPECT_EQ(p.Read(image.entry, 16), content.substr(file_offset, 16));

  const Mapping* stack = MappingAt(mappings, image.stack_top - 1);
  ASSERT_NE(stack, nullptr);
  EXPECT_EQ(stack->backing, "[stack]");
  EXPECT_LE(stack->start, image.stack_bottom);
}

TEST_F(ExecTest, NonElfFileIsInvalidArgumentAndLeavesTheProcessAsItWas) {
  client().WriteFile("/not-elf", 0, "#!/bin/sh\necho this is not an ELF image\n");
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  p.Write(a, "kept");
  Error e = ErrorOf([&] { p.Exec("/not-elf"); });
  EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.errno_name(), "ENOEXEC");
  EXPECT_EQ(p.Read(a, 4), "kept");
  EXPECT_EQ(p.Mappings().size(), 1u);
}

TEST_F(ExecTest, MissingFileIsNotFound) {
  Process p = client().CreateProcess();
  Error e = ErrorOf([&] { p.Exec("/no/such/file"); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace memserver::client
