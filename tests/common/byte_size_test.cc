#include "server/common/byte_size.h"

#include <gtest/gtest.h>

namespace memserver {
namespace {

uint64_t Parse(std::string_view text) {
  uint64_t bytes = 12345;
  Status s = ParseByteSize(text, &bytes);
  EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
  return bytes;
}

void ExpectRejected(std::string_view text) {
  uint64_t bytes = 12345;
  Status s = ParseByteSize(text, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << text << "' was accepted";
  EXPECT_NE(s.message().find(std::string(text)), std::string::npos) << s.message();
  EXPECT_EQ(bytes, 12345u) << "output written on failure for '" << text << "'";
}

TEST(ByteSizeTest, PlainNumberIsBytes) {
  EXPECT_EQ(Parse("0"), 0u);
  EXPECT_EQ(Parse("4096"), 4096u);
  EXPECT_EQ(Parse("4096B"), 4096u);
}

TEST(ByteSizeTest, BinaryUnitsLongAndShort) {
  EXPECT_EQ(Parse("64KiB"), 64u << 10);
  EXPECT_EQ(Parse("64K"), 64u << 10);
  EXPECT_EQ(Parse("256MiB"), 256ull << 20);
  EXPECT_EQ(Parse("256M"), 256ull << 20);
  EXPECT_EQ(Parse("2GiB"), 2ull << 30);
  EXPECT_EQ(Parse("2G"), 2ull << 30);
  EXPECT_EQ(Parse("1TiB"), 1ull << 40);
}

TEST(ByteSizeTest, UnitsAreCaseInsensitiveAndMayFollowASpace) {
  EXPECT_EQ(Parse("4mib"), 4ull << 20);
  EXPECT_EQ(Parse("4 MiB"), 4ull << 20);
  EXPECT_EQ(Parse(" 4m "), 4ull << 20);
  EXPECT_EQ(Parse("4MB"), 4ull << 20);
}

TEST(ByteSizeTest, LargestValuesFitAndOneMoreOverflows) {
  EXPECT_EQ(Parse("18446744073709551615"), UINT64_MAX);
  ExpectRejected("18446744073709551616");
  EXPECT_EQ(Parse("16777215TiB"), 16777215ull << 40);
  ExpectRejected("16777216TiB");
  ExpectRejected("17179869184G");
}

TEST(ByteSizeTest, MalformedTextIsRejected) {
  ExpectRejected("");
  ExpectRejected("MiB");
  ExpectRejected("-1");
  ExpectRejected("1.5G");
  ExpectRejected("12 parsecs");
  ExpectRejected("4MiBs");
  ExpectRejected("0x100");
}

TEST(ByteSizeTest, FormatPicksTheLargestExactUnit) {
  EXPECT_EQ(FormatByteSize(0), "0B");
  EXPECT_EQ(FormatByteSize(4097), "4097B");
  EXPECT_EQ(FormatByteSize(4096), "4KiB");
  EXPECT_EQ(FormatByteSize(1536 << 10), "1536KiB");
  EXPECT_EQ(FormatByteSize(256ull << 20), "256MiB");
  EXPECT_EQ(FormatByteSize(3ull << 30), "3GiB");
  EXPECT_EQ(FormatByteSize(5ull << 40), "5TiB");
  EXPECT_EQ(FormatByteSize(1ull << 50), "1024TiB");
}

TEST(ByteSizeTest, FormatThenParseIsIdentity) {
  for (uint64_t v : {1ull, 4095ull, 4096ull, 65536ull + 1, 256ull << 20, 7ull << 30, 1ull << 50}) {
    EXPECT_EQ(Parse(FormatByteSize(v)), v);
  }
}

}  // namespace
}  // namespace memserver
