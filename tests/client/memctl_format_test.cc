#include <gtest/gtest.h>

#include "client/lib/types.h"
#include "client/memctl/format.h"
#include "client/memctl/hexdump.h"
#include "client/memctl/parse.h"

namespace memserver::memctl {
namespace {

TEST(HexdumpTest, ShortReadShowsBytesAsciiAndEndAddress) {
  EXPECT_EQ(Hexdump(0x7f0000001000, "hello"),
            "7f0000001000  68 65 6c 6c 6f                                    |hello|\n"
            "7f0000001005\n");
}

TEST(HexdumpTest, FullLineHasGapAfterEightBytesAndDotsForUnprintable) {
  std::string data = "ABCDEFGH";
  data += std::string("\x00\x01\x7f\x80\xff", 5) + "xyz";
  EXPECT_EQ(Hexdump(0x10, data),
            "00000010  41 42 43 44 45 46 47 48  00 01 7f 80 ff 78 79 7a  |ABCDEFGH.....xyz|\n"
            "00000020\n");
}

TEST(HexdumpTest, RowsFollowUnalignedStartAddress) {
  std::string data(20, 'a');
  EXPECT_EQ(Hexdump(0x1003, data),
            "00001003  61 61 61 61 61 61 61 61  61 61 61 61 61 61 61 61  |aaaaaaaaaaaaaaaa|\n"
            "00001013  61 61 61 61                                       |aaaa|\n"
            "00001017\n");
}

TEST(HexdumpTest, SqueezeCollapsesRepeatedLines) {
  std::string data(64, '\0');
  data += "z";
  std::string zeros = "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n";
  EXPECT_EQ(Hexdump(0, data),
            "00000000  " + zeros + "*\n" +
                "00000040  7a                                                |z|\n"
                "00000041\n");
  EXPECT_EQ(Hexdump(0, data, /*squeeze=*/false),
            "00000000  " + zeros + "00000010  " + zeros + "00000020  " + zeros + "00000030  " +
                zeros + "00000040  7a                                                |z|\n00000041\n");
}

TEST(HexdumpTest, EmptyDataPrintsOnlyTheAddress) { EXPECT_EQ(Hexdump(0x20, ""), "00000020\n"); }

TEST(FormatTest, SizeUsesLargestExactUnitAndParsesBack) {
  EXPECT_EQ(FormatSize(0), "0B");
  EXPECT_EQ(FormatSize(4097), "4097B");
  EXPECT_EQ(FormatSize(4096), "4KiB");
  EXPECT_EQ(FormatSize(1536 * 1024), "1536KiB");
  EXPECT_EQ(FormatSize(1u << 20), "1MiB");
  for (uint64_t v : std::initializer_list<uint64_t>{0, 1, 4096, 3ull << 20, 5ull << 40, UINT64_MAX}) {
    EXPECT_EQ(ParseSize(FormatSize(v)), v) << v;
  }
}

TEST(FormatTest, ProtAndFlags) {
  EXPECT_EQ(FormatProt(client::kProtRead | client::kProtWrite), "rw-");
  EXPECT_EQ(FormatProt(client::kProtNone), "---");
  EXPECT_EQ(FormatProt(client::kProtRead | client::kProtExec), "r-x");
  EXPECT_EQ(FormatMapFlags(client::kMapPrivate | client::kMapAnonymous), "private,anon");
  EXPECT_EQ(FormatMapFlags(client::kMapShared | 0x4000), "shared,0x4000");
  EXPECT_EQ(FormatMapFlags(0), "-");
  EXPECT_EQ(FormatAddress(0x7f0000001000), "0x7f0000001000");
}

TEST(FormatTest, PrintableReplacesControlBytesAndCutsLongText) {
  EXPECT_EQ(Printable("ok name"), "ok name");
  EXPECT_EQ(Printable("a\x1b[2Jb\n"), "a?[2Jb?");
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
}

TEST(TableTest, PadsColumnsAndRightAlignsNumbers) {
  Table t({"PID", "NAME"}, {true, false});
  t.AddRow({"1", "first"});
  t.AddRow({"1234", "x"});
  EXPECT_EQ(t.ToString(),
            " PID  NAME\n"
            "   1  first\n"
            "1234  x\n");
}

}  // namespace
}  // namespace memserver::memctl
