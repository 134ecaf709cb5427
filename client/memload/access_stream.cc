#include "client/memload/access_stream.h"

#include <algorithm>
#include <cassert>

namespace memserver::memload {

namespace {

bool NextIsWrite(Rng& rng, double read_ratio) {
  if (read_ratio >= 1.0) return false;
  if (read_ratio <= 0.0) return true;
  return rng.UniformDouble() >= read_ratio;
}

class SyntheticStream final : public AccessStream {
 public:
  SyntheticStream(const Region& region, const ItemGeometry& geometry,
                  std::unique_ptr<KeyGenerator> keys, const OpMix& mix, uint64_t seed)
      : region_(region), geometry_(geometry), keys_(std::move(keys)), mix_(mix), rng_(seed) {}

  bool Next(double elapsed_seconds, Access* access) override {
    const uint64_t item = keys_->Next(rng_, elapsed_seconds);
    const uint64_t slot =
        geometry_.slots_per_item > 1 ? rng_.Uniform(geometry_.slots_per_item) : 0;
    access->pid = region_.pid;
    access->addr = region_.base + item * geometry_.item_bytes + slot * mix_.access_bytes;
    access->length = mix_.access_bytes;
    access->write = NextIsWrite(rng_, mix_.read_ratio);
    return true;
  }

 private:
  const Region region_;
  const ItemGeometry geometry_;
  const std::unique_ptr<KeyGenerator> keys_;
  const OpMix mix_;
  Rng rng_;
};

class TraceStream final : public AccessStream {
 public:
  TraceStream(const Region& region, const BlockTrace& trace, TraceCursor* cursor,
              uint64_t page_size, const OpMix& mix, uint64_t seed)
      : region_(region),
        trace_(trace),
        cursor_(cursor),
        page_size_(page_size),
        mix_(mix),
        rng_(seed) {}

  bool Next(double, Access* access) override {
    uint64_t index = 0;
    if (!cursor_->Claim(&index)) return false;
    access->pid = region_.pid;
    access->addr = region_.base + trace_.blocks[index] * page_size_;
    access->length = mix_.access_bytes;
    access->write = NextIsWrite(rng_, mix_.read_ratio);
    return true;
  }

 private:
  const Region region_;
  const BlockTrace& trace_;
  TraceCursor* const cursor_;
  const uint64_t page_size_;
  const OpMix mix_;
  Rng rng_;
};

}  // namespace

ItemGeometry ComputeGeometry(Workload workload, uint64_t region_bytes, uint64_t page_size,
                             uint64_t access_bytes) {
  assert(access_bytes > 0 && access_bytes <= region_bytes && page_size > 0);
  ItemGeometry g;
  if (workload != Workload::kSequential && access_bytes < page_size) {
    // Items are pages (a region smaller than a page is one partial page).
    g.item_bytes = page_size;
    g.items = std::max<uint64_t>(1, region_bytes / page_size);
    g.slots_per_item = std::min(page_size, region_bytes) / access_bytes;
  } else {
    g.item_bytes = access_bytes;
    g.items = region_bytes / access_bytes;
    g.slots_per_item = 1;
  }
  return g;
}

std::unique_ptr<AccessStream> MakeSyntheticStream(const Region& region,
                                                  const ItemGeometry& geometry,
                                                  std::unique_ptr<KeyGenerator> keys,
                                                  const OpMix& mix, uint64_t seed) {
  return std::make_unique<SyntheticStream>(region, geometry, std::move(keys), mix, seed);
}

std::unique_ptr<AccessStream> MakeTraceStream(const Region& region, const BlockTrace& trace,
                                              TraceCursor* cursor, uint64_t page_size,
                                              const OpMix& mix, uint64_t seed) {
  return std::make_unique<TraceStream>(region, trace, cursor, page_size, mix, seed);
}

}  // namespace memserver::memload
