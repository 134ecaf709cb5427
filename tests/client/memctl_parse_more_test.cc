// memctl's parsing of the newer arguments (advice names, limits with
// 'unlimited', signed sizes) and the formats of limits and exec images.
#include <gtest/gtest.h>

#include <limits>

#include "client/lib/types.h"
#include "client/memctl/format.h"
#include "client/memctl/parse.h"

namespace memserver::memctl {
namespace {

using client::Advice;

TEST(ParseAdviceTest, AcceptsEveryLinuxNameCaseInsensitiveWithOrWithoutPrefix) {
  const std::pair<const char*, Advice> kCases[] = {
      {"normal", Advice::kNormal},         {"random", Advice::kRandom},
      {"sequential", Advice::kSequential}, {"willneed", Advice::kWillNeed},
      {"dontneed", Advice::kDontNeed},     {"free", Advice::kFree},
      {"dontfork", Advice::kDontFork},     {"dofork", Advice::kDoFork},
      {"wipeonfork", Advice::kWipeOnFork}, {"keeponfork", Advice::kKeepOnFork},
  };
  for (const auto& [name, advice] : kCases) {
    EXPECT_EQ(ParseAdvice(name), advice) << name;
    EXPECT_EQ(AdviceName(advice), name);
  }
  EXPECT_EQ(ParseAdvice("DONTNEED"), Advice::kDontNeed);
  EXPECT_EQ(ParseAdvice("MADV_WIPEONFORK"), Advice::kWipeOnFork);
  EXPECT_EQ(ParseAdvice("madv_free"), Advice::kFree);
}

TEST(ParseAdviceTest, RejectsUnknownNamesNumbersAndPartialWords) {
  for (const char* bad : {"", "4", "dont", "dontneeds", "madv_", "will need", "hugepage"}) {
    EXPECT_FALSE(ParseAdvice(bad).has_value()) << bad;
  }
}

TEST(ParseAdviceTest, NameOfAValueOutsideTheEnumIsItsNumber) {
  EXPECT_EQ(AdviceName(static_cast<Advice>(99)), "99");
}

TEST(ParseLimitTest, UnlimitedAndInfinityAreTheMaximum) {
  EXPECT_EQ(ParseLimit("unlimited"), client::kUnlimited);
  EXPECT_EQ(ParseLimit("UNLIMITED"), client::kUnlimited);
  EXPECT_EQ(ParseLimit("infinity"), client::kUnlimited);
}

TEST(ParseLimitTest, OtherwiseASize) {
  EXPECT_EQ(ParseLimit("8MiB"), 8u << 20);
  EXPECT_EQ(ParseLimit("4096"), 4096u);
  EXPECT_EQ(ParseLimit("0"), 0u);
  for (const char* bad : {"", "unlimit", "-1", "none", "8 MiB extra"}) {
    EXPECT_FALSE(ParseLimit(bad).has_value()) << bad;
  }
}

TEST(ParseSignedSizeTest, AcceptsSignsUnitsAndHex) {
  EXPECT_EQ(ParseSignedSize("4096"), 4096);
  EXPECT_EQ(ParseSignedSize("+4096"), 4096);
  EXPECT_EQ(ParseSignedSize("-4096"), -4096);
  EXPECT_EQ(ParseSignedSize("-4KiB"), -4096);
  EXPECT_EQ(ParseSignedSize("+1MiB"), 1 << 20);
  EXPECT_EQ(ParseSignedSize("-0x1000"), -4096);
  EXPECT_EQ(ParseSignedSize("0"), 0);
  EXPECT_EQ(ParseSignedSize("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseSignedSize("-9223372036854775808"), std::numeric_limits<int64_t>::min());
}

TEST(ParseSignedSizeTest, RejectsDoubleSignsAndOverflow) {
  for (const char* bad : {"", "-", "+", "--1", "+-1", "-+1", "9223372036854775808",
                          "-9223372036854775809", "-8EiB", "1.5K"}) {
    EXPECT_FALSE(ParseSignedSize(bad).has_value()) << bad;
  }
}

TEST(FormatLimitTest, UnlimitedSizeAndUnset) {
  EXPECT_EQ(FormatLimit(client::kUnlimited), "unlimited");
  EXPECT_EQ(FormatLimit(8u << 20), "8MiB");
  EXPECT_EQ(FormatLimit(0), "0B");
  EXPECT_EQ(FormatLimit(std::nullopt), "-");
  for (uint64_t v : {client::kUnlimited, uint64_t{4096}, uint64_t{12345}}) {
    EXPECT_EQ(ParseLimit(FormatLimit(v)), v) << v;
  }
}

TEST(FormatLimitTest, LimitsTableListsEveryLimit) {
  client::Limits limits;
  limits.as = client::kUnlimited;
  limits.data = 1u << 30;
  limits.stack = 8u << 20;
  limits.memlock = 64u << 10;
  EXPECT_EQ(FormatLimits(limits),
            "limit        value\n"
            "as       unlimited\n"
            "data          1GiB\n"
            "stack         8MiB\n"
            "memlock      64KiB\n");
}

TEST(FormatExecImageTest, ShowsEntryLoadBaseBrkStackAndSegments) {
  client::ExecImage image;
  image.entry = 0x5555555563d0;
  image.load_base = 0x555555554000;
  image.brk_start = 0x55555555e000;
  image.stack_bottom = 0x7fffff7ff000;
  image.stack_top = 0x7ffffffff000;
  image.segments = 4;
  EXPECT_EQ(FormatExecImage(image),
            "exec\n"
            "entry      0x5555555563d0\n"
            "load base  0x555555554000\n"
            "brk        0x55555555e000\n"
            "stack      0x7fffff7ff000-0x7ffffffff000\n"
            "segments   4\n");
}

TEST(FormatMapFlagsTest, NamesLockedAndPopulate) {
  EXPECT_EQ(FormatMapFlags(client::kMapShared | client::kMapLocked | client::kMapPopulate),
            "shared,locked,populate");
}

}  // namespace
}  // namespace memserver::memctl
