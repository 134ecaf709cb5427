#include "server/engine/snapshot_records.h"

#include "server/common/coding.h"
#include "server/vm/store_keys.h"

namespace memserver::records {

using coding::GetString;
using coding::GetVarint;
using coding::PutString;
using coding::PutVarint;

namespace {

constexpr uint64_t kMetaVersion = 1;
constexpr uint64_t kProcessVersion = 1;
constexpr uint64_t kJournalVersion = 1;

void PutSigned(std::string* out, int64_t v) { PutVarint(out, static_cast<uint64_t>(v)); }
bool GetSigned(std::string_view* in, int64_t* v) {
  uint64_t x;
  if (!GetVarint(in, &x)) return false;
  *v = static_cast<int64_t>(x);
  return true;
}

}  // namespace

std::string Key(std::string_view prefix, uint64_t a) {
  std::string k(prefix);
  keys::AppendBE(&k, a, 8);
  return k;
}

std::string Key(std::string_view prefix, uint64_t a, uint64_t b) {
  std::string k = Key(prefix, a);
  keys::AppendBE(&k, b, 8);
  return k;
}

bool ParseKey(std::string_view key, std::string_view prefix, uint64_t* a) {
  if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) return false;
  *a = keys::ReadBE(key, prefix.size(), 8);
  return true;
}

bool ParseKey(std::string_view key, std::string_view prefix, uint64_t* a, uint64_t* b) {
  if (key.size() != prefix.size() + 16 || !key.starts_with(prefix)) return false;
  *a = keys::ReadBE(key, prefix.size(), 8);
  *b = keys::ReadBE(key, prefix.size() + 8, 8);
  return true;
}

std::string EncodeU64(uint64_t v) {
  std::string out;
  keys::AppendBE(&out, v, 8);
  return out;
}

bool DecodeU64(std::string_view in, uint64_t* v) {
  if (in.size() != 8) return false;
  *v = keys::ReadBE(in, 0, 8);
  return true;
}

std::string EncodeMeta(const SnapshotMeta& m) {
  std::string out;
  PutVarint(&out, kMetaVersion);
  PutVarint(&out, m.generation);
  PutSigned(&out, m.taken_unix_ms);
  PutVarint(&out, m.page_id_floor);
  PutVarint(&out, m.journal_seq);
  PutVarint(&out, m.next_pid);
  PutVarint(&out, m.next_object_id);
  PutVarint(&out, m.processes);
  return out;
}

bool DecodeMeta(std::string_view in, SnapshotMeta* m) {
  uint64_t version;
  return GetVarint(&in, &version) && version == kMetaVersion && GetVarint(&in, &m->generation) &&
         GetSigned(&in, &m->taken_unix_ms) && GetVarint(&in, &m->page_id_floor) && GetVarint(&in, &m->journal_seq) &&
         GetVarint(&in, &m->next_pid) && GetVarint(&in, &m->next_object_id) && GetVarint(&in, &m->processes) &&
         in.empty();
}

std::string EncodeProcess(const ProcessRecord& r) {
  std::string out;
  PutVarint(&out, kProcessVersion);
  PutVarint(&out, r.parent);
  PutString(&out, r.name);
  PutString(&out, r.owner);
  PutVarint(&out, r.lease_ms);
  PutString(&out, r.heap);
  EncodeAddressSpace(r.mm, &out);
  return out;
}

bool DecodeProcess(std::string_view in, ProcessRecord* r) {
  uint64_t version;
  return GetVarint(&in, &version) && version == kProcessVersion && GetVarint(&in, &r->parent) &&
         GetString(&in, &r->name) && GetString(&in, &r->owner) && GetVarint(&in, &r->lease_ms) &&
         GetString(&in, &r->heap) && DecodeAddressSpace(&in, &r->mm) && in.empty();
}

std::string EncodeJournal(const JournalRecord& r) {
  std::string out;
  PutVarint(&out, kJournalVersion);
  PutVarint(&out, static_cast<uint32_t>(r.kind));
  PutVarint(&out, r.pid);
  PutSigned(&out, r.unix_ms);
  if (r.kind == JournalRecord::Kind::kExit) return out;
  PutVarint(&out, r.parent);
  PutString(&out, r.name);
  PutString(&out, r.owner);
  PutVarint(&out, r.lease_ms);
  PutVarint(&out, r.start);
  PutVarint(&out, r.end);
  EncodeVmas(r.vmas, &out);
  EncodePages(r.pages.data(), r.pages.data() + r.pages.size(), 0, &out);
  PutVarint(&out, r.object_id);
  PutVarint(&out, r.object_size);
  PutVarint(&out, r.object_first);
  PutVarint(&out, r.object_end);
  EncodePages(r.object_pages.data(), r.object_pages.data() + r.object_pages.size(), 0, &out);
  return out;
}

bool DecodeJournal(std::string_view in, JournalRecord* r) {
  uint64_t version, kind;
  if (!GetVarint(&in, &version) || version != kJournalVersion || !GetVarint(&in, &kind) || kind < 1 || kind > 2 ||
      !GetVarint(&in, &r->pid) || !GetSigned(&in, &r->unix_ms)) {
    return false;
  }
  r->kind = static_cast<JournalRecord::Kind>(kind);
  if (r->kind == JournalRecord::Kind::kExit) return in.empty();
  return GetVarint(&in, &r->parent) && GetString(&in, &r->name) && GetString(&in, &r->owner) &&
         GetVarint(&in, &r->lease_ms) && GetVarint(&in, &r->start) && GetVarint(&in, &r->end) &&
         r->start < r->end && DecodeVmas(&in, &r->vmas) && DecodePages(&in, 0, &r->pages) &&
         GetVarint(&in, &r->object_id) && GetVarint(&in, &r->object_size) && GetVarint(&in, &r->object_first) &&
         GetVarint(&in, &r->object_end) && r->object_first <= r->object_end &&
         DecodePages(&in, 0, &r->object_pages) && in.empty();
}

std::string EncodeLost(const LostRecord& r) {
  std::string out;
  PutString(&out, r.name);
  PutSigned(&out, r.crashed_unix_ms);
  return out;
}

bool DecodeLost(std::string_view in, LostRecord* r) {
  return GetString(&in, &r->name) && GetSigned(&in, &r->crashed_unix_ms) && in.empty();
}

}  // namespace memserver::records
