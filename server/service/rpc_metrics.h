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
// name: "OK", "INVALID_ARGUMENT", ...):
//   memserver_rpcs_total{method,code}              counter
//   memserver_rpc_duration_seconds{method,code}    histogram, from the
//       interceptor's creation (the call's arrival) to its status being sent;
//       buckets 50us .. 10s
// A call that ends without sending a status (the client went away) is
// counted with code="CANCELLED".
//
// Method names come from the network, so the label set is bounded: a method
// declared by a protobuf service compiled into the process (the generated
// descriptor pool: memserver.v1.Memory, reflection, ...) is always labelled
// with its name; any other name that is a plain identifier of at most 64
// characters is labelled with it too, but only the first
// kMaxUndeclaredMethods such names; every other call is method="other".
// Hostile clients can thus neither grow the label set without bound nor
// push the real methods out of it.
#pragma once

#include <cstddef>
#include <memory>

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
// factory serves every call of a server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry);

}  // namespace memserver::service
