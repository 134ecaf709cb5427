// The server-side allocator through the client: blocks are usable process
// memory, calloc zeroes reused memory, realloc keeps the content, and bad
// frees are INVALID_ARGUMENT that change nothing.
#include <set>

#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using HeapTest = ClientTest;

TEST_F(HeapTest, MallocBlocksAreDistinctWritableMemoryOnTheHeap) {
  Process p = client().CreateProcess();
  std::set<uint64_t> blocks;
  for (int i = 0; i < 8; ++i) {
    uint64_t a = p.Malloc(100);
    ASSERT_NE(a, 0u);
    EXPECT_TRUE(blocks.insert(a).second) << "block handed out twice: " << a;
    p.Write(a, std::string(100, static_cast<char>('a' + i)));
  }
  int i = 0;
  for (uint64_t a : blocks) {
    // Each block still holds what was written to it: blocks do not overlap.
    std::string content = p.Read(a, 100);
    EXPECT_EQ(content, std::string(100, content[0])) << i++;
  }
  std::vector<Mapping> m = p.Mappings();
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0].backing, "[heap]");  // small blocks come from brk
}

TEST_F(HeapTest, DoubleFreeIsInvalidArgumentAndChangesNothing) {
  Process p = client().CreateProcess();
  uint64_t a = p.Malloc(64);
  uint64_t b = p.Malloc(64);
  p.Write(b, "still here");
  p.Free(a);
  Error e = ErrorOf([&] { p.Free(a); });
  EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.errno_name(), "EINVAL");
  EXPECT_FALSE(e.is_fault());
  EXPECT_EQ(p.Read(b, 10), "still here");
  p.Free(b);  // the other block is still live and frees once
}

TEST_F(HeapTest, FreeOfAPointerMallocNeverReturnedIsInvalidArgument) {
  Process p = client().CreateProcess();
  uint64_t a = p.Malloc(64);
  EXPECT_EQ(ErrorOf([&] { p.Free(a + 8); }).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorOf([&] { p.Realloc(a + 8, 10); }).code(), grpc::StatusCode::INVALID_ARGUMENT);
  p.Free(a);
  p.Free(0);  // free(NULL) does nothing
}

TEST_F(HeapTest, CallocZeroesEvenReusedMemory) {
  Process p = client().CreateProcess();
  uint64_t a = p.Malloc(256);
  p.Write(a, std::string(256, '\xff'));
  p.Free(a);
  uint64_t b = p.Calloc(16, 16);
  EXPECT_EQ(p.Read(b, 256), std::string(256, '\0'));
}

TEST_F(HeapTest, ReallocKeepsTheContentWhenItMoves) {
  Process p = client().CreateProcess();
  uint64_t a = p.Malloc(32);
  p.Write(a, "0123456789abcdefghijklmnopqrstuv");
  uint64_t b = p.Realloc(a, 4096);
  EXPECT_EQ(p.Read(b, 32), "0123456789abcdefghijklmnopqrstuv");
  if (b != a) {
    EXPECT_EQ(ErrorOf([&] { p.Free(a); }).code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(p.Realloc(b, 0), 0u);  // realloc(p, 0) frees
  EXPECT_EQ(ErrorOf([&] { p.Free(b); }).code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(HeapTest, LargeBlocksGetTheirOwnMappingThatFreeUnmaps) {
  Process p = client().CreateProcess();
  const size_t before = p.Mappings().size();
  uint64_t big = p.Malloc(1 << 20);
  p.Write(big + (1 << 20) - 4, "tail");
  EXPECT_EQ(p.Mappings().size(), before + 1);
  p.Free(big);
  EXPECT_EQ(p.Mappings().size(), before);
  EXPECT_EQ(ErrorOf([&] { p.Read(big, 1); }).fault_kind(), FaultKind::kMapError);
}

TEST_F(HeapTest, HugeRequestIsResourceExhausted) {
  Process p = client().CreateProcess();
  EXPECT_EQ(ErrorOf([&] { p.Malloc(1ull << 62); }).code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ErrorOf([&] { p.Calloc(1ull << 40, 1ull << 40); }).code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace memserver::client
