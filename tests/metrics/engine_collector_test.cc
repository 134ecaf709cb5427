// EngineCollector over a real Engine: after paging through more memory than
// it has frames, every family reports what GetGlobalStats() reports, and the
// fault latency histogram is a valid cumulative Prometheus histogram.
#include "server/metrics/engine_collector.h"

#include <gtest/gtest.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <string>

#include "tests/metrics/engine_fixture.h"
#include "tests/metrics/exposition.h"

namespace memserver::metrics {
namespace {

using testutil::ParseExposition;
using testutil::Value;

class EngineCollectorTest : public MetricsEngineTest {
 protected:
  std::map<std::string, double> Scrape() {
    auto collector = NewEngineCollector(engine_.get());
    text_ = prometheus::TextSerializer().Serialize(collector->Collect());
    return ParseExposition(text_);
  }
  std::string text_;  // the last scrape, for failure messages
};

TEST_F(EngineCollectorTest, CountersMatchTheEngineAfterEvictions) {
  PageThrough(4 * kFrames);
  const GlobalStats g = engine_->GetGlobalStats();
  ASSERT_GT(g.page_outs, 0u);
  ASSERT_GT(g.evictions, 0u);
  const auto s = Scrape();
  EXPECT_GT(Value(s, "memserver_page_outs_total"), 0) << text_;
  EXPECT_EQ(Value(s, "memserver_page_outs_total"), double(g.page_outs)) << text_;
  EXPECT_EQ(Value(s, "memserver_page_ins_total"), double(g.page_ins)) << text_;
  EXPECT_EQ(Value(s, "memserver_faults_total{kind=\"minor\"}"), double(g.minor_faults));
  EXPECT_EQ(Value(s, "memserver_faults_total{kind=\"major\"}"), double(g.major_faults));
  EXPECT_GT(Value(s, "memserver_faults_total{kind=\"major\"}"), 0) << text_;
  EXPECT_EQ(Value(s, "memserver_processes"), 1);
  EXPECT_EQ(Value(s, "memserver_pages"), double(g.pages));
  EXPECT_EQ(Value(s, "memserver_swap_pages"), double(g.swap_pages));
  EXPECT_EQ(Value(s, "memserver_files"), double(g.files));
  EXPECT_EQ(Value(s, "memserver_store_bytes_total{direction=\"written\"}"),
            double(g.store_bytes_written));
  EXPECT_GT(Value(s, "memserver_store_bytes_total{direction=\"written\"}"), 0) << text_;
  EXPECT_EQ(Value(s, "memserver_store_bytes_total{direction=\"read\"}"),
            double(g.store_bytes_read));
  EXPECT_EQ(Value(s, "memserver_policy_info{policy=\"" + g.policy + "\"}"), 1) << text_;
}

TEST_F(EngineCollectorTest, EvictionKindsSumToEvictions) {
  PageThrough(4 * kFrames);
  const GlobalStats g = engine_->GetGlobalStats();
  const auto s = Scrape();
  const double dirty = Value(s, "memserver_evictions_total{kind=\"dirty\"}");
  const double clean = Value(s, "memserver_evictions_total{kind=\"clean\"}");
  const double zero = Value(s, "memserver_evictions_total{kind=\"zero\"}");
  EXPECT_EQ(dirty + clean + zero, double(g.evictions)) << text_;
  EXPECT_EQ(clean, double(g.clean_evictions));
  EXPECT_EQ(zero, double(g.zero_evictions));
  EXPECT_GT(dirty, 0) << "every page written was non-zero and new: some were written out";
}

TEST_F(EngineCollectorTest, FrameStatesSumToThePool) {
  PageThrough(2 * kFrames);
  const auto s = Scrape();
  const double free = Value(s, "memserver_frames{state=\"free\"}");
  const double used = Value(s, "memserver_frames{state=\"used\"}");
  const double locked = Value(s, "memserver_frames{state=\"locked\"}");
  ASSERT_GE(free, 0) << text_;
  ASSERT_GE(used, 0) << text_;
  ASSERT_GE(locked, 0) << text_;
  EXPECT_EQ(free + used + locked, double(kFrames)) << text_;
  EXPECT_GT(used, 0) << text_;
}

TEST_F(EngineCollectorTest, FaultLatencyIsACumulativeHistogramMatchingTheEngine) {
  PageThrough(4 * kFrames);
  const GlobalStats g = engine_->GetGlobalStats();
  const auto s = Scrape();
  const double count = Value(s, "memserver_fault_latency_seconds_count");
  const double inf = Value(s, "memserver_fault_latency_seconds_bucket{le=\"+Inf\"}");
  EXPECT_GT(count, 0) << text_;
  EXPECT_EQ(inf, count) << text_;
  uint64_t total = 0;
  for (uint64_t c : g.fault_latency_counts) total += c;
  EXPECT_EQ(count, double(total));
  EXPECT_NEAR(Value(s, "memserver_fault_latency_seconds_sum"), g.fault_latency_sum_us / 1e6,
              1e-9);
  // Buckets in seconds, never decreasing, each the sum of the engine's
  // per-bucket counts up to its bound.
  auto collector = NewEngineCollector(engine_.get());
  bool found = false;
  for (const auto& family : collector->Collect()) {
    if (family.name != "memserver_fault_latency_seconds") continue;
    found = true;
    ASSERT_EQ(family.type, prometheus::MetricType::Histogram);
    const auto& buckets = family.metric.at(0).histogram.bucket;
    ASSERT_EQ(buckets.size(), std::size(kFaultLatencyBoundsUs) + 1);
    uint64_t expect = 0;
    for (size_t i = 0; i < std::size(kFaultLatencyBoundsUs); ++i) {
      if (i < g.fault_latency_counts.size()) expect += g.fault_latency_counts[i];
      EXPECT_DOUBLE_EQ(buckets[i].upper_bound, kFaultLatencyBoundsUs[i] / 1e6);
      EXPECT_EQ(buckets[i].cumulative_count, expect) << "bucket " << i;
      if (i > 0) {
        EXPECT_GE(buckets[i].cumulative_count, buckets[i - 1].cumulative_count);
      }
    }
    EXPECT_TRUE(std::isinf(buckets.back().upper_bound));
    EXPECT_EQ(buckets.back().cumulative_count, total);
  }
  EXPECT_TRUE(found) << text_;
}

TEST_F(EngineCollectorTest, ScrapesFollowTheEngine) {
  const auto before = Scrape();
  EXPECT_EQ(Value(before, "memserver_page_outs_total"), 0) << text_;
  EXPECT_EQ(Value(before, "memserver_processes"), 0) << text_;
  PageThrough(4 * kFrames);
  EXPECT_GT(Value(Scrape(), "memserver_page_outs_total"), 0) << text_;
}

}  // namespace
}  // namespace memserver::metrics
