// Per-method gRPC metrics, recorded by a server interceptor.
//
//   grpc::ServerBuilder builder;
//   std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
//   creators.push_back(NewRpcMetricsInterceptorFactory(registry));
//   builder.experimental().SetInterceptorCreators(std::move(creators));
//
// Every call that sends a status is counted once in `registry`, labelled
// with method (the last component of the gRPC method name:
// "/memserver.v1.Memory/Read" -> "Read") and code (the canonical code's
// name: "OK", "INVALID_ARGUMENT", ...; a code outside 0..16 is "UNKNOWN"):
//   memserver_rpcs_total{method,code}              counter
//   memserver_rpc_duration_seconds{method,code}    histogram, from the
//       interceptor's creation (the call's arrival) to its status being sent;
//       buckets 50us .. 10s
// A call that ends without sending a status (the client went away) is
// counted with code="CANCELLED". A (method, code) series appears in the
// registry at its first call, not before.
//
// Method names come from the network, so the label set is bounded: a method
// declared by a protobuf service compiled into the process (the generated
// descriptor pool: memserver.v1.Memory, reflection, ...) is always labelled
// with its name; any other name that is a plain identifier of at most 64
// characters is labelled with it too, but only the first
// kMaxUndeclaredMethods such names; every other call is method="other".
// Hostile clients can thus neither grow the label set without bound nor
// push the real methods out of it.
//
// Cost: the methods of the "prepared" services are resolved when the
// factory is built; a call to one of them costs a hash lookup of its name,
// the interceptor's allocation and a few atomic operations (plus the
// histogram's internal mutex), with no lock of ours. Calls to any other
// method take one mutex of the factory and a descriptor pool lookup; same
// labels, same series.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
}

namespace prometheus {
class Registry;
}

namespace memserver::service {

inline constexpr size_t kMaxUndeclaredMethods = 64;

// Registers both families in `registry` (held, shared: the families live as
// long as the factory and its interceptors need them). Thread-safe: one
// factory serves every call of a server. Prepares memserver.v1.Memory.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry);

// As above, preparing the methods of `services` (full names, e.g.
// "memserver.v1.Memory"; names absent from the generated descriptor pool are
// ignored). Which services are prepared changes the cost only, never a label.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry,
                                const std::vector<std::string>& services);

}  // namespace memserver::service
