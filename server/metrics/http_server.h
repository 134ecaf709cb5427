// MetricsServer: serves GET /metrics in the Prometheus text exposition format
// (version 0.0.4) on an HTTP port of its own, separate from the gRPC port.
// Boost.Beast over Boost.Asio, on one io_context run by one thread the server
// owns; the gRPC service and the engine never wait on it.
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   std::unique_ptr<MetricsServer> metrics;
//   Status s = MetricsServer::Start("127.0.0.1:9464", registry, &metrics);
//   metrics->RegisterCollectable(NewEngineCollector(engine));
//   ...
//   metrics->Stop();  // before the engine the collector borrows goes away
//
// What it answers (every request comes from the network and is hostile):
//   GET /metrics (a query string is ignored)   200, text/plain; version=0.0.4
//   HEAD /metrics                              200, headers only
//   another method on /metrics                 405 with Allow: GET, HEAD
//   any other path                             404
//   a request that does not parse              400, then the connection closes
//   a request line + headers over kMaxHeaderBytes   431, then it closes
//   a request body over kMaxBodyBytes          413, then it closes
// Connections are HTTP/1.1 keep-alive (Prometheus reuses them). A connection
// that sends nothing for kIdleTimeout is closed. At kMaxConnections, a new
// connection displaces the one that has waited longest for a request (idle,
// or trickling one), so idle connections never lock a scraper out; only
// when every connection is busy answering (and a quarter more are closing)
// is a new one closed as soon as it is accepted. Before
// closing, the server reads and discards what the peer still sends (at most
// 256 KiB, for at most 2 s), so the peer receives the error response rather
// than a reset. A scrape runs on the server's thread: collectables should be
// quick (the engine collector is one GetGlobalStats()).
//
// Thread-safety: every public method may be called from any thread, except
// Stop() from within a collectable.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/common/status.h"

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace memserver::metrics {

// HTTPS for the metrics port: PEM text of the certificate chain and key
// (memserverd's --tls-cert and --tls-key). Empty: plain HTTP.
struct MetricsTls {
  std::string cert_pem;
  std::string key_pem;
};

class MetricsServer {
 public:
  static constexpr size_t kMaxHeaderBytes = 8 << 10;
  static constexpr size_t kMaxBodyBytes = 4 << 10;
  static constexpr size_t kMaxConnections = 64;
  static constexpr std::chrono::seconds kIdleTimeout{30};

  // Binds `listen_address` ("host:port"; host an IPv4 literal, a bracketed
  // IPv6 literal or "localhost"; port 0 picks a free port, see port()) and
  // starts serving `registry` (held, shared) before returning OK.
  // InvalidArgument for a malformed address or a null registry; Unavailable
  // when the address cannot be bound (in use, not local). On error *out is
  // left null and no thread runs.
  static Status Start(const std::string& listen_address,
                      std::shared_ptr<prometheus::Registry> registry,
                      std::unique_ptr<MetricsServer>* out);
  // The same over TLS when `tls` has a certificate (HTTPS; a client that
  // does not complete the handshake within kIdleTimeout is dropped).
  static Status Start(const std::string& listen_address, std::shared_ptr<prometheus::Registry> registry,
                      const MetricsTls& tls, std::unique_ptr<MetricsServer>* out);
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port actually bound (useful with port 0).
  int port() const { return port_; }

  // Adds `collectable` to what every later scrape collects, after the
  // registry, in the order added. A null pointer is ignored. Thread-safe.
  void RegisterCollectable(std::shared_ptr<prometheus::Collectable> collectable);
  // Removes it; when this returns no scrape is using it any more (a scrape in
  // progress is waited for), so what it borrows may then be destroyed.
  // Removing a collectable that is not registered does nothing. Thread-safe.
  void RemoveCollectable(const prometheus::Collectable* collectable);

  // Closes the listening socket and every connection, and joins the thread:
  // when it returns nothing runs and the port is free. Idempotent and
  // thread-safe (must not be called from a collectable, i.e. during a scrape).
  void Stop();

  // The body of a scrape: every registered family in the text format. Called
  // by the HTTP thread; public so tests can check the text without a socket.
  std::string Scrape();

 private:
  class Impl;
  explicit MetricsServer(std::shared_ptr<prometheus::Registry> registry);

  const std::shared_ptr<prometheus::Registry> registry_;
  int port_ = 0;

  // Lock order: stop_mu_, then (on the HTTP thread Stop() joins) collect_mu_.
  // collect_mu_ is held for a whole scrape, so RemoveCollectable waits for
  // one in progress; a collectable calling Stop() would deadlock.
  std::mutex collect_mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;  // GUARDED_BY(collect_mu_)

  std::mutex stop_mu_;          // held for the whole of Stop()
  std::unique_ptr<Impl> impl_;  // GUARDED_BY(stop_mu_); null once stopped
  std::thread thread_;          // runs impl_'s io_context; joined by Stop()
};

}  // namespace memserver::metrics
