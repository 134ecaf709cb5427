#include "server/metrics/tenant_collector.h"

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <vector>

#include "server/engine/engine.h"

namespace memserver::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Gauge(std::string name, std::string help) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = MetricType::Gauge;
  return f;
}

void Add(MetricFamily* f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f->metric.push_back(std::move(m));
}

class TenantCollector final : public prometheus::Collectable {
 public:
  TenantCollector(const Engine* engine, TenantOpenCountsFn open) : engine_(engine), open_(std::move(open)) {}

  std::vector<MetricFamily> Collect() const override {
    MetricFamily processes = Gauge("memserver_tenant_processes", "Live processes of the tenant");
    MetricFamily files = Gauge("memserver_tenant_files", "Files in the tenant's namespace");
    MetricFamily bytes = Gauge("memserver_tenant_file_bytes", "Bytes of the tenant's files (their sizes)");
    MetricFamily locked = Gauge("memserver_tenant_locked_bytes", "Bytes of the tenant's locked mappings");
    MetricFamily resident = Gauge("memserver_tenant_resident_bytes", "Bytes of frames the tenant's faults hold");
    MetricFamily swap = Gauge("memserver_tenant_swap_bytes", "Bytes of the tenant's pages held in swap");
    MetricFamily streams = Gauge("memserver_tenant_streams", "AccessStreams the tenant has open");
    MetricFamily calls = Gauge("memserver_tenant_calls_in_flight", "Unary calls of the tenant in flight");
    MetricFamily quota = Gauge("memserver_tenant_quota", "The tenant's quotas that are set (tenants file)");
    auto quota_sample = [&](const std::string& tenant, const char* name, uint64_t limit) {
      if (limit != kUnlimited) Add(&quota, {{"tenant", tenant}, {"quota", name}}, double(limit));
    };
    for (const TenantUsage& u : engine_->TenantUsages()) {
      if (u.owner.empty()) continue;
      auto used = [&](TenantResource r) { return double(u.used[static_cast<int>(r)]); };
      Add(&processes, {{"tenant", u.owner}}, used(TenantResource::kProcesses));
      Add(&files, {{"tenant", u.owner}}, used(TenantResource::kFiles));
      Add(&bytes, {{"tenant", u.owner}}, used(TenantResource::kFileBytes));
      Add(&locked, {{"tenant", u.owner}}, used(TenantResource::kLockedBytes));
      Add(&resident, {{"tenant", u.owner}}, used(TenantResource::kResidentBytes));
      Add(&swap, {{"tenant", u.owner}}, used(TenantResource::kSwapBytes));
      for (TenantResource r : {TenantResource::kProcesses, TenantResource::kFileBytes, TenantResource::kFiles,
                               TenantResource::kLockedBytes, TenantResource::kResidentBytes,
                               TenantResource::kSwapBytes}) {
        quota_sample(u.owner, TenantQuotaName(r), u.limit[static_cast<int>(r)]);
      }
    }
    if (open_) {
      for (const auto& [tenant, open] : open_()) {
        if (tenant.empty()) continue;
        Add(&streams, {{"tenant", tenant}}, double(open.streams));
        Add(&calls, {{"tenant", tenant}}, double(open.calls));
        quota_sample(tenant, "max_streams", open.max_streams);
        quota_sample(tenant, "max_calls", open.max_calls);
      }
    }
    return {processes, files, bytes, locked, resident, swap, streams, calls, quota};
  }

 private:
  const Engine* const engine_;
  const TenantOpenCountsFn open_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> NewTenantCollector(const Engine* engine, TenantOpenCountsFn open) {
  return std::make_shared<TenantCollector>(engine, std::move(open));
}

}  // namespace memserver::metrics
