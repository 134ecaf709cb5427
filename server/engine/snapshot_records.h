// The engine's durable records in Space::kMeta: snapshots, the journal of
// msync'd ranges and exits since the last snapshot, reservations and the
// crash report. Decoders reject truncated or trailing input.
//
// Keys (be64 = 8-byte big-endian, so keys sort numerically):
//   snap/meta                       SnapshotMeta of the committed snapshot
//   snap/proc/<be64 pid>            ProcessRecord
//   snap/pt/<be64 pid><be64 chunk>  the process's private pages of one chunk
//   snap/shm/<be64 id>              a shared memory object's size
//   snap/spt/<be64 id><be64 chunk>  its pages of one chunk
//   jr/<be64 seq>                   JournalRecord, newer than the snapshot
//   live/<be64 pid>                 name of every live process (crash report)
//   lost/<be64 pid>                 LostRecord: a process a crash lost
//   res/pid, res/page               be64 reservation marks: no pid or page id
//                                   below the mark is ever handed out again
//   run/active                      present while a server runs on the store
//   ckpt/...                        the checkpoint format before snapshots
//                                   (read once, then replaced)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/types.h"
#include "server/vm/snapshot_format.h"

namespace memserver::records {

inline constexpr std::string_view kSnapMeta = "snap/meta";
inline constexpr std::string_view kProcPrefix = "snap/proc/";
inline constexpr std::string_view kPagesPrefix = "snap/pt/";
inline constexpr std::string_view kShmPrefix = "snap/shm/";
inline constexpr std::string_view kShmPagesPrefix = "snap/spt/";
inline constexpr std::string_view kJournalPrefix = "jr/";
inline constexpr std::string_view kLivePrefix = "live/";
inline constexpr std::string_view kLostPrefix = "lost/";
inline constexpr std::string_view kPidMark = "res/pid";
inline constexpr std::string_view kPageIdMark = "res/page";
inline constexpr std::string_view kActive = "run/active";

std::string Key(std::string_view prefix, uint64_t a);
std::string Key(std::string_view prefix, uint64_t a, uint64_t b);
// The ids after `prefix` in a key made by Key; false when it is malformed.
bool ParseKey(std::string_view key, std::string_view prefix, uint64_t* a);
bool ParseKey(std::string_view key, std::string_view prefix, uint64_t* a, uint64_t* b);

std::string EncodeU64(uint64_t v);
bool DecodeU64(std::string_view in, uint64_t* v);

struct SnapshotMeta {
  uint64_t generation = 0;
  int64_t taken_unix_ms = 0;     // the snapshot's instant, wall clock
  uint64_t page_id_floor = 0;    // every page id handed out before the instant is below it
  uint64_t journal_seq = 0;      // journal records up to this one are in the snapshot
  uint64_t next_pid = 0;
  uint64_t next_object_id = 0;
  uint64_t processes = 0;
};
std::string EncodeMeta(const SnapshotMeta& m);
bool DecodeMeta(std::string_view in, SnapshotMeta* m);

struct ProcessRecord {
  Pid parent = 0;
  std::string name;
  std::string owner;  // tenant; "" without tenants
  uint64_t lease_ms = 0;
  std::string heap;   // HeapAllocator::Export()
  AddressSpaceRecord mm;
};
std::string EncodeProcess(const ProcessRecord& r);
bool DecodeProcess(std::string_view in, ProcessRecord* r);

// What one msync made durable (one mapping piece at most), or an exit.
struct JournalRecord {
  enum class Kind : uint32_t { kSync = 1, kExit = 2 };
  Kind kind = Kind::kSync;
  Pid pid = 0;
  int64_t unix_ms = 0;
  // kSync: the process's identity, for a process no snapshot holds yet.
  Pid parent = 0;
  std::string name;
  std::string owner;
  uint64_t lease_ms = 0;
  // kSync: [start, end) of the address space now reads as `vmas` (clipped to
  // it) over `pages` (private pages, by vpn) and, for a shared anonymous
  // mapping, the object's pages [object_first, object_end) as `object_pages`.
  uint64_t start = 0, end = 0;
  std::vector<VmaRecord> vmas;
  std::vector<PageRef> pages;
  uint64_t object_id = 0;  // 0: none
  uint64_t object_size = 0;
  uint64_t object_first = 0, object_end = 0;
  std::vector<PageRef> object_pages;
};
std::string EncodeJournal(const JournalRecord& r);
bool DecodeJournal(std::string_view in, JournalRecord* r);

struct LostRecord {
  std::string name;
  int64_t crashed_unix_ms = 0;  // when the start-up that found it lost ran
};
std::string EncodeLost(const LostRecord& r);
bool DecodeLost(std::string_view in, LostRecord* r);

}  // namespace memserver::records
