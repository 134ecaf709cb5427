// Faulting accesses: the fault kind (SEGV_MAPERR / SEGV_ACCERR), the exact
// first faulting address, and that a faulting access changes nothing: no
// byte written, no byte copied out, no frame taken.
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class FaultTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    OpenWithFrames(32);
    pid_ = NewProcess();
  }
  // [a, a+2p) RW with pattern 1, [a+2p, a+3p) read-only with pattern 1,
  // [a+3p, a+4p) PROT_NONE, [a+4p, a+5p) unmapped, [a+5p, a+6p) RW.
  uint64_t Layout() {
    const uint64_t a = 1ull << 30;
    MapFixed(pid_, a, 4 * page());
    WritePattern(pid_, 1, a, 4 * page());
    EXPECT_OK(engine().Mprotect(pid_, a + 2 * page(), page(), kProtRead));
    EXPECT_OK(engine().Mprotect(pid_, a + 3 * page(), page(), kProtNone));
    MapFixed(pid_, a + 5 * page(), page());
    return a;
  }
  Pid pid_ = 0;
};

TEST_F(FaultTest, ReadOfUnmappedAddressIsMapErrorAtThatAddress) {
  const uint64_t a = Layout();
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, a + 4 * page() + 123, 4, &out), kMapError, a + 4 * page() + 123);
  EXPECT_FAULT(ReadInto(pid_, 0, 1, &out), kMapError, 0);
  EXPECT_FAULT(ReadInto(pid_, 1ull << 40, 1, &out), kMapError, 1ull << 40);
}

TEST_F(FaultTest, FaultStatusIsFailedPreconditionWithSigsegv) {
  std::string out;
  const Status s = ReadInto(pid_, 1ull << 30, 8, &out);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(s.IsFault()) << s.ToString();
  EXPECT_EQ(s.errno_name(), "SIGSEGV");
}

TEST_F(FaultTest, ReadRunningPastTheEndFaultsAtTheFirstUnmappedByte) {
  const uint64_t a = Map(pid_, 2 * page());
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, a + 2 * page() - 10, 20, &out), kMapError, a + 2 * page());
}

TEST_F(FaultTest, ReadStartingInAHoleFaultsAtItsStart) {
  const uint64_t a = Layout();
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, a + 5 * page() - 3, 10, &out), kMapError, a + 5 * page() - 3);
}

TEST_F(FaultTest, WriteIntoReadOnlyPageIsAccessErrorAtItsFirstByte) {
  const uint64_t a = Layout();
  EXPECT_FAULT(engine().Write(pid_, a + 2 * page() - 100, std::string(200, 'w')), kAccessError,
               a + 2 * page());
}

TEST_F(FaultTest, FaultingWriteChangesNoByte) {
  const uint64_t a = Layout();
  // Spans the writable pages and runs into the read-only one.
  EXPECT_FAULT(engine().Write(pid_, a + 10, std::string(2 * page() + 10, 'w')), kAccessError,
               a + 2 * page());
  EXPECT_TRUE(CheckPattern(pid_, 1, a, 3 * page()));
  // Same into the hole after the PROT_NONE page, from the RW page after it.
  EXPECT_FAULT(engine().Write(pid_, a + 5 * page() + 1, std::string(page(), 'w')), kMapError,
               a + 6 * page());
  EXPECT_TRUE(CheckZero(pid_, a + 5 * page(), page()));
  ExpectInvariants();
}

TEST_F(FaultTest, FaultingWriteTakesNoFrame) {
  const uint64_t a = Map(pid_, 2 * page());
  const uint64_t free_before = engine().GetGlobalStats().frames_free;
  EXPECT_FAULT(engine().Write(pid_, a + 10, std::string(2 * page(), 'w')), kMapError,
               a + 2 * page());
  EXPECT_EQ(engine().GetGlobalStats().frames_free, free_before);
  EXPECT_EQ(Stats(pid_).resident_pages, 0u);
  EXPECT_TRUE(CheckZero(pid_, a, 2 * page()));
  ExpectInvariants();
}

TEST_F(FaultTest, FaultingReadCopiesNothing) {
  const uint64_t a = Layout();
  std::string out(3 * page(), '\x5a');
  const Status s = engine().Read(pid_, a + page(), 3 * page(), out.data());
  EXPECT_EQ(s.fault_kind(), FaultKind::kAccessError) << s.ToString();
  EXPECT_EQ(s.fault_address(), a + 3 * page());
  EXPECT_EQ(out, std::string(3 * page(), '\x5a'));
}

TEST_F(FaultTest, ReadOfProtNoneIsAccessError) {
  const uint64_t a = Layout();
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, a + 3 * page() + 1, 1, &out), kAccessError, a + 3 * page() + 1);
}

TEST_F(FaultTest, WriteToProtNoneIsAccessError) {
  const uint64_t a = Layout();
  EXPECT_FAULT(engine().Write(pid_, a + 3 * page(), "x"), kAccessError, a + 3 * page());
}

TEST_F(FaultTest, FirstFaultingAddressWinsOverLaterOnes) {
  const uint64_t a = Layout();
  std::string out;
  // Read from the RW pages: the PROT_NONE page comes before the hole.
  EXPECT_FAULT(ReadInto(pid_, a, 5 * page(), &out), kAccessError, a + 3 * page());
  // Write from the RW pages: the read-only page comes first.
  EXPECT_FAULT(engine().Write(pid_, a, std::string(5 * page(), 'w')), kAccessError,
               a + 2 * page());
  EXPECT_TRUE(CheckPattern(pid_, 1, a, 3 * page()));
}

TEST_F(FaultTest, ReadOnlyPageIsReadable) {
  const uint64_t a = Layout();
  EXPECT_TRUE(CheckPattern(pid_, 1, a + page(), 2 * page()));
}

TEST_F(FaultTest, AccessBeyondTheAddressSpaceFails) {
  std::string out;
  const uint64_t top = 1ull << engine().options().address_bits;
  EXPECT_FALSE(ReadInto(pid_, top, 1, &out).ok());
  EXPECT_FALSE(engine().Write(pid_, UINT64_MAX - 1, "xyz").ok());
  EXPECT_FALSE(ReadInto(pid_, UINT64_MAX, 2, &out).ok());
}

TEST_F(FaultTest, AccessAfterMunmapFaults) {
  const uint64_t a = Map(pid_, 2 * page());
  WritePattern(pid_, 1, a, 2 * page());
  ASSERT_OK(engine().Munmap(pid_, a, 2 * page()));
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, a + 5, 1, &out), kMapError, a + 5);
  EXPECT_FAULT(engine().Write(pid_, a, "x"), kMapError, a);
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
