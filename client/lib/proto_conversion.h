// Internal to client/lib: conversions between the client's value types
// (types.h) and the generated memserver.v1 messages. Pure copies: answers are
// checked by the calls that receive them.
#pragma once

#include "client/lib/types.h"
#include "memserver/v1/memserver.pb.h"

namespace memserver::client {

MemoryUsage FromProto(const memserver::v1::MemoryUsage& u);
// Sets the fields present on the wire.
Limits FromProto(const memserver::v1::Limits& l);
ProcessStats FromProto(const memserver::v1::ProcessStats& p);
GlobalStats FromProto(const memserver::v1::GlobalStats& g);
Mapping FromProto(const memserver::v1::Mapping& m);
FileInfo FromProto(const memserver::v1::FileInfo& f);
ExecImage FromProto(const memserver::v1::ExecResponse& e);

// Sets on the wire exactly the fields set in `limits`.
void ToProto(const Limits& limits, memserver::v1::Limits* out);

}  // namespace memserver::client
