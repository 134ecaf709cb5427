// EngineCollector: GlobalStats -> prometheus::MetricFamily, at scrape time.
#include "server/metrics/engine_collector.h"

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/engine.h"
#include "server/engine/types.h"

namespace memserver::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// a - b, or 0 when counters read at slightly different moments disagree.
uint64_t Minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

ClientMetric Sample(MetricType type, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

MetricFamily Family(std::string name, std::string help, MetricType type,
                    std::vector<ClientMetric> samples) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  f.metric = std::move(samples);
  return f;
}

MetricFamily Single(std::string name, std::string help, MetricType type, double value) {
  return Family(std::move(name), std::move(help), type, {Sample(type, value)});
}

// One sample per (label value, value) pair, all under `label`.
MetricFamily Labelled(std::string name, std::string help, MetricType type, const char* label,
                      std::vector<std::pair<const char*, double>> values) {
  std::vector<ClientMetric> samples;
  for (const auto& [label_value, value] : values) {
    samples.push_back(Sample(type, value, {{label, label_value}}));
  }
  return Family(std::move(name), std::move(help), type, std::move(samples));
}

// GlobalStats' per-bucket counts -> Prometheus' cumulative buckets. A counts
// vector of the wrong length (an engine built with other bounds) still gives
// a valid histogram: missing buckets count 0, extra ones go to +Inf.
MetricFamily FaultLatency(const GlobalStats& g) {
  constexpr size_t kBounds = std::size(kFaultLatencyBoundsUs);
  ClientMetric m;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds; ++i) {
    if (i < g.fault_latency_counts.size()) cumulative += g.fault_latency_counts[i];
    ClientMetric::Bucket b;
    b.upper_bound = kFaultLatencyBoundsUs[i] / 1e6;
    b.cumulative_count = cumulative;
    m.histogram.bucket.push_back(b);
  }
  for (size_t i = kBounds; i < g.fault_latency_counts.size(); ++i) {
    cumulative += g.fault_latency_counts[i];
  }
  ClientMetric::Bucket inf;
  inf.upper_bound = std::numeric_limits<double>::infinity();
  inf.cumulative_count = cumulative;
  m.histogram.bucket.push_back(inf);
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = g.fault_latency_sum_us / 1e6;
  return Family("memserver_fault_latency_seconds",
                "Time to bring a page into a frame on a fault (minor and major)",
                MetricType::Histogram, {std::move(m)});
}

class EngineCollector : public prometheus::Collectable {
 public:
  explicit EngineCollector(const Engine* engine) : engine_(engine) {}

  std::vector<MetricFamily> Collect() const override {
    const GlobalStats g = engine_->GetGlobalStats();
    constexpr MetricType kCounter = MetricType::Counter;
    constexpr MetricType kGauge = MetricType::Gauge;
    const uint64_t used = Minus(g.frames_total, g.frames_free);
    const uint64_t dirty = Minus(g.evictions, g.clean_evictions + g.zero_evictions);
    std::vector<MetricFamily> out;
    out.push_back(Labelled("memserver_faults_total", "Page faults served", kCounter, "kind",
                           {{"minor", double(g.minor_faults)}, {"major", double(g.major_faults)}}));
    out.push_back(Single("memserver_page_ins_total", "Pages read from the backing store",
                         kCounter, double(g.page_ins)));
    out.push_back(Single("memserver_page_outs_total", "Pages written to the backing store",
                         kCounter, double(g.page_outs)));
    out.push_back(Labelled("memserver_evictions_total",
                           "Frames reclaimed by the replacement policy, by what it cost: dirty "
                           "(written out), clean (swap copy current), zero (all-zero page)",
                           kCounter, "kind",
                           {{"dirty", double(dirty)},
                            {"clean", double(g.clean_evictions)},
                            {"zero", double(g.zero_evictions)}}));
    out.push_back(Single("memserver_readahead_pages_total",
                         "Pages read ahead of a sequential fault", kCounter,
                         double(g.readahead_pages)));
    out.push_back(Single("memserver_reclaim_runs_total", "Background reclaim passes", kCounter,
                         double(g.reclaim_runs)));
    out.push_back(Labelled("memserver_frames", "Frames of the pool by state", kGauge, "state",
                           {{"free", double(g.frames_free)},
                            {"used", double(Minus(used, g.locked_pages))},
                            {"locked", double(std::min(g.locked_pages, used))}}));
    out.push_back(Single("memserver_processes", "Live processes", kGauge, double(g.processes)));
    out.push_back(Single("memserver_pages", "Live pages (content that exists)", kGauge,
                         double(g.pages)));
    out.push_back(Single("memserver_swap_pages", "Pages with a copy in swap", kGauge,
                         double(g.swap_pages)));
    out.push_back(Single("memserver_files", "Files in the file store", kGauge, double(g.files)));
    out.push_back(Labelled("memserver_store_bytes_total", "Bytes moved by the backing store",
                           kCounter, "direction",
                           {{"written", double(g.store_bytes_written)},
                            {"read", double(g.store_bytes_read)}}));
    out.push_back(FaultLatency(g));
    out.push_back(Family("memserver_policy_info", "The page replacement policy in use", kGauge,
                         {Sample(kGauge, 1, {{"policy", g.policy}})}));
    return out;
  }

 private:
  const Engine* const engine_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> NewEngineCollector(const Engine* engine) {
  return std::make_shared<EngineCollector>(engine);
}

}  // namespace memserver::metrics
