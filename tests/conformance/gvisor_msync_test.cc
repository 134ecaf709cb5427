// gVisor test/syscalls/linux/msync.cc, ported: every TEST (7), over the same
// parameters: the flags MS_SYNC, MS_ASYNC and 0, and the mappings anonymous
// or file, private or shared, read-only or writable (gVisor's O_RDONLY or
// O_RDWR file; memserver files have no open modes, the prot differs).
#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {
namespace {

struct Syncable {
  bool file;
  uint32_t share;  // kMapPrivate or kMapShared
  bool writable;
};

using MsyncTestParam = std::tuple<uint32_t, Syncable>;

class MsyncParameterizedTest : public GvisorTest, public ::testing::WithParamInterface<MsyncTestParam> {
 protected:
  uint32_t msync_flags() const { return std::get<0>(GetParam()); }
  // A one-page mapping of the parameter's kind; its address.
  uint64_t GetMapping() {
    const Syncable& m = std::get<1>(GetParam());
    const uint32_t prot = kProtRead | (m.writable ? kProtWrite : 0);
    if (!m.file) return MmapAnon(kPageSize, prot, m.share);
    PutFile("/msync-file", "");
    return MapFile(pid_, "/msync-file", kPageSize, m.share, prot);
  }
  Status Msync(uint64_t addr, uint64_t length, uint32_t flags) { return engine().Msync(pid_, addr, length, flags); }
};

std::string FlagsName(uint32_t flags) {
  return flags == kMsSync ? "MS_SYNC" : flags == kMsAsync ? "MS_ASYNC" : "NoFlags";
}

std::string ParamName(const ::testing::TestParamInfo<MsyncTestParam>& info) {
  const Syncable& m = std::get<1>(info.param);
  return FlagsName(std::get<0>(info.param)) + (m.file ? "_File" : "_Anon") +
         (m.share == kMapShared ? "_Shared" : "_Private") + (m.writable ? "_ReadWrite" : "_ReadOnly");
}

std::vector<Syncable> SyncableMappings() {
  std::vector<Syncable> out;
  for (bool writable : {false, true}) {
    for (uint32_t share : {kMapPrivate, kMapShared}) {
      out.push_back({false, share, writable});
      out.push_back({true, share, writable});
    }
  }
  return out;
}

// "Linux permits a call to msync() that specifies neither [MS_SYNC or
// MS_ASYNC], with semantics that are (currently) equivalent to specifying
// MS_ASYNC." - msync(2)
const std::vector<uint32_t> kMsyncFlags = {kMsSync, kMsAsync, 0};

using MsyncNoMappingTest = MsyncParameterizedTest;

TEST_P(MsyncNoMappingTest, UnmappedAddressWithZeroLengthSucceeds) { EXPECT_OK(Msync(0, 0, msync_flags())); }

TEST_P(MsyncNoMappingTest, UnmappedAddressWithNonzeroLengthFails) {
  EXPECT_ERRNO(Msync(0, kPageSize, msync_flags()), kFailedPrecondition, "ENOMEM");
}

INSTANTIATE_TEST_SUITE_P(All, MsyncNoMappingTest,
                         ::testing::Combine(::testing::ValuesIn(kMsyncFlags),
                                            ::testing::Values(Syncable{false, kMapPrivate, false})),
                         [](const ::testing::TestParamInfo<MsyncTestParam>& info) {
                           return FlagsName(std::get<0>(info.param));
                         });

using MsyncNoFlagsTest = MsyncParameterizedTest;

TEST_P(MsyncNoFlagsTest, BothSyncAndAsyncFails) {
  const uint64_t m = GetMapping();
  EXPECT_ERRNO(Msync(m, kPageSize, kMsSync | kMsAsync), kInvalidArgument, "EINVAL");
}

INSTANTIATE_TEST_SUITE_P(All, MsyncNoFlagsTest,
                         ::testing::Combine(::testing::Values(0u), ::testing::ValuesIn(SyncableMappings())),
                         ParamName);

using MsyncFullParamTest = MsyncParameterizedTest;

TEST_P(MsyncFullParamTest, NormallySucceeds) {
  const uint64_t m = GetMapping();
  EXPECT_OK(Msync(m, kPageSize, msync_flags()));
}

TEST_P(MsyncFullParamTest, UnalignedLengthSucceeds) {
  const uint64_t m = GetMapping();
  EXPECT_OK(Msync(m, kPageSize - 1, msync_flags()));
}

TEST_P(MsyncFullParamTest, UnalignedAddressFails) {
  const uint64_t m = GetMapping();
  EXPECT_ERRNO(Msync(m + 1, kPageSize - 1, msync_flags()), kInvalidArgument, "EINVAL");
}

TEST_P(MsyncFullParamTest, InvalidateUnlockedSucceeds) {
  const uint64_t m = GetMapping();
  EXPECT_OK(Msync(m, kPageSize, msync_flags() | kMsInvalidate));
}

// The test for MS_INVALIDATE on mlocked pages is MlockTest.MsyncInvalidate.

INSTANTIATE_TEST_SUITE_P(All, MsyncFullParamTest,
                         ::testing::Combine(::testing::ValuesIn(kMsyncFlags), ::testing::ValuesIn(SyncableMappings())),
                         ParamName);

}  // namespace
}  // namespace memserver::gvisor
