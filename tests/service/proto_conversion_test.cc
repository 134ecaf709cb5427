#include "server/service/proto_conversion.h"

#include <gtest/gtest.h>

namespace memserver::service {
namespace {

TEST(ProtoConversionTest, MergeChangesOnlyTheLimitsThatAreSet) {
  ProcessLimits limits;
  limits.as = 1;
  limits.data = 2;
  limits.stack = 3;
  limits.memlock = 4;
  v1::Limits in;
  in.set_data(20);
  in.set_memlock(0);  // set to zero is still set
  MergeFromProto(in, &limits);
  EXPECT_EQ(limits.as, 1u);
  EXPECT_EQ(limits.data, 20u);
  EXPECT_EQ(limits.stack, 3u);
  EXPECT_EQ(limits.memlock, 0u);
}

TEST(ProtoConversionTest, LimitsRoundTripIncludingUnlimited) {
  ProcessLimits limits;
  limits.as = kUnlimited;
  limits.data = 1ull << 40;
  v1::Limits proto;
  ToProto(limits, &proto);
  EXPECT_TRUE(proto.has_as());
  EXPECT_EQ(proto.as(), UINT64_MAX);
  ProcessLimits back;
  back.stack = 0;
  MergeFromProto(proto, &back);
  EXPECT_EQ(back.as, limits.as);
  EXPECT_EQ(back.data, limits.data);
  EXPECT_EQ(back.stack, limits.stack);
  EXPECT_EQ(back.memlock, limits.memlock);
}

TEST(ProtoConversionTest, MmapRequestCarriesFileFields) {
  v1::MmapRequest request;
  request.set_addr(0x10000);
  request.set_length(8192);
  request.set_prot(1);
  request.set_flags(v1::MAP_SHARED);
  request.set_path("/f");
  request.set_offset(4096);
  MmapArgs args = FromProto(request);
  EXPECT_EQ(args.addr, 0x10000u);
  EXPECT_EQ(args.length, 8192u);
  EXPECT_EQ(args.prot, 1u);
  EXPECT_EQ(args.flags, kMapShared);
  EXPECT_EQ(args.path, "/f");
  EXPECT_EQ(args.offset, 4096u);
}

TEST(ProtoConversionTest, MappingCarriesBackingAndUsage) {
  MappingInfo m;
  m.start = 0x1000;
  m.end = 0x3000;
  m.backing = "[heap]";
  m.locked = true;
  m.usage.rss = 8192;
  m.usage.pss = 4096;
  v1::Mapping out;
  ToProto(m, &out);
  EXPECT_EQ(out.start(), 0x1000u);
  EXPECT_EQ(out.end(), 0x3000u);
  EXPECT_EQ(out.backing(), "[heap]");
  EXPECT_TRUE(out.locked());
  EXPECT_EQ(out.usage().rss(), 8192u);
  EXPECT_EQ(out.usage().pss(), 4096u);
}

}  // namespace
}  // namespace memserver::service
