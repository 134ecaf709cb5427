// gVisor test/syscalls/linux/mmap.cc, ported (see gvisor_mmap_test.cc for
// the count and what does not apply): the cases that map a file.
#include "tests/conformance/gvisor_mmap_fixture.h"

namespace memserver::gvisor {
namespace {

TEST_P(MMapFileParamTest, MapPopulate) { ASSERT_OK(Map(0, kPageSize, prot(), flags() | kMapPopulate)); }

TEST_P(MMapFileParamTest, MapPopulateShort) { ASSERT_OK(Map(0, 2 * kPageSize, prot(), flags() | kMapPopulate)); }

TEST_F(MMapFileTest, Read) {
  Write(kFileContents);
  ASSERT_OK(Map(0, kPageSize, kProtRead, kMapPrivate));
  EXPECT_EQ(ReadBytes(pid_, addr_, kFileContents.size()), kFileContents);
}

TEST_F(MMapFileTest, MapOffset) {
  offset_ = kPageSize;  // lseek
  Write(kFileContents);
  ASSERT_OK(Map(0, kPageSize, kProtRead, kMapPrivate, kPageSize));
  EXPECT_EQ(ReadBytes(pid_, addr_, kFileContents.size()), kFileContents);
}

TEST_F(MMapFileTest, MapOffsetBeyondEnd) {
  ASSERT_OK(Map(0, kPageSize, kRW, kMapPrivate, 10 * kPageSize));
  // Touching the memory causes SIGBUS.
  EXPECT_FAULT(engine().Write(pid_, addr_, kFileContents), kBusError, addr_);
}

TEST_F(MMapFileTest, MapSecondToLastPositivePage) {
  EXPECT_OK(Map(0, kPageSize, kProtRead, kMapShared,
                (std::numeric_limits<int64_t>::max() - kPageSize) & ~(kPageSize - 1)));
}

TEST_F(MMapFileTest, MapLastPositivePage) {
  // The end offset overflows a regular file's largest offset.
  EXPECT_ERRNO(Map(0, kPageSize, kProtRead, kMapShared, std::numeric_limits<int64_t>::max() & ~(kPageSize - 1)),
               kInvalidArgument, "EOVERFLOW");
}

TEST_F(MMapFileTest, MapFirstNegativePage) {
  EXPECT_ERRNO(Map(0, kPageSize, kProtRead, kMapShared, static_cast<uint64_t>(std::numeric_limits<int64_t>::min())),
               kInvalidArgument, "EOVERFLOW");
}

TEST_F(MMapFileTest, MapSecondToLastNegativePage) {
  EXPECT_ERRNO(Map(0, kPageSize, kProtRead, kMapShared, static_cast<uint64_t>(-(2 * static_cast<int64_t>(kPageSize)))),
               kInvalidArgument, "EOVERFLOW");
}

TEST_F(MMapFileTest, MapLastNegativePage) {
  EXPECT_ERRNO(Map(0, kPageSize, kProtRead, kMapShared, static_cast<uint64_t>(-static_cast<int64_t>(kPageSize))),
               kInvalidArgument, "EOVERFLOW");
}

TEST_F(MMapFileTest, ReadSharedConsistentWithOverwrite) {
  Truncate(0);
  const std::string a(kPageSize, 'a'), b(kPageSize, 'b');
  Write(a);
  Write(b);
  ASSERT_OK(Map(0, 2 * kPageSize, kProtRead, kMapShared));
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), a);
  EXPECT_EQ(ReadBytes(pid_, addr_ + kPageSize, kPageSize), b);
  offset_ = 0;
  Write(b);
  Write(a);
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), b);
  EXPECT_EQ(ReadBytes(pid_, addr_ + kPageSize, kPageSize), a);
}

TEST_F(MMapFileTest, ReadSharedConsistentWithPartialOverwrite) {
  Truncate(0);
  const std::string a(kPageSize, 'a'), b(kPageSize, 'b');
  Write(a);
  Write(b);
  ASSERT_OK(Map(0, 2 * kPageSize, kProtRead, kMapShared));
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), a);
  EXPECT_EQ(ReadBytes(pid_, addr_ + kPageSize, kPageSize), b);
  offset_ = 0;
  const std::string c(kPageSize + kPageSize / 2, 'c');  // spans both pages
  Write(c);
  EXPECT_EQ(ReadBytes(pid_, addr_, c.size()), c);
  EXPECT_EQ(ReadBytes(pid_, addr_ + c.size(), kPageSize / 2), b.substr(0, kPageSize / 2));
}

