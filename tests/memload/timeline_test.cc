#include "client/memload/timeline.h"

#include <gtest/gtest.h>

#include <chrono>

namespace memserver::memload {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

class TimelineTest : public ::testing::Test {
 protected:
  const Clock::time_point start_ = Clock::now();
  Timeline timeline_{start_, milliseconds(100)};
};

TEST_F(TimelineTest, EachOpLandsInTheIntervalItCompletedIn) {
  {
    TimelineRecorder a(&timeline_);
    TimelineRecorder b(&timeline_);
    a.Record(start_ + milliseconds(10), 1000, 1, 0);
    a.Record(start_ + milliseconds(90), 3000, 1, 0);
    b.Record(start_ + milliseconds(50), 2000, 1, 1);
    a.Record(start_ + milliseconds(250), 5000, 4, 0);  // interval 2; interval 1 empty
    b.Record(start_ + milliseconds(260), 9000, 0, 2);
  }  // the recorders flush
  const std::vector<TimelineEntry> e = timeline_.Entries(0.27);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].ops, 4u);
  EXPECT_EQ(e[0].errors, 1u);
  EXPECT_DOUBLE_EQ(e[0].ops_per_second, 3 / 0.1);
  EXPECT_EQ(e[0].max_ns, 3000u);
  EXPECT_EQ(e[1].ops, 0u);  // present, empty
  EXPECT_EQ(e[1].p99_ns, 0u);
  EXPECT_DOUBLE_EQ(e[1].t_start_s, 0.1);
  EXPECT_EQ(e[2].ops, 6u);
  EXPECT_EQ(e[2].errors, 2u);
  EXPECT_NEAR(e[2].seconds, 0.07, 1e-9);  // the partial last interval
  EXPECT_NEAR(e[2].ops_per_second, 4 / 0.07, 1e-6);
  EXPECT_EQ(e[2].max_ns, 5000u);  // failed ops carry no latency
}

TEST_F(TimelineTest, PercentilesAreOrderedAndWithinThePrecision) {
  {
    TimelineRecorder r(&timeline_);
    for (uint64_t v = 1; v <= 1000; ++v) r.Record(start_ + milliseconds(1), v * 1000, 1, 0);
  }
  const std::vector<TimelineEntry> e = timeline_.Entries(0.05);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].ops, 1000u);
  EXPECT_LE(e[0].p50_ns, e[0].p90_ns);
  EXPECT_LE(e[0].p90_ns, e[0].p99_ns);
  EXPECT_LE(e[0].p99_ns, e[0].max_ns);
  EXPECT_EQ(e[0].max_ns, 1000000u);
  const double bound = 1.0 / (1 << (Timeline::kPrecisionBits - 1));
  EXPECT_GE(e[0].p50_ns, 500000u);
  EXPECT_LE(static_cast<double>(e[0].p50_ns), 500000 * (1 + bound));
  EXPECT_GE(e[0].p99_ns, 990000u);
}

TEST_F(TimelineTest, LongPhasesCoalesceInsteadOfGrowing) {
  const size_t intervals = Timeline::kMaxEntries * 3;  // needs two doublings
  {
    TimelineRecorder r(&timeline_);
    for (size_t i = 0; i < intervals; ++i) {
      r.Record(start_ + milliseconds(100 * i + 50), 1000 + i, 2, 1);
    }
  }
  const double elapsed = 0.1 * static_cast<double>(intervals);
  const std::vector<TimelineEntry> e = timeline_.Entries(elapsed);
  EXPECT_LE(e.size(), Timeline::kMaxEntries);
  EXPECT_EQ(e.size(), (intervals + 3) / 4);  // width 4 intervals
  uint64_t ops = 0;
  for (const TimelineEntry& x : e) ops += x.ops;
  EXPECT_EQ(ops, 3 * intervals);
  EXPECT_NEAR(e[1].t_start_s, 0.4, 1e-9);
  EXPECT_NEAR(e.back().t_start_s + e.back().seconds, elapsed, 1e-9);
}

TEST_F(TimelineTest, NullTimelineRecordsNothingAndNoOpsMeansEmptyIntervals) {
  TimelineRecorder nothing(nullptr);
  nothing.Record(start_, 5, 1, 0);
  nothing.Flush();
  const std::vector<TimelineEntry> e = timeline_.Entries(0.25);
  ASSERT_EQ(e.size(), 3u);
  for (const TimelineEntry& x : e) EXPECT_EQ(x.ops, 0u);
  EXPECT_TRUE(timeline_.Entries(0).empty());
}

}  // namespace
}  // namespace memserver::memload
