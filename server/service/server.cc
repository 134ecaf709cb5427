#include "server/service/server.h"

#include <fmt/format.h>
#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <map>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "server/engine/engine.h"
#include "server/metrics/engine_collector.h"
#include "server/service/auth.h"
#include "server/metrics/http_server.h"
#include "server/metrics/tenant_collector.h"
#include "server/service/health_service.h"
#include "server/service/memory_service.h"
#include "server/service/rpc_metrics.h"
#include "storage/backing_store.h"

namespace memserver::service {

namespace {

constexpr std::string_view kServiceName = "memserver.v1.Memory";
// Room for a message's framing and fields around its payload: an Access
// batch of kMaxAccessOps ops spends up to ~32 bytes of framing per op
// (4096 * 32 = 128 KiB) besides the max_io_bytes of data it may carry.
constexpr uint64_t kMessageHeadroom = 256ull << 10;

bool IsUnixAddress(std::string_view address) {
  return address.starts_with("unix:") || address.starts_with("unix-abstract:");
}

// host:port, [v6]:port or unix:path. gRPC would reject a malformed address
// too, but only with a log line and no reason; this names the problem.
Status ValidateListenAddress(std::string_view address) {
  if (IsUnixAddress(address)) return Status::OK();
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid listen address '{}': {} (expected host:port, e.g. 127.0.0.1:7070; "
                    "port 0 picks a free port)",
                    address, why));
  };
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid("no port");
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.empty()) return invalid("no host");
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
      std::stoi(std::string(port)) > 65535) {
    return invalid("the port must be a number in [0, 65535]");
  }
  if (host.front() == '[' && host.back() != ']') return invalid("unterminated IPv6 bracket");
  return Status::OK();
}

int ClampToInt(uint64_t bytes) {
  return static_cast<int>(std::min<uint64_t>(bytes, INT_MAX));
}

// Requests carry at most max_io_bytes of payload: anything larger is refused
// by gRPC (RESOURCE_EXHAUSTED) before it is buffered.
int MaxReceiveMessageBytes(const EngineOptions& engine) {
  return ClampToInt(engine.max_io_bytes + kMessageHeadroom);
}

Status ReadPem(const std::string& path, const char* what, std::string* pem) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    return Status::InvalidArgument(fmt::format("cannot read the {} '{}' (a PEM file)", what, path));
  }
  *pem = text.str();
  return Status::OK();
}

// The gRPC port's credentials: TLS from the PEM files, or plaintext.
Status MakeCredentials(const ServerOptions& o, std::shared_ptr<grpc::ServerCredentials>* creds) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Status::InvalidArgument("TLS needs both --tls-cert and --tls-key (PEM files)");
  }
  if (!o.tls_client_ca_file.empty() && o.tls_cert_file.empty()) {
    return Status::InvalidArgument("--tls-client-ca (mutual TLS) needs --tls-cert and --tls-key");
  }
  if (o.tls_cert_file.empty()) {
    *creds = grpc::InsecureServerCredentials();
    return Status::OK();
  }
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  MEMSERVER_RETURN_IF_ERROR(ReadPem(o.tls_key_file, "TLS private key", &pair.private_key));
  MEMSERVER_RETURN_IF_ERROR(ReadPem(o.tls_cert_file, "TLS certificate", &pair.cert_chain));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!o.tls_client_ca_file.empty()) {
    MEMSERVER_RETURN_IF_ERROR(ReadPem(o.tls_client_ca_file, "client CA", &ssl.pem_root_certs));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else {
    ssl.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  }
  *creds = grpc::SslServerCredentials(ssl);
  return Status::OK();
}

// Off loopback, both TLS and tenants, or --insecure.
Status CheckExposure(const ServerOptions& o) {
  if (o.insecure) return Status::OK();
  const bool tls = !o.tls_cert_file.empty();
  const bool tenants = o.tenants != nullptr;
  if (tls && tenants) return Status::OK();
  std::string missing = !tls && !tenants ? "TLS (--tls-cert, --tls-key) and tenants (--tenants FILE)"
                        : !tls           ? "TLS (--tls-cert, --tls-key)"
                                         : "tenants (--tenants FILE)";
  for (const auto& [flag, address] : {std::pair<const char*, const std::string*>{"--listen", &o.listen_address},
                                      {"--metrics-listen", &o.metrics_listen_address}}) {
    if (address->empty() || IsLoopbackAddress(*address)) continue;
    return Status::InvalidArgument(fmt::format(
        "{} {} is not a loopback address, and a server reachable from other machines needs {}: "
        "anyone reaching the port could otherwise read and write every process's memory. Configure "
        "them (deploy/make-credentials.sh makes a CA, a certificate and tokens), listen on 127.0.0.1, "
        "or pass --insecure to serve it open anyway",
        flag, *address, missing));
  }
  return Status::OK();
}

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  if (IsUnixAddress(address)) return true;
  const size_t colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