TEST_F(MMapFileTest, ReadSharedConsistentWithWriteAndFile) {
  Truncate(0);
  Write(std::string(2 * kPageSize, 'a'));
  ASSERT_OK(Map(0, kPageSize, kProtRead, kMapShared));  // the first page only
  offset_ = 0;
  const std::string b(2 * kPageSize, 'b');
  Write(b);  // beyond the mapped part too
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), std::string(kPageSize, 'b'));
  offset_ = 0;
  EXPECT_EQ(Read(2 * kPageSize), b);
}

TEST_F(MMapFileTest, WriteShared) {
  ASSERT_OK(Map(0, kPageSize, kRW, kMapShared));
  WriteBytes(pid_, addr_, kFileContents);
  ASSERT_OK(Unmap());
  EXPECT_EQ(Read(kFileContents.size()), kFileContents);
}

TEST_F(MMapFileTest, WriteSharedBeyondEnd) {
  // Half a page of file, a whole page mapped: writes past the end do not
  // reach the file.
  ASSERT_OK(Map(0, kPageSize, kRW, kMapShared));
  const std::string first(kPageSize / 2, 'A'), second(kPageSize / 2, 'B');
  WriteBytes(pid_, addr_, first);
  WriteBytes(pid_, addr_ + kPageSize / 2, second);
  ASSERT_OK(Unmap());
  EXPECT_EQ(Read(kPageSize), first);  // only the first half is in the file
}

TEST_F(MMapFileTest, WriteSharedTruncateUp) {
  ASSERT_OK(Map(0, kPageSize, kRW, kMapShared));
  const std::string first(kPageSize / 2, 'A'), second(kPageSize / 2, 'B');
  WriteBytes(pid_, addr_, first);
  Truncate(kPageSize);  // the second half becomes part of the file ...
  WriteBytes(pid_, addr_ + kPageSize / 2, second);  // ... so this reaches it
  ASSERT_OK(Unmap());
  EXPECT_EQ(Read(kPageSize), first + second);
}

TEST_F(MMapFileTest, ReadSharedTruncateDownThenUp) {
  Truncate(0);
  const std::string buf(kPageSize, 'a');
  Write(buf);
  ASSERT_OK(Map(0, kPageSize, kProtRead, kMapShared));
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), buf);
  Truncate(0);
  Truncate(kPageSize);
  const std::string zeroed(kPageSize, '\0');
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), zeroed);
  ASSERT_OK(Msync());
  offset_ = 0;
  EXPECT_EQ(Read(kPageSize), zeroed);
}

TEST_F(MMapFileTest, WriteSharedTruncateDownThenUp) {
  ASSERT_OK(Map(0, kPageSize, kRW, kMapShared));
  WriteBytes(pid_, addr_, std::string(kPageSize / 2, 'A'));  // deleted by the truncation to 0
  Truncate(0);
  Truncate(kPageSize);
  const std::string zeroed(kPageSize, '\0');
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), zeroed);
  ASSERT_OK(Unmap());
  EXPECT_EQ(Read(kPageSize), zeroed);
}

TEST_F(MMapFileTest, ReadSharedTruncateSIGBUS) {
  Truncate(0);
  const std::string buf(kPageSize, 'a');
  Write(buf);
  ASSERT_OK(Map(0, kPageSize, kProtRead, kMapShared));
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize), buf);
  Truncate(0);
  EXPECT_FAULT(ReadStatus(pid_, addr_, kPageSize), kBusError, addr_);
}

TEST_F(MMapFileTest, WriteSharedTruncateSIGBUS) {
  ASSERT_OK(Map(0, kPageSize, kRW, kMapShared));
  WriteBytes(pid_, addr_, kFileContents);  // really mapped
  Truncate(0);
  EXPECT_FAULT(engine().Write(pid_, addr_, kFileContents), kBusError, addr_);
}

TEST_F(MMapFileTest, ReadSharedTruncatePartialPage) {
  Truncate(0);
  const std::string buf(kPageSize, 'a');
  Write(buf);
  ASSERT_OK(Map(0, kPageSize, kProtRead, kMapShared));
  Truncate(kPageSize / 2);
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize / 2), buf.substr(0, kPageSize / 2));
  EXPECT_EQ(ReadBytes(pid_, addr_ + kPageSize / 2, kPageSize / 2), std::string(kPageSize / 2, '\0'));
}

