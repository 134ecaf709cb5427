#include "server/engine/journal.h"

#include <fmt/format.h>

#include <chrono>

#include "server/vm/memory_object.h"

namespace memserver {

namespace {

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Journal::AddSync(const records::JournalRecord& identity, const AddressSpace::SyncedPiece& piece,
                      Pager::SyncBatch* batch) {
  records::JournalRecord r = identity;
  r.kind = records::JournalRecord::Kind::kSync;
  r.unix_ms = UnixMs();
  r.start = piece.start;
  r.end = piece.end;
  r.vmas = {piece.vma};
  r.pages = piece.pages;
  if (piece.object != nullptr) {
    r.object_id = piece.object->id();
    r.object_size = piece.object->size();
    r.object_first = piece.object_first;
    r.object_end = piece.object_end;
    r.object_pages = piece.object_pages;
  }
  const uint64_t seq = last_seq_.fetch_add(1) + 1;
  batch->values.push_back(std::make_unique<std::string>(records::EncodeJournal(r)));
  batch->wb.Put(storage::Space::kMeta, records::Key(records::kJournalPrefix, seq), *batch->values.back());
}

Status Journal::RecordExit(Pid pid) {
  records::JournalRecord r;
  r.kind = records::JournalRecord::Kind::kExit;
  r.pid = pid;
  r.unix_ms = UnixMs();
  const std::string value = records::EncodeJournal(r);
  storage::WriteBatch wb;
  wb.Put(storage::Space::kMeta, records::Key(records::kJournalPrefix, last_seq_.fetch_add(1) + 1), value);
  wb.Delete(storage::Space::kMeta, records::Key(records::kLivePrefix, pid));
  return store_->Write(wb, /*sync=*/false);
}

Status Journal::Load(uint64_t after, std::vector<std::pair<uint64_t, records::JournalRecord>>* out) {
  Status bad;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kJournalPrefix,
                                         [&](std::string_view key, std::string_view value) {
                                           uint64_t seq;
                                           records::JournalRecord r;
                                           if (!records::ParseKey(key, records::kJournalPrefix, &seq) ||
                                               !records::DecodeJournal(value, &r)) {
                                             bad = Status(StatusCode::kDataLoss, "a journal record is corrupt", "EIO");
                                             return false;
                                           }
                                           if (seq > after) out->emplace_back(seq, std::move(r));
                                           return true;
                                         }));
  return bad;
}

}  // namespace memserver
