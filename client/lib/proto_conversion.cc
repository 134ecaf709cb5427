#include "client/lib/proto_conversion.h"

namespace memserver::client {

namespace v1 = memserver::v1;

MemoryUsage FromProto(const v1::MemoryUsage& u) {
  MemoryUsage s;
  s.rss = u.rss();
  s.pss = u.pss();
  s.uss = u.uss();
  s.shared_clean = u.shared_clean();
  s.shared_dirty = u.shared_dirty();
  s.private_clean = u.private_clean();
  s.private_dirty = u.private_dirty();
  s.swap = u.swap();
  s.locked = u.locked();
  return s;
}

Limits FromProto(const v1::Limits& l) {
  Limits s;
  if (l.has_as()) s.as = l.as();
  if (l.has_data()) s.data = l.data();
  if (l.has_stack()) s.stack = l.stack();
  if (l.has_memlock()) s.memlock = l.memlock();
  return s;
}

void ToProto(const Limits& limits, v1::Limits* out) {
  if (limits.as) out->set_as(*limits.as);
  if (limits.data) out->set_data(*limits.data);
  if (limits.stack) out->set_stack(*limits.stack);
  if (limits.memlock) out->set_memlock(*limits.memlock);
}

ProcessStats FromProto(const v1::ProcessStats& p) {
  ProcessStats s;
  s.owner = p.owner();
  s.pid = p.pid();
  s.name = p.name();
  s.virtual_bytes = p.virtual_bytes();
  s.mappings = p.mappings();
  s.resident_pages = p.resident_pages();
  s.swapped_pages = p.swapped_pages();
  s.minor_faults = p.minor_faults();
  s.major_faults = p.major_faults();
  s.brk = p.brk();
  s.locked_bytes = p.locked_bytes();
  s.usage = FromProto(p.usage());
  s.limits = FromProto(p.limits());
  return s;
}

GlobalStats FromProto(const v1::GlobalStats& g) {
  GlobalStats s;
  for (const v1::TenantStats& t : g.tenants()) {
    s.tenants.push_back(GlobalStats::Tenant{t.name(), t.admin(), t.processes(), t.max_processes(), t.file_bytes(),
                                            t.max_files(), t.files(), t.max_file_count(), t.locked_bytes(),
                                            t.max_locked(), t.streams(), t.max_streams(), t.calls(), t.max_calls(),
                                            t.resident_bytes(), t.max_resident(), t.swap_bytes(), t.max_swap()});
  }
  s.page_size = g.page_size();
  s.frames_total = g.frames_total();
  s.frames_free = g.frames_free();
  s.processes = g.processes();
  s.pages = g.pages();
  s.zero_pages = g.zero_pages();
  s.swap_pages = g.swap_pages();
  s.minor_faults = g.minor_faults();
  s.major_faults = g.major_faults();
  s.page_ins = g.page_ins();
  s.page_outs = g.page_outs();
  s.evictions = g.evictions();
  s.clean_evictions = g.clean_evictions();
  s.zero_evictions = g.zero_evictions();
  s.policy = g.policy();
  s.locked_pages = g.locked_pages();
  s.files = g.files();
  s.snapshot_generation = g.snapshot_generation();
  s.snapshot_unix_ms = g.snapshot_unix_ms();
  s.snapshot_last_ms = g.snapshot_last_ms();
  s.snapshot_last_pages = g.snapshot_last_pages();
  s.snapshot_last_failed = g.snapshot_last_failed();
  s.direct_reads = g.direct_reads();
  return s;
}

Mapping FromProto(const v1::Mapping& m) {
  Mapping s;
  s.start = m.start();
  s.end = m.end();
  s.prot = m.prot();
  s.flags = m.flags();
  s.resident_pages = m.resident_pages();
  s.swapped_pages = m.swapped_pages();
  s.backing = m.backing();
  s.offset = m.offset();
  s.locked = m.locked();
  s.usage = FromProto(m.usage());
  return s;
}

FileInfo FromProto(const v1::FileInfo& f) {
  FileInfo s;
  s.owner = f.owner();
  s.path = f.path();
  s.inode = f.inode();
  s.size = f.size();
  s.cached_pages = f.cached_pages();
  return s;
}

ExecImage FromProto(const v1::ExecResponse& e) {
  ExecImage s;
  s.entry = e.entry();
  s.load_base = e.load_base();
  s.brk_start = e.brk_start();
  s.stack_top = e.stack_top();
  s.stack_bottom = e.stack_bottom();
  s.segments = e.segments();
  return s;
}

}  // namespace memserver::client
