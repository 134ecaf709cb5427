// Behaviours of the 8-byte big-endian key encoding and of SpaceName.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/backing_store.h"

namespace memserver::storage {
namespace {

TEST(KeyEncodingTest, EncodesEightBytesBigEndian) {
  EXPECT_EQ(EncodeU64Key(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(EncodeU64Key(0), std::string(8, '\0'));
  EXPECT_EQ(EncodeU64Key(UINT64_MAX), std::string(8, '\xff'));
}

TEST(KeyEncodingTest, DecodeInvertsEncode) {
  for (uint64_t id : std::vector<uint64_t>{0, 1, 255, 256, 0x8000000000000000ull,
                                          0xdeadbeefcafef00dull, UINT64_MAX}) {
    EXPECT_EQ(DecodeU64Key(EncodeU64Key(id)), id) << id;
  }
}

TEST(KeyEncodingTest, EncodedKeysSortInNumericOrder) {
  const std::vector<uint64_t> ids = {0, 1, 255, 256, 257, 65535, 65536, 1ull << 32,
                                     (1ull << 32) + 1, 1ull << 56, UINT64_MAX - 1, UINT64_MAX};
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    // std::string compares bytes as unsigned char, like RocksDB's comparator.
    EXPECT_LT(EncodeU64Key(ids[i]), EncodeU64Key(ids[i + 1])) << ids[i] << " vs " << ids[i + 1];
  }
}

TEST(KeyEncodingTest, SpaceNamesAreTheColumnFamilyNames) {
  EXPECT_STREQ(SpaceName(Space::kSwap), "swap");
  EXPECT_STREQ(SpaceName(Space::kFiles), "files");
  EXPECT_STREQ(SpaceName(Space::kMeta), "meta");
}

}  // namespace
}  // namespace memserver::storage
