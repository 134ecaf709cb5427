// memserver-health: asks a gRPC server's health service whether it serves.
//
//   memserver-health --addr 127.0.0.1:7070 [--service NAME] [--timeout 2]
//                    [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]
//
// Made for container HEALTHCHECKs and scripts: exit 0 when the server answers
// SERVING, 1 when it does not (the reason on stderr), 2 on a usage error.
// Prints nothing on success unless --verbose.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>

#include "client/healthcheck/health_probe.h"

namespace {

constexpr int kExitUnhealthy = 1;
constexpr int kExitUsage = 2;
constexpr double kMaxTimeoutSeconds = 3600;

}  // namespace

int main(int argc, char** argv) {
  memserver::healthcheck::ProbeOptions options;
  double timeout_seconds = 2;
  bool verbose = false;

  CLI::App app("memserver-health: checks grpc.health.v1.Health/Check; exit 0 when SERVING",
               "memserver-health");
  app.add_option("--addr", options.address, "host:port of the gRPC server")
      ->capture_default_str();
  app.add_option("--service", options.service,
                 "service to ask about (empty: the server as a whole; memserver's is "
                 "memserver.v1.Memory)");
  app.add_option("--timeout", timeout_seconds,
                 "seconds to wait for the connection and the answer")
      ->check(CLI::Range(0.001, kMaxTimeoutSeconds))
      ->capture_default_str();
  app.add_flag("--verbose,-v", verbose, "print SERVING on success");
  memserver::client::ConnectionFlags connection;
  memserver::client::AddConnectionFlags(app, &connection);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, or the error and a hint
    return code == 0 ? 0 : kExitUsage;
  }
  if (options.address.empty()) {
    std::cerr << "memserver-health: --addr must not be empty\n";
    return kExitUsage;
  }
  options.timeout = std::chrono::milliseconds(std::llround(timeout_seconds * 1000));
  try {
    options.connection =
        memserver::client::ResolveConnection(connection, [](const char* name) { return std::getenv(name); });
  } catch (const std::exception& e) {
    std::cerr << "memserver-health: " << e.what() << "\n";
    return kExitUsage;
  }

  const memserver::healthcheck::ProbeResult result = memserver::healthcheck::ProbeHealth(options);
  if (!result.healthy) {
    std::cerr << "memserver-health: unhealthy: " << result.message << "\n";
    return kExitUnhealthy;
  }
  if (verbose) std::cout << result.message << "\n";
  return 0;
}
