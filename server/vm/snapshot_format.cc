#include "server/vm/snapshot_format.h"

#include "server/common/coding.h"

namespace memserver {

using coding::GetVarint;
using coding::PutVarint;

namespace {

constexpr uint64_t kVersion = 2;

bool Get32(std::string_view* in, uint32_t* v) {
  uint64_t x;
  if (!GetVarint(in, &x) || x > UINT32_MAX) return false;
  *v = static_cast<uint32_t>(x);
  return true;
}

}  // namespace

void EncodeVmas(const std::vector<VmaRecord>& vmas, std::string* out) {
  PutVarint(out, vmas.size());
  for (const VmaRecord& v : vmas) {
    PutVarint(out, v.start);
    PutVarint(out, v.end);
    PutVarint(out, v.prot);
    PutVarint(out, v.flags);
    PutVarint(out, v.vm);
    PutVarint(out, static_cast<uint32_t>(v.object_kind));
    PutVarint(out, v.object_id);
    PutVarint(out, v.pgoff);
  }
}

bool DecodeVmas(std::string_view* in, std::vector<VmaRecord>* vmas) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;  // each takes >= 8 bytes
  vmas->resize(n);
  for (VmaRecord& v : *vmas) {
    uint32_t kind;
    if (!GetVarint(in, &v.start) || !GetVarint(in, &v.end) || !Get32(in, &v.prot) || !Get32(in, &v.flags) ||
        !Get32(in, &v.vm) || !Get32(in, &kind) || kind > 2 || !GetVarint(in, &v.object_id) ||
        !GetVarint(in, &v.pgoff)) {
      return false;
    }
    v.object_kind = static_cast<ObjectKind>(kind);
  }
  return true;
}

void EncodeAddressSpace(const AddressSpaceRecord& r, std::string* out) {
  PutVarint(out, kVersion);
  PutVarint(out, r.limits.as);
  PutVarint(out, r.limits.data);
  PutVarint(out, r.limits.stack);
  PutVarint(out, r.limits.memlock);
  PutVarint(out, r.brk_start);
  PutVarint(out, r.brk);
  PutVarint(out, r.lock_future ? 1 : 0);
  EncodeVmas(r.vmas, out);
}

bool DecodeAddressSpace(std::string_view* in, AddressSpaceRecord* r) {
  uint64_t version, lock_future;
  if (!GetVarint(in, &version) || version != kVersion) return false;
  if (!GetVarint(in, &r->limits.as) || !GetVarint(in, &r->limits.data) || !GetVarint(in, &r->limits.stack) ||
      !GetVarint(in, &r->limits.memlock) || !GetVarint(in, &r->brk_start) || !GetVarint(in, &r->brk) ||
      !GetVarint(in, &lock_future) || lock_future > 1) {
    return false;
  }
  r->lock_future = lock_future != 0;
  return DecodeVmas(in, &r->vmas);
}

void EncodePages(const PageRef* begin, const PageRef* end, uint64_t base, std::string* out) {
  PutVarint(out, static_cast<uint64_t>(end - begin));
  for (const PageRef* p = begin; p != end; ++p) {
    // The zero flag rides in the low bit of the relative key.
    PutVarint(out, ((p->key - base) << 1) | (p->zero ? 1 : 0));
    PutVarint(out, p->id);
  }
}

bool DecodePages(std::string_view* in, uint64_t base, std::vector<PageRef>* pages) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size() / 2) return false;  // each entry takes >= 2 bytes
  pages->reserve(pages->size() + n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t key, id;
    if (!GetVarint(in, &key) || !GetVarint(in, &id) || id == 0) return false;
    pages->push_back(PageRef{base + (key >> 1), id, (key & 1) != 0});
  }
  return true;
}

}  // namespace memserver
