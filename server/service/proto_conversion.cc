#include "server/service/proto_conversion.h"

namespace memserver::service {

void ToProto(const MemoryUsage& in, v1::MemoryUsage* out) {
  out->set_rss(in.rss);
  out->set_pss(in.pss);
  out->set_uss(in.uss);
  out->set_shared_clean(in.shared_clean);
  out->set_shared_dirty(in.shared_dirty);
  out->set_private_clean(in.private_clean);
  out->set_private_dirty(in.private_dirty);
  out->set_swap(in.swap);
  out->set_locked(in.locked);
}

void ToProto(const ProcessLimits& in, v1::Limits* out) {
  out->set_as(in.as);
  out->set_data(in.data);
  out->set_stack(in.stack);
  out->set_memlock(in.memlock);
}

void ToProto(const ProcessStats& in, v1::ProcessStats* out) {
  out->set_owner(in.owner);
  out->set_pid(in.pid);
  out->set_name(in.name);
  out->set_virtual_bytes(in.virtual_bytes);
  out->set_mappings(in.mappings);
  out->set_resident_pages(in.resident_pages);
  out->set_swapped_pages(in.swapped_pages);
  out->set_minor_faults(in.minor_faults);
  out->set_major_faults(in.major_faults);
  out->set_brk(in.brk);
  out->set_locked_bytes(in.locked_bytes);
  ToProto(in.usage, out->mutable_usage());
  ToProto(in.limits, out->mutable_limits());
}

void ToProto(const GlobalStats& in, v1::GlobalStats* out) {
  out->set_page_size(in.page_size);
  out->set_frames_total(in.frames_total);
  out->set_frames_free(in.frames_free);
  out->set_processes(in.processes);
  out->set_pages(in.pages);
  out->set_zero_pages(in.zero_pages);
  out->set_swap_pages(in.swap_pages);
  out->set_minor_faults(in.minor_faults);
  out->set_major_faults(in.major_faults);
  out->set_page_ins(in.page_ins);
  out->set_page_outs(in.page_outs);
  out->set_evictions(in.evictions);
  out->set_clean_evictions(in.clean_evictions);
  out->set_zero_evictions(in.zero_evictions);
  out->set_policy(in.policy);
  out->set_locked_pages(in.locked_pages);
  out->set_files(in.files);
  out->set_snapshot_generation(in.snapshot_generation);
  out->set_snapshot_unix_ms(in.snapshot_unix_ms);
  out->set_snapshot_last_ms(in.snapshot_last_ms);
  out->set_snapshot_last_pages(in.snapshot_last_pages);
  out->set_snapshot_last_failed(in.snapshot_last_failed);
  out->set_direct_reads(in.direct_reads);
}

void ToProto(const MappingInfo& in, v1::Mapping* out) {
  out->set_start(in.start);
  out->set_end(in.end);
  out->set_prot(in.prot);
  out->set_flags(in.flags);
  out->set_resident_pages(in.resident_pages);
  out->set_swapped_pages(in.swapped_pages);
  out->set_backing(in.backing);
  out->set_offset(in.offset);
  out->set_locked(in.locked);
  ToProto(in.usage, out->mutable_usage());
}

void ToProto(const FileInfo& in, v1::FileInfo* out) {
  out->set_owner(in.owner);
  out->set_path(in.path);
  out->set_inode(in.inode);
  out->set_size(in.size);
  out->set_cached_pages(in.cached_pages);
}

void ToProto(const ExecImage& in, v1::ExecResponse* out) {
  out->set_entry(in.entry);
  out->set_load_base(in.load_base);
  out->set_brk_start(in.brk_start);
  out->set_stack_top(in.stack_top);
  out->set_stack_bottom(in.stack_bottom);
  out->set_segments(in.segments);
}

void MergeFromProto(const v1::Limits& in, ProcessLimits* limits) {
  if (in.has_as()) limits->as = in.as();
  if (in.has_data()) limits->data = in.data();
  if (in.has_stack()) limits->stack = in.stack();
  if (in.has_memlock()) limits->memlock = in.memlock();
}

MmapArgs FromProto(const v1::MmapRequest& in) {
  MmapArgs args;
  args.addr = in.addr();
  args.length = in.length();
  args.prot = in.prot();
  args.flags = in.flags();
  args.path = in.path();
  args.offset = in.offset();
  return args;
}

}  // namespace memserver::service
