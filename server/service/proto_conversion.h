// Engine value types <-> memserver.v1 messages, field by field. The only
// place that knows both; the engine never sees a generated type.
#pragma once

#include "memserver/v1/memserver.pb.h"
#include "server/engine/types.h"

namespace memserver::service {

void ToProto(const MemoryUsage& in, v1::MemoryUsage* out);
void ToProto(const ProcessLimits& in, v1::Limits* out);
void ToProto(const ProcessStats& in, v1::ProcessStats* out);
void ToProto(const GlobalStats& in, v1::GlobalStats* out);
void ToProto(const MappingInfo& in, v1::Mapping* out);
void ToProto(const FileInfo& in, v1::FileInfo* out);
void ToProto(const ExecImage& in, v1::ExecResponse* out);

// Overwrites the fields of *limits that `in` sets; leaves the others.
void MergeFromProto(const v1::Limits& in, ProcessLimits* limits);

MmapArgs FromProto(const v1::MmapRequest& in);

}  // namespace memserver::service
