// memctl's pmap (-x style) and smaps/smaps_rollup layouts.
#include <gtest/gtest.h>

#include "client/memctl/usage_format.h"

namespace memserver::memctl {
namespace {

client::Mapping AnonMapping() {
  client::Mapping m;
  m.start = 0x10000000;
  m.end = 0x10002000;
  m.prot = client::kProtRead | client::kProtWrite;
  m.flags = client::kMapPrivate | client::kMapAnonymous;
  m.usage.rss = 8192;
  m.usage.pss = 6144;
  m.usage.uss = 4096;
  m.usage.shared_dirty = 4096;
  m.usage.private_dirty = 4096;
  return m;
}

client::Mapping FileMapping() {
  client::Mapping m;
  m.start = 0x7f0000000000;
  m.end = 0x7f0000004000;
  m.prot = client::kProtRead;
  m.flags = client::kMapShared;
  m.backing = "/data/file";
  m.offset = 0x1000;
  m.locked = true;
  m.usage.rss = 4096;
  m.usage.pss = 4096;
  m.usage.uss = 4096;
  m.usage.private_clean = 4096;
  m.usage.locked = 4096;
  m.usage.swap = 0;
  return m;
}

TEST(FormatModeTest, ProtectionThenSharedOrPrivate) {
  EXPECT_EQ(FormatMode(client::kProtRead | client::kProtWrite, client::kMapPrivate), "rw-p");
  EXPECT_EQ(FormatMode(client::kProtRead | client::kProtExec, client::kMapShared), "r-xs");
  EXPECT_EQ(FormatMode(client::kProtNone, client::kMapPrivate | client::kMapAnonymous), "---p");
}

TEST(FormatPmapTest, ExtendedListingWithTotals) {
  EXPECT_EQ(FormatPmap(42, "demo", {AnonMapping(), FileMapping()}),
            "42:   demo\n"
            "Address           Kbytes  RSS  Dirty  Mode  Offset    Mapping\n"
            "0000000010000000       8    8      8  rw-p  00000000  [ anon ]\n"
            "00007f0000000000      16    4      0  r--s  00001000  /data/file\n"
            "total kB              24   12      8\n");
}

TEST(FormatPmapTest, NoMappingsIsAZeroTotal) {
  EXPECT_EQ(FormatPmap(7, "", {}),
            "7:   \n"
            "Address   Kbytes  RSS  Dirty  Mode  Offset  Mapping\n"
            "total kB       0    0      0\n");
}

TEST(FormatPmapTest, HostileNamesAreMadePrintable) {
  client::Mapping m = FileMapping();
  m.backing = "/evil\x1b[2J";
  std::string out = FormatPmap(1, "bad\nname", {m});
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_NE(out.find("1:   bad?name\n"), std::string::npos) << out;
  EXPECT_NE(out.find("/evil?[2J"), std::string::npos) << out;
}

TEST(FormatSmapsTest, PerMappingBlocksThenRollup) {
  EXPECT_EQ(FormatSmaps({AnonMapping(), FileMapping()}),
            "10000000-10002000 rw-p 00000000\n"
            "Size:                  8 kB\n"
            "Rss:                   8 kB\n"
            "Pss:                   6 kB\n"
            "Uss:                   4 kB\n"
            "Shared_Clean:          0 kB\n"
            "Shared_Dirty:          4 kB\n"
            "Private_Clean:         0 kB\n"
            "Private_Dirty:         4 kB\n"
            "Swap:                  0 kB\n"
            "Locked:                0 kB\n"
            "7f0000000000-7f0000004000 r--s 00001000 /data/file\n"
            "Size:                 16 kB\n"
            "Rss:                   4 kB\n"
            "Pss:                   4 kB\n"
            "Uss:                   4 kB\n"
            "Shared_Clean:          0 kB\n"
            "Shared_Dirty:          0 kB\n"
            "Private_Clean:         4 kB\n"
            "Private_Dirty:         0 kB\n"
            "Swap:                  0 kB\n"
            "Locked:                4 kB\n"
            "10000000-7f0000004000 ---p 00000000 [rollup]\n"
            "Rss:                  12 kB\n"
            "Pss:                  10 kB\n"
            "Uss:                   8 kB\n"
            "Shared_Clean:          0 kB\n"
            "Shared_Dirty:          4 kB\n"
            "Private_Clean:         4 kB\n"
            "Private_Dirty:         4 kB\n"
            "Swap:                  0 kB\n"
            "Locked:                4 kB\n");
}

TEST(FormatSmapsTest, RollupSumsBytesBeforeRoundingToKilobytes) {
  client::Mapping a = AnonMapping(), b = AnonMapping();
  a.usage.pss = 1536;  // 1.5 kB each: 3 kB together, not 1 + 1
  b.usage.pss = 1536;
  std::string out = FormatSmaps({a, b});
  EXPECT_NE(out.find("Pss:                   1 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("[rollup]\nRss:                  16 kB\nPss:                   3 kB\n"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace memserver::memctl