TEST_F(MMapFileTest, WriteSharedTruncatePartialPage) {
  Truncate(kPageSize);
  ASSERT_OK(Map(0, kPageSize, kRW, kMapShared));
  const std::string contents(kPageSize, 'A');
  WriteBytes(pid_, addr_, contents);
  Truncate(kPageSize / 2);
  EXPECT_EQ(ReadBytes(pid_, addr_, kPageSize / 2), contents.substr(0, kPageSize / 2));
  EXPECT_EQ(ReadBytes(pid_, addr_ + kPageSize / 2, kPageSize / 2), std::string(kPageSize / 2, '\0'));
}

TEST_F(MMapFileTest, WritePrivate) {
  ASSERT_OK(Map(0, kPageSize, kRW, kMapPrivate));
  WriteBytes(pid_, addr_, kFileContents);
  ASSERT_OK(Unmap());
  EXPECT_EQ(Read(kFileContents.size()), std::string(kFileContents.size(), '\0'));
}

TEST_P(MMapFileParamTest, SigBusDeath) {
  ASSERT_OK(Map(0, 2 * kPageSize, prot(), flags()));
  // The file is half a page: the whole first page is accessible, nothing
  // beyond it.
  const uint64_t start = addr_ + kPageSize;
  if (prot() & kProtWrite) {
    EXPECT_FAULT(engine().Write(pid_, start, kFileContents), kBusError, start);
  } else {
    EXPECT_FAULT(ReadStatus(pid_, start, kPageSize), kBusError, start);
  }
}

TEST_P(MMapFileParamTest, NoSigBusOnPagesBeforeEOF) {
  ASSERT_OK(Map(0, 2 * kPageSize, prot(), flags()));
  if (prot() & kProtWrite) {
    EXPECT_OK(engine().Write(pid_, addr_, kFileContents));
  } else {
    EXPECT_OK(ReadStatus(pid_, addr_, kFileContents.size()));
  }
}

TEST_P(MMapFileParamTest, NoSigBusOnPageContainingEOF) {
  ASSERT_OK(Map(0, 2 * kPageSize, prot(), flags()));
  // Past EOF, but in the page holding it (+1 for fencepost errors).
  const uint64_t start = addr_ + kPageSize / 2 + 1;
  if (prot() & kProtWrite) {
    EXPECT_OK(engine().Write(pid_, start, kFileContents));
  } else {
    EXPECT_OK(ReadStatus(pid_, start, kFileContents.size()));
  }
}

TEST_F(MMapFileTest, ReadingWritableSharedFilePageSucceeds) {
  ASSERT_OK(Map(0, 2 * kPageSize, kRW, kMapShared));
  EXPECT_OK(ReadStatus(pid_, addr_, kFileContents.size()));
}

TEST_F(MMapFileTest, Bug38498194) {
  // More than one internal segment of a shared file mapping, written and
  // read back through the file.
  constexpr uint64_t kSize = 4 * 1024 * 1024;
  Truncate(kSize);
  ASSERT_OK(Map(0, kSize, kRW, kMapShared));
  const std::string expect(kSize, 'a');
  WriteBytes(pid_, addr_, expect);
  ASSERT_OK(Unmap());
  EXPECT_EQ(FileContents(path_), expect);
}

INSTANTIATE_TEST_SUITE_P(
    ReadWriteSharedPrivate, MMapFileParamTest,
    ::testing::Combine(::testing::Values(kProtRead, kProtWrite, kProtRead | kProtWrite),
                       ::testing::Values(kMapShared, kMapPrivate)),
    [](const ::testing::TestParamInfo<std::tuple<uint32_t, uint32_t>>& info) {
      const uint32_t prot = std::get<0>(info.param);
      const std::string p = prot == kProtRead ? "READ" : prot == kProtWrite ? "WRITE" : "READ_WRITE";
      return p + (std::get<1>(info.param) == kMapShared ? "_SHARED" : "_PRIVATE");
    });

using MMapDeathTest = MMapFileTest;

TEST_F(MMapDeathTest, TruncateAfterCOWBreak) {
  Truncate(kPageSize);
  ASSERT_OK(Map(0, kPageSize, kRW, kMapPrivate));
  Fill(addr_, kPageSize, 'a');  // copied for write
  Truncate(0);  // invalidates the copied page
  EXPECT_FAULT(ReadStatus(pid_, addr_, 1), kBusError, addr_);
}

}  // namespace
}  // namespace memserver::gvisor
