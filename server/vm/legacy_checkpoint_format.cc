#include "server/vm/legacy_checkpoint_format.h"

#include "server/common/coding.h"

namespace memserver::legacy {

using coding::GetVarint;
using coding::PutVarint;

namespace {

void EncodePages(const std::vector<PageRef>& pages, std::string* out) {
  PutVarint(out, pages.size());
  for (const PageRef& p : pages) {
    PutVarint(out, p.key);
    PutVarint(out, p.id);
    out->push_back(p.zero ? 1 : 0);
  }
}

bool DecodePages(std::string_view* in, std::vector<PageRef>* pages) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;  // each entry takes >= 3 bytes
  pages->resize(n);
  for (PageRef& p : *pages) {
    if (!GetVarint(in, &p.key) || !GetVarint(in, &p.id) || in->empty()) return false;
    p.zero = (*in)[0] != 0;
    in->remove_prefix(1);
  }
  return true;
}

bool Get32(std::string_view* in, uint32_t* v) {
  uint64_t x;
  if (!GetVarint(in, &x) || x > UINT32_MAX) return false;
  *v = static_cast<uint32_t>(x);
  return true;
}

}  // namespace

void EncodeAddressSpace(const AddressSpaceRecord& r, std::string* out) {
  PutVarint(out, 1);  // version
  PutVarint(out, r.limits.as);
  PutVarint(out, r.limits.data);
  PutVarint(out, r.limits.stack);
  PutVarint(out, r.limits.memlock);
  PutVarint(out, r.brk_start);
  PutVarint(out, r.brk);
  PutVarint(out, r.lock_future ? 1 : 0);
  PutVarint(out, r.vmas.size());
  for (const VmaRecord& v : r.vmas) {
    PutVarint(out, v.start);
    PutVarint(out, v.end);
    PutVarint(out, v.prot);
    PutVarint(out, v.flags);
    PutVarint(out, v.vm);
    PutVarint(out, v.object_kind);
    PutVarint(out, v.object_id);
    PutVarint(out, v.pgoff);
  }
  EncodePages(r.pages, out);
}

bool DecodeAddressSpace(std::string_view in, AddressSpaceRecord* r) {
  uint64_t version, lock_future, n;
  if (!GetVarint(&in, &version) || version != 1) return false;
  if (!GetVarint(&in, &r->limits.as) || !GetVarint(&in, &r->limits.data) || !GetVarint(&in, &r->limits.stack) ||
      !GetVarint(&in, &r->limits.memlock) || !GetVarint(&in, &r->brk_start) || !GetVarint(&in, &r->brk) ||
      !GetVarint(&in, &lock_future) || !GetVarint(&in, &n) || n > in.size()) {
    return false;
  }
  r->lock_future = lock_future != 0;
  r->vmas.resize(n);
  for (VmaRecord& v : r->vmas) {
    if (!GetVarint(&in, &v.start) || !GetVarint(&in, &v.end) || !Get32(&in, &v.prot) || !Get32(&in, &v.flags) ||
        !Get32(&in, &v.vm) || !Get32(&in, &v.object_kind) || !GetVarint(&in, &v.object_id) ||
        !GetVarint(&in, &v.pgoff)) {
      return false;
    }
  }
  return DecodePages(&in, &r->pages) && in.empty();
}

void EncodeShmem(const ShmemRecord& r, std::string* out) {
  PutVarint(out, 1);
  PutVarint(out, r.size);
  EncodePages(r.pages, out);
}

bool DecodeShmem(std::string_view in, ShmemRecord* r) {
  uint64_t version;
  if (!GetVarint(&in, &version) || version != 1 || !GetVarint(&in, &r->size)) return false;
  return DecodePages(&in, &r->pages) && in.empty();
}

}  // namespace memserver::legacy
