// The engine's counters as Prometheus metrics, read at scrape time.
//
// NewEngineCollector returns a prometheus::Collectable whose Collect() calls
// Engine::GetGlobalStats() once and turns that one consistent-enough
// snapshot into these families (all prefixed memserver_):
//   faults_total{kind="minor"|"major"}               counter
//   page_ins_total, page_outs_total                   counter
//   evictions_total{kind="dirty"|"clean"|"zero"}      counter; dirty = those
//                                                     that wrote the page out
//   readahead_pages_total, reclaim_runs_total         counter
//   frames{state="free"|"used"|"locked"}              gauge; the three sum to
//                                                     the pool's frames (used
//                                                     excludes locked)
//   processes, pages, swap_pages, files               gauge
//   store_bytes_total{direction="written"|"read"}     counter (RocksDB)
//   fault_latency_seconds                             histogram, buckets
//                                                     kFaultLatencyBoundsUs
//                                                     in seconds, cumulative,
//                                                     +Inf bucket == _count
//   policy_info{policy="clock"}                       gauge, always 1
// Nothing is cached between scrapes; a scrape costs one GetGlobalStats().
#pragma once

#include <memory>

namespace prometheus {
class Collectable;
}

namespace memserver {
class Engine;
}

namespace memserver::metrics {

// `engine` (non-null) is borrowed: it must outlive every Collect() call, so
// remove the collector from wherever it is registered
// (MetricsServer::RemoveCollectable, or MetricsServer::Stop) before
// destroying the engine. Collect() is thread-safe.
std::shared_ptr<prometheus::Collectable> NewEngineCollector(const Engine* engine);

}  // namespace memserver::metrics
