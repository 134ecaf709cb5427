// The fixtures of gVisor's mmap.cc port (gvisor_mmap_test.cc: anonymous
// memory; gvisor_mmap_file_test.cc: file mappings): MMapTest remembers the
// last mapping as gVisor's fixture does; MMapFileTest adds a half-page file
// and read(2)/write(2)/ftruncate(2) at a file position.
#pragma once

#include <limits>

#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {

inline constexpr uint32_t kPrivAnon = kMapPrivate | kMapAnonymous;
inline constexpr uint32_t kSharedAnon = kMapShared | kMapAnonymous;
inline const std::string kFileContents = "Hello World!";

class MMapTest : public GvisorTest {
 protected:
  // mmap(addr, length, prot, flags, -1, 0) (or of `path_` without
  // MAP_ANONYMOUS); remembers the mapping as gVisor's fixture does.
  Status Map(uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags, uint64_t offset = 0,
             uint64_t* out = nullptr) {
    uint64_t got = 0;
    const Status s = MmapStatus(addr, length, prot, flags, (flags & kMapAnonymous) ? "" : path_, offset, &got);
    if (s.ok()) {
      addr_ = got;
      length_ = length;
    }
    if (out != nullptr) *out = got;
    return s;
  }
  Status Unmap() { return Munmap(addr_, length_); }
  Status Msync() { return engine().Msync(pid_, addr_, length_, kMsSync); }

  std::string path_ = "/mmap-test-file";
  uint64_t addr_ = 0;
  uint64_t length_ = 0;
};

class MMapFileTest : public MMapTest {
 protected:
  void SetUp() override {
    MMapTest::SetUp();
    // Half a page, so that the second half of a mapped page is past EOF.
    PutFile(path_, std::string(kPageSize / 2, '\0'));
  }
  // write(2) at the file position (as after lseek), advancing it.
  void Write(const std::string& data) {
    PutFile(path_, data, offset_);
    offset_ += data.size();
  }
  // read(2) of up to `count` bytes at the file position.
  std::string Read(uint64_t count) {
    std::string out;
    const Status s = engine().ReadFile(path_, offset_, count, &out);
    if (!s.ok()) ADD_FAILURE() << "ReadFile: " << s.ToString();
    offset_ += out.size();
    return out;
  }
  void Truncate(uint64_t size) { ASSERT_OK(engine().TruncateFile(path_, size)); }

  uint64_t offset_ = 0;
};

class MMapFileParamTest : public MMapFileTest,
                          public ::testing::WithParamInterface<std::tuple<uint32_t, uint32_t>> {
 protected:
  uint32_t prot() const { return std::get<0>(GetParam()); }
  uint32_t flags() const { return std::get<1>(GetParam()); }
};

}  // namespace memserver::gvisor