Status Server::Start(const ServerOptions& options, std::unique_ptr<Server>* server) {
  MEMSERVER_RETURN_IF_ERROR(ValidateListenAddress(options.listen_address));
  MEMSERVER_RETURN_IF_ERROR(CheckExposure(options));
  std::shared_ptr<grpc::ServerCredentials> credentials;
  MEMSERVER_RETURN_IF_ERROR(MakeCredentials(options, &credentials));
  if (options.data_dir.empty()) return Status::InvalidArgument("data directory must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Status::FailedPrecondition(
        fmt::format("cannot create data directory '{}': {}", options.data_dir, ec.message()));
  }

  std::unique_ptr<Server> s(new Server());
  s->options_ = options;

  // Engine::Open restores a previous run's checkpoint, or discards its swap.
  storage::RocksDbOptions store_options;
  store_options.path = options.data_dir;
  store_options.disk_reserve_bytes = options.disk_reserve_bytes;
  store_options.write_buffer_bytes = options.store_write_buffer_bytes;
  std::unique_ptr<storage::BackingStore> store;
  Status st = storage::OpenRocksDbStore(store_options, &store);
  if (!st.ok()) {
    return Status(st.code(),
                  fmt::format("cannot open the backing store in '{}': {}", options.data_dir,
                              st.message()),
                  st.errno_name().empty() ? nullptr : st.errno_name().c_str());
  }
  // Tenants' max_resident and max_swap need every frame's owner.
  if (options.tenants != nullptr) s->options_.engine.account_tenant_memory = true;
  MEMSERVER_RETURN_IF_ERROR(Engine::Open(s->options_.engine, std::move(store), &s->engine_));
  s->auth_ = std::make_unique<Authenticator>();
  s->auth_->SetTenants(options.tenants);
  if (options.tenants != nullptr) s->engine_->SetTenantQuotas(options.tenants->EngineQuotas());
  s->limiter_ = std::make_unique<CallLimiter>(options.limits);
  s->service_ = std::make_unique<MemoryServiceImpl>(
      s->engine_.get(), s->auth_.get(), s->limiter_.get(),
      options.stream_threads == 0 ? MemoryServiceImpl::DefaultStreamThreads() : options.stream_threads);
  s->health_ =
      std::make_unique<HealthServiceImpl>(std::vector<std::string>{std::string(kServiceName)});

  // Metrics first: a port that cannot be bound fails the start before any
  // call is served.
  std::shared_ptr<prometheus::Registry> registry;
  if (!options.metrics_listen_address.empty()) {
    registry = std::make_shared<prometheus::Registry>();
    // The metrics port speaks TLS whenever the gRPC port does.
    metrics::MetricsTls tls;
    if (!options.tls_cert_file.empty()) {
      MEMSERVER_RETURN_IF_ERROR(ReadPem(options.tls_cert_file, "TLS certificate", &tls.cert_pem));
      MEMSERVER_RETURN_IF_ERROR(ReadPem(options.tls_key_file, "TLS private key", &tls.key_pem));
    }
    MEMSERVER_RETURN_IF_ERROR(
        metrics::MetricsServer::Start(options.metrics_listen_address, registry, tls, &s->metrics_));
    s->metrics_->RegisterCollectable(metrics::NewEngineCollector(s->engine_.get()));
    // Every tenant of the current table, with what it holds open now.
    s->metrics_->RegisterCollectable(metrics::NewTenantCollector(
        s->engine_.get(), [auth = s->auth_.get(), limiter = s->limiter_.get()] {
          std::map<std::string, metrics::TenantOpenCounts> out;
          if (std::shared_ptr<const TenantTable> table = auth->tenants()) {
            for (const TenantSpec& t : table->tenants()) {
              out[t.name] = metrics::TenantOpenCounts{0, 0, t.max_calls, t.max_streams};
            }
          }
          for (const auto& [name, open] : limiter->TenantCounts()) {
            if (auto it = out.find(name); it != out.end()) {
              it->second.calls = open.calls;
              it->second.streams = open.streams;
            }
          }
          return out;
        }));
    s->metrics_port_ = s->metrics_->port();
  }

  // A process-wide switch read when a builder is created.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  // Health checking is our synchronous HealthServiceImpl. gRPC's default
  // service is built on the callback API, which makes this otherwise
  // synchronous server run callback threads of its own (measured: ~30% of
  // the gRPC threads' samples and more futex wake-ups under load). It is off
  // explicitly (a null interface), not merely never enabled: the switch
  // grpc::EnableDefaultHealthCheckService is process-wide, and whatever else
  // in the process sets it must not add a second Health service here.
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  int selected_port = 0;
  builder.AddListeningPort(options.listen_address, credentials, &selected_port);
  // HTTP/2's own cap on one connection's concurrent calls: what the
  // CallLimiter admits per connection, so a client past it queues.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONCURRENT_STREAMS,
      ClampToInt(uint64_t{options.limits.max_calls_per_connection} + options.limits.max_streams_per_connection));
  // Without this, Linux's SO_REUSEPORT lets a second server share a port in
  // use instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(MaxReceiveMessageBytes(options.engine));
  // Sends stay unlimited (gRPC's default): responses are made here, not
  // taken from the network, and listings (ListProcesses, ListMappings,
  // ListFiles) legitimately outgrow max_io_bytes on a busy server; each
  // client sets the receive limit it can afford.
  builder.RegisterService(s->service_.get());
  builder.RegisterService(s->health_.get());
  if (registry != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    // Health probes come often (Docker, Kubernetes): their methods get the
    // same lock-free series table as the memory API's.
    creators.push_back(NewRpcMetricsInterceptorFactory(
        registry, {std::string(kServiceName), std::string(grpc::health::v1::Health::service_full_name())}));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  s->grpc_server_ = builder.BuildAndStart();
  if (s->grpc_server_ == nullptr || selected_port == 0) {
    // ~Server (via Shutdown) checkpoints and closes the engine and RocksDB.
    return Status::Unavailable(fmt::format(
        "cannot listen on '{}': the port is in use or the host is not an address of this "
        "machine",
        options.listen_address));
  }
  s->port_ = selected_port;

  *server = std::move(s);
  return Status::OK();
}

