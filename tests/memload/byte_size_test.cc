#include "client/memload/byte_size.h"

#include <gtest/gtest.h>

namespace memserver::memload {
namespace {

uint64_t Parse(const char* text) {
  uint64_t bytes = 0;
  Status s = ParseByteSize(text, &bytes);
  EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
  return bytes;
}

TEST(ByteSizeTest, ParsesPlainNumbersAndBinaryUnits) {
  EXPECT_EQ(Parse("4096"), 4096u);
  EXPECT_EQ(Parse("8B"), 8u);
  EXPECT_EQ(Parse("4KiB"), 4096u);
  EXPECT_EQ(Parse("4k"), 4096u);
  EXPECT_EQ(Parse("256MiB"), 256u << 20);
  EXPECT_EQ(Parse("1 GiB"), 1u << 30);
  EXPECT_EQ(Parse("2gb"), 2ull << 30);
  EXPECT_EQ(Parse("1TiB"), 1ull << 40);
}

TEST(ByteSizeTest, RejectsGarbageUnknownUnitsAndOverflow) {
  uint64_t bytes = 0;
  for (const char* text : {"", "MiB", "-4", "4XB", "4 MiB x", "1.5GiB", "18446744073709551616",
                           "17179869184GiB"}) {
    EXPECT_EQ(ParseByteSize(text, &bytes).code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(ByteSizeTest, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(FormatByteSize(0), "0B");
  EXPECT_EQ(FormatByteSize(4097), "4097B");
  EXPECT_EQ(FormatByteSize(4096), "4KiB");
  EXPECT_EQ(FormatByteSize(1536 << 10), "1536KiB");
  EXPECT_EQ(FormatByteSize(256u << 20), "256MiB");
  EXPECT_EQ(FormatByteSize(3ull << 40), "3TiB");
}

}  // namespace
}  // namespace memserver::memload
