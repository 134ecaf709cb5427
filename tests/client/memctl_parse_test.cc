#include "client/memctl/parse.h"

#include <gtest/gtest.h>

#include "client/lib/types.h"

namespace memserver::memctl {
namespace {

using client::kProtExec;
using client::kProtNone;
using client::kProtRead;
using client::kProtWrite;

TEST(ParseNumberTest, AcceptsDecimalAndHex) {
  EXPECT_EQ(ParseNumber("0"), 0u);
  EXPECT_EQ(ParseNumber("4096"), 4096u);
  EXPECT_EQ(ParseNumber("0x7f0000001000"), 0x7f0000001000u);
  EXPECT_EQ(ParseNumber("0XFF"), 255u);
  EXPECT_EQ(ParseNumber("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseNumber("0xffffffffffffffff"), UINT64_MAX);
}

TEST(ParseNumberTest, LeadingZeroIsDecimalNotOctal) { EXPECT_EQ(ParseNumber("010"), 10u); }

TEST(ParseNumberTest, RejectsGarbageSignsUnitsAndOverflow) {
  for (const char* bad : {"", "0x", "-1", "+1", "12a", "1K", " 1", "1 ", "0x1g",
                          "18446744073709551616", "0x10000000000000000"}) {
    EXPECT_FALSE(ParseNumber(bad).has_value()) << bad;
  }
}

TEST(ParseSizeTest, AcceptsBinaryUnits) {
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("4KiB"), 4096u);
  EXPECT_EQ(ParseSize("4k"), 4096u);
  EXPECT_EQ(ParseSize("4KB"), 4096u);
  EXPECT_EQ(ParseSize("1MiB"), 1u << 20);
  EXPECT_EQ(ParseSize("1 MiB"), 1u << 20);
  EXPECT_EQ(ParseSize("2g"), 2ull << 30);
  EXPECT_EQ(ParseSize("3TiB"), 3ull << 40);
  EXPECT_EQ(ParseSize("7B"), 7u);
  EXPECT_EQ(ParseSize("0x1000"), 4096u);
}

TEST(ParseSizeTest, RejectsUnknownUnitsHexWithUnitsAndOverflow) {
  for (const char* bad : {"", "KiB", "4XiB", "4 ", "4KiBx", "0x1K", "-4K", "1.5MiB",
                          "16777216TiB", "18446744073709551616"}) {
    EXPECT_FALSE(ParseSize(bad).has_value()) << bad;
  }
}

TEST(ParseProtTest, AcceptsLetterSetsAndNone) {
  EXPECT_EQ(ParseProt("none"), kProtNone);
  EXPECT_EQ(ParseProt("-"), kProtNone);
  EXPECT_EQ(ParseProt("r"), kProtRead);
  EXPECT_EQ(ParseProt("rw"), kProtRead | kProtWrite);
  EXPECT_EQ(ParseProt("wr"), kProtRead | kProtWrite);
  EXPECT_EQ(ParseProt("RWX"), kProtRead | kProtWrite | kProtExec);
  EXPECT_EQ(ParseProt("r-x"), kProtRead | kProtExec);
}

TEST(ParseProtTest, RejectsRepeatsAndUnknownLetters) {
  for (const char* bad : {"", "rr", "rwa", "read", "7"}) {
    EXPECT_FALSE(ParseProt(bad).has_value()) << bad;
  }
}

TEST(ParseHexBytesTest, AcceptsPairsWithOptionalPrefixAndSpaces) {
  EXPECT_EQ(ParseHexBytes("68656c6c6f"), "hello");
  EXPECT_EQ(ParseHexBytes("0x68656C6C6F"), "hello");
  EXPECT_EQ(ParseHexBytes("68 65 6c\t6c 6f"), "hello");
  EXPECT_EQ(ParseHexBytes("00ff"), std::string("\x00\xff", 2));
}

TEST(ParseHexBytesTest, RejectsOddDigitsSplitBytesAndEmpty) {
  for (const char* bad : {"", "0x", "6", "686", "6 8", "zz", "  "}) {
    EXPECT_FALSE(ParseHexBytes(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace memserver::memctl
