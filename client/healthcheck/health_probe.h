// One gRPC health check (grpc.health.v1.Health/Check), as a container
// HEALTHCHECK or an orchestrator probe asks it.
//
// Guarantees: ProbeHealth never throws and never waits longer than
// `options.timeout` (the deadline covers connecting and the call); the
// verdict is healthy only when the server answered SERVING for exactly the
// service asked about. Anything else (no connection, deadline, an RPC error,
// NOT_SERVING, UNKNOWN, an out-of-range status) is unhealthy, with a message
// a person can act on.
#pragma once

#include <chrono>
#include <string>

#include "client/lib/connection.h"

namespace memserver::healthcheck {

struct ProbeOptions {
  // host:port of the gRPC server. Default: "127.0.0.1:7070".
  std::string address = "127.0.0.1:7070";
  // Service name to ask about; "" is the server as a whole. Default: "".
  std::string service;
  // Deadline of the whole check, connection included. Default: 2 s.
  std::chrono::milliseconds timeout{2000};
  // TLS and client certificate (the health service needs no token).
  // Default: plaintext.
  client::ConnectionOptions connection;
};

struct ProbeResult {
  bool healthy = false;
  // "SERVING" when healthy, otherwise why not, e.g.
  // "127.0.0.1:7070: NOT_SERVING" or "127.0.0.1:7070: UNAVAILABLE: failed to connect ...".
  std::string message;
};

ProbeResult ProbeHealth(const ProbeOptions& options);

}  // namespace memserver::healthcheck
