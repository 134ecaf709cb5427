// Each tenant's use and quotas as Prometheus metrics, read at scrape time,
// every family labelled `tenant` (only named tenants: the no-tenant owner ""
// is left out):
//   memserver_tenant_processes, _files, _file_bytes, _locked_bytes   gauge (engine)
//   memserver_tenant_streams, _calls_in_flight                       gauge (service)
//   memserver_tenant_quota{quota="max_processes"|...}                 gauge; only
//                                                                     quotas that are set
// Per tenant the cost is a handful of samples; the number of tenants is
// bounded by the tenants file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace prometheus {
class Collectable;
}

namespace memserver {
class Engine;
}

namespace memserver::metrics {

// What the service holds open per tenant now.
struct TenantOpenCounts {
  uint64_t calls = 0;
  uint64_t streams = 0;
  uint64_t max_calls = ~0ull;  // the tenant's quotas (~0: none)
  uint64_t max_streams = ~0ull;
};
using TenantOpenCountsFn = std::function<std::map<std::string, TenantOpenCounts>()>;

// `engine` is borrowed as for NewEngineCollector; `open` (may be empty) is
// called once per scrape, from the metrics thread.
std::shared_ptr<prometheus::Collectable> NewTenantCollector(const Engine* engine, TenantOpenCountsFn open);

}  // namespace memserver::metrics