Server::~Server() { Shutdown(); }

Status Server::SetTenants(std::shared_ptr<const TenantTable> tenants) {
  if (tenants == nullptr && options_.tenants != nullptr) {
    return Status::InvalidArgument("the server started with tenants; a reload cannot turn authentication off");
  }
  if (tenants == nullptr) return Status::OK();
  if (engine_ != nullptr) engine_->SetTenantQuotas(tenants->EngineQuotas());
  auth_->SetTenants(std::move(tenants));
  return Status::OK();
}

size_t Server::open_streams() const { return service_ == nullptr ? 0 : service_->open_streams(); }
size_t Server::health_watchers() const { return health_ == nullptr ? 0 : health_->watchers(); }

std::string Server::address() const {
  const std::string& listen = options_.listen_address;
  if (IsUnixAddress(listen)) return listen;
  std::string host = listen.substr(0, listen.rfind(':'));
  // A wildcard is not dialable: use the loopback of the same family.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "[::]") host = "[::1]";
  return fmt::format("{}:{}", host, port_);
}

Status Server::Shutdown(std::chrono::milliseconds grace) {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_) return shutdown_status_;
  // First of all: a health check answered from here on, by a call already
  // accepted, says NOT_SERVING, so a load balancer polling Check stops
  // routing here. (Calls that arrive once gRPC's Shutdown below has begun
  // are refused, which a balancer also reads as unhealthy.)
  if (health_ != nullptr) health_->BeginShutdown();
  if (grpc_server_ != nullptr) {
    // New calls are refused (UNAVAILABLE) from here on. An AccessStream
    // idles in a read between batches; only a cancellation ends it: cancel
    // the open streams (a batch being applied completes).
    limiter_->Close();
    service_->CancelStreams();
    // The calls in flight finish, and the health watchers say their last
    // NOT_SERVING, up to the grace period...
    const auto deadline = std::chrono::steady_clock::now() + grace;
    limiter_->WaitUntilIdle(deadline);
    if (health_ != nullptr) health_->WaitForWatchers(deadline);
    // ...and then gRPC stops at once: a deadline already past cancels what
    // is left and closes every connection, so an idle client connection (or
    // one that never finished its handshake) does not hold the exit until
    // the deadline. Returns once no handler is running.
    grpc_server_->Shutdown(std::chrono::system_clock::now());
    grpc_server_->Wait();
  }
  // A scrape reads the engine: none may run from the checkpoint on.
  if (metrics_ != nullptr) metrics_->Stop();
  metrics_.reset();
  // No call is in flight and none can start: what Checkpoint requires. Also
  // after a failed Start: Open consumed the previous run's checkpoint, and
  // writing it back keeps those processes for the next attempt. Taken
  // before the gRPC objects are destroyed: destroying the last one may wait
  // for gRPC's executor threads (up to 10 s in a poll), and the final
  // snapshot must not wait for that.
  if (engine_ != nullptr) {
    Status s = engine_->Checkpoint();
    if (!s.ok()) {
      shutdown_status_ = Status(
          s.code(), "the final snapshot at shutdown failed (the previous snapshot stays current): " + s.message(),
          s.errno_name().empty() ? nullptr : s.errno_name().c_str());
    }
  }
  grpc_server_.reset();
  service_.reset();
  health_.reset();
  engine_.reset();  // closes RocksDB
  shut_down_ = true;
  shutdown_cv_.notify_all();
  return shutdown_status_;
}

void Server::Wait() {
  std::unique_lock<std::mutex> lock(shutdown_mu_);
  shutdown_cv_.wait(lock, [this] { return shut_down_; });
}

}  // namespace memserver::service
