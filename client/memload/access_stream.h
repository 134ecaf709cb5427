// Access streams: the sequence of Reads and Writes one worker issues.
//
// A synthetic stream maps the items of a KeyGenerator onto one process's
// region (ItemGeometry below); a trace stream replays a BlockTrace, the
// workers sharing one TraceCursor so that accesses are dealt out in trace
// order to whichever worker is free (round-robin when all run at the same
// speed), each exactly once.
//
// Guarantee: every access lies inside its region: base <= addr and
// addr + length <= base + region bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "client/memload/key_generator.h"
#include "client/memload/random.h"
#include "client/memload/trace.h"

namespace memserver::memload {

struct Access {
  uint64_t pid = 0;
  uint64_t addr = 0;
  uint64_t length = 0;
  bool write = false;
};

// The mmapped range of one process that a stream accesses.
struct Region {
  uint64_t pid = 0;
  uint64_t base = 0;
  uint64_t bytes = 0;
};

// How a region is cut into items. An access smaller than a page picks a
// page as its item and then one of the access-aligned slots inside it, so
// the key distribution is a distribution over pages; a larger access makes
// each access-sized chunk an item. Sequential walks access-sized slots, so it
// touches every byte of the region in order.
struct ItemGeometry {
  uint64_t item_bytes = 0;      // distance between consecutive items
  uint64_t items = 0;           // items in the region (> 0)
  uint64_t slots_per_item = 1;  // access-aligned offsets inside an item
};
// Access i of item k starts at k * item_bytes + slot * access_bytes, slot <
// slots_per_item, and ends inside the region.

// REQUIRES: access_bytes <= region_bytes, page_size > 0.
ItemGeometry ComputeGeometry(Workload workload, uint64_t region_bytes, uint64_t page_size,
                             uint64_t access_bytes);

class AccessStream {
 public:
  virtual ~AccessStream() = default;
  // The next access; false when the stream is exhausted (a synthetic stream
  // never is). `elapsed_seconds` is the time since the run started.
  virtual bool Next(double elapsed_seconds, Access* access) = 0;
};

// Whether each access is a read (probability read_ratio) or a write.
struct OpMix {
  double read_ratio = 1.0;
  uint64_t access_bytes = 4096;
};

std::unique_ptr<AccessStream> MakeSyntheticStream(const Region& region,
                                                  const ItemGeometry& geometry,
                                                  std::unique_ptr<KeyGenerator> keys,
                                                  const OpMix& mix, uint64_t seed);

// Hands out the indexes of a trace's accesses, each exactly once, in order.
// Thread-safe.
class TraceCursor {
 public:
  explicit TraceCursor(uint64_t size) : size_(size) {}
  bool Claim(uint64_t* index) {
    const uint64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= size_) return false;
    *index = i;
    return true;
  }

 private:
  const uint64_t size_;
  std::atomic<uint64_t> next_{0};
};

// Block b of `trace` is the access at region.base + b * page_size.
// REQUIRES: region.bytes >= trace.max_block * page_size + mix.access_bytes;
// `trace` and `cursor` outlive the stream.
std::unique_ptr<AccessStream> MakeTraceStream(const Region& region, const BlockTrace& trace,
                                              TraceCursor* cursor, uint64_t page_size,
                                              const OpMix& mix, uint64_t seed);

}  // namespace memserver::memload
