// KeyIndex: a fixed-capacity hash index from 64-bit keys to dense uint32 ids
// whose keys live in the caller's array (keys[id]), e.g. LIRS's non-resident
// entries. A slot holds only the id: 4 bytes.
//
// Guarantees:
//   - Open addressing with linear probing over a power-of-two table of at
//     least 2 * max_ids slots, so the load factor never exceeds 0.5 while at
//     most max_ids keys are held. Keys hash by Fibonacci hashing.
//   - Erase shifts the following entries of the probe run back (no
//     tombstones): probe lengths depend only on what is held now, never on
//     past erases.
//   - Allocates only in the constructor; Find, Insert and Erase never do.
//   - Not thread-safe: callers hold their own lock.
// Cost: 4 * bit_ceil(2 * max_ids) bytes, between 8 and 16 bytes per id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "server/frames/index_list.h"

namespace memserver {

class KeyIndex {
 public:
  // Room for `max_ids` keys (>= 1). `keys` is borrowed and outlives the
  // index; keys[id] is the key of id.
  // REQUIRES: keys[id] does not change while id is held.
  KeyIndex(uint32_t max_ids, const uint64_t* keys);
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // The id held for `key`, or kNilIndex.
  uint32_t Find(uint64_t key) const;

  // Maps keys[id] to id, replacing the id it mapped to, if any (like
  // std::unordered_map's operator[]).
  // REQUIRES: id != kNilIndex; size() < max_ids() unless keys[id] is held.
  void Insert(uint32_t id);

  // Unmaps keys[id] if it maps to id (not if another id replaced it).
  // Returns whether it did.
  bool Erase(uint32_t id);

  uint32_t size() const { return size_; }
  uint32_t max_ids() const { return max_ids_; }
  size_t slot_count() const { return slots_.size(); }
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(uint32_t); }

  // Introspection for tests: where `key`'s probe run starts, and the id in
  // a slot (kNilIndex when empty).
  size_t HomeSlot(uint64_t key) const;
  uint32_t IdAt(size_t slot) const { return slots_[slot]; }

 private:
  // Slot holding keys[id] == key, or the empty slot ending its probe run.
  size_t SlotOf(uint64_t key) const;

  const uint32_t max_ids_;
  const uint64_t* const keys_;  // not owned
  const size_t mask_;           // slot_count() - 1
  const int shift_;             // 64 - log2(slot_count())
  std::vector<uint32_t> slots_; // id, or kNilIndex when empty
  uint32_t size_ = 0;
};

}  // namespace memserver
