// MetricsServer: Boost.Beast HTTP/1.1 on one io_context and one thread.
// See http_server.h for what it answers. Everything below Impl runs on that
// thread only, so sessions and counters need no locks; the only shared state
// is MetricsServer's collectables (collect_mu_).
#include "server/metrics/http_server.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <array>
#include <list>
#include <charconv>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace memserver::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kMetricsPath = "/metrics";
constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";
// What a closing connection may still read from its peer, and for how long.
constexpr size_t kLingerBytes = 256 << 10;
constexpr std::chrono::seconds kLingerTimeout{2};

// "host:port" -> endpoint. Host: IPv4 literal, [IPv6 literal] or localhost.
Status ParseListenAddress(const std::string& address, tcp::endpoint* endpoint) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::InvalidArgument("metrics listen address '" + address +
                                   "' is not host:port");
  }
  std::string host = address.substr(0, colon);
  const std::string_view port_text = std::string_view(address).substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(),
                                         port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument("metrics listen address '" + address +
                                   "': port must be a number in [0, 65535]");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code parse_error;
  const asio::ip::address ip = asio::ip::make_address(host, parse_error);
  if (parse_error) {
    return Status::InvalidArgument("metrics listen address '" + address +
                                   "': host must be an IP address or localhost");
  }
  *endpoint = tcp::endpoint(ip, static_cast<unsigned short>(port));
  return Status::OK();
}

}  // namespace

class MetricsServer::Impl {
 public:
  Impl(MetricsServer* owner) : owner_(owner), acceptor_(ioc_) {}

  // Serves HTTPS with this certificate chain and key (PEM text).
  Status UseTls(const std::string& cert_pem, const std::string& key_pem) {
    boost::system::error_code ec;
    ssl_.emplace(asio::ssl::context::tls_server);
    ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
    ssl_->use_certificate_chain(asio::buffer(cert_pem), ec);
    if (!ec) ssl_->use_private_key(asio::buffer(key_pem), asio::ssl::context::pem, ec);
    if (ec) return Status::InvalidArgument("metrics TLS: the certificate or key is not usable: " + ec.message());
    return Status::OK();
  }

  Status Listen(const tcp::endpoint& endpoint, const std::string& address, int* port) {
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("metrics server cannot listen on '" + address +
                                 "': " + ec.message());
    }
    *port = acceptor_.local_endpoint().port();
    Accept();
    return Status::OK();
  }

  asio::io_context& ioc() { return ioc_; }

 private:
  // What the connection bound may displace: a session waiting for a request.
  class Waiter {
   public:
    virtual ~Waiter() = default;
    virtual void Evict() = 0;
  };
  template <typename Stream>
  class Session;

  void Accept();

  // Declaration order is destruction order reversed: the acceptor closes
  // first, then the io_context destroys the pending handlers, whose sessions
  // still decrement open_connections_.
  MetricsServer* const owner_;
  size_t open_connections_ = 0;
  // Sessions waiting for a request, oldest first: the ones a new connection
  // displaces at the connection bound (only the io_context's thread
  // touches these).
  std::list<Waiter*> waiting_;
  std::optional<asio::ssl::context> ssl_;  // set: HTTPS
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_{ioc_};
};

// One HTTP connection: read a request, answer it, repeat while keep-alive.
// Stream is beast::tcp_stream (HTTP) or beast::ssl_stream over it (HTTPS:
// a handshake first, bounded by kIdleTimeout like a request).
template <typename Stream>
class MetricsServer::Impl::Session final : public Waiter, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

 public:
  template <typename... Args>
  Session(Impl* impl, Args&&... args)
      : impl_(impl), stream_(std::forward<Args>(args)...), buffer_(kMaxHeaderBytes + kMaxBodyBytes) {
    ++impl_->open_connections_;
  }
  ~Session() {
    StopWaiting();
    --impl_->open_connections_;
  }

  void Start() {
    if constexpr (kTls) {
      waiting_it_ = impl_->waiting_.insert(impl_->waiting_.end(), this);
      waiting_ = true;
      Lowest().expires_after(kIdleTimeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
        self->StopWaiting();
        if (ec) return self->Lowest().close();  // not TLS, a bad client, a timeout
        self->Read();
      });
    } else {
      Read();
    }
  }

  // Displaced by a newer connection at the bound: closes the socket, which
  // ends the pending read (and so the session).
  void Evict() override {
    StopWaiting();
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void StopWaiting() {
    if (!waiting_) return;
    impl_->waiting_.erase(waiting_it_);
    waiting_ = false;
  }

  void Read() {
    waiting_it_ = impl_->waiting_.insert(impl_->waiting_.end(), this);
    waiting_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(kMaxHeaderBytes));
    parser_->body_limit(kMaxBodyBytes);
    Lowest().expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    StopWaiting();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return Reply(http::status::request_header_fields_too_large, "request header too large\n",
                   /*keep_alive=*/false, 11);
    }
    if (ec == http::error::body_limit) {
      return Reply(http::status::payload_too_large, "request body too large\n", false, 11);
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
      return Close();  // the peer closed, possibly mid-request
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category()) {
      return Reply(http::status::bad_request, "malformed HTTP request\n", false, 11);
    }
    if (ec) return Close();  // timeout, reset, aborted by Stop
    Handle(parser_->get());
  }

  void Handle(const http::request<http::string_body>& request) {
    const unsigned version = request.version();
    const bool keep_alive = request.keep_alive();
    std::string_view path(request.target().data(), request.target().size());
    path = path.substr(0, path.find('?'));
    if (path != kMetricsPath) {
      return Reply(http::status::not_found, "not found; metrics are at /metrics\n", keep_alive,
                   version);
    }
    const http::verb method = request.method();
    if (method != http::verb::get && method != http::verb::head) {
      return Reply(http::status::method_not_allowed, "only GET and HEAD are allowed\n",
                   keep_alive, version);
    }
    std::string body = impl_->owner_->Scrape();
    auto response = std::make_shared<http::response<http::string_body>>(http::status::ok, version);
    response->set(http::field::content_type, kExpositionContentType);
    response->keep_alive(keep_alive);
    response->body() = std::move(body);
    response->prepare_payload();  // Content-Length of the body, also for HEAD
    if (method == http::verb::head) response->body().clear();
    Write(std::move(response), method == http::verb::head);
  }

  void Reply(http::status status, std::string_view text, bool keep_alive, unsigned version) {
    auto response = std::make_shared<http::response<http::string_body>>(status, version);
    response->set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed) response->set(http::field::allow, "GET, HEAD");
    response->keep_alive(keep_alive);
    response->body() = std::string(text);
    response->prepare_payload();
    Write(std::move(response), false);
  }

  void Write(std::shared_ptr<http::response<http::string_body>> response, bool head) {
    const bool keep_alive = response->keep_alive();
    Lowest().expires_after(kIdleTimeout);
    auto on_write = [self = shared_from_this(), response, keep_alive](beast::error_code ec,
                                                                      size_t) {
      if (ec || !keep_alive) return self->Close();
      self->Read();
    };
    if (head) {
      // The header alone: Content-Length still states the GET body's size.
      auto serializer =
          std::make_shared<http::response_serializer<http::string_body>>(*response);
      http::async_write_header(stream_, *serializer,
                               [serializer, on_write](beast::error_code ec, size_t n) {
                                 on_write(ec, n);
                               });
    } else {
      http::async_write(stream_, *response, std::move(on_write));
    }
  }

  // A lingering close: stop sending, then read and discard what the peer
  // still sends (bounded in bytes and time) before closing. Closing with
  // unread bytes would make the kernel reset the connection, and a reset
  // can destroy the error response the peer has not read yet.
  // Over TLS: a close_notify (bounded by kLingerTimeout), then the close.
  void Close() {
    if constexpr (kTls) {
      Lowest().expires_after(kLingerTimeout);
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Lowest().close(); });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Drain(kLingerBytes);
    }
  }

  void Drain(size_t budget) {
    if (budget == 0) return Lowest().close();
    Lowest().expires_after(kLingerTimeout);
    Lowest().async_read_some(asio::buffer(discard_),
                             [self = shared_from_this(), budget](beast::error_code ec, size_t n) {
                               if (ec) return self->Lowest().close();  // EOF, timeout, Stop
                               self->Drain(n >= budget ? 0 : budget - n);
                             });
  }

  Impl* const impl_;
  bool waiting_ = false;
  std::list<Waiter*>::iterator waiting_it_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 4096> discard_;
};

void MetricsServer::Impl::Accept() {
  acceptor_.async_accept(ioc_, [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors, or a connection reset before accept: try again
      // shortly rather than spinning on an error that persists.
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    if (open_connections_ >= kMaxConnections && !waiting_.empty()) {
      // At the bound, the connection that has waited longest for a request
      // (idle, or trickling one) makes room: idle connections cannot lock
      // a scraper out.
      waiting_.front()->Evict();
    }
    if (open_connections_ < kMaxConnections + kMaxConnections / 4) {
      if (ssl_) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket), *ssl_)->Start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->Start();
      }
    } else {
      boost::system::error_code ignored;
      socket.close(ignored);  // every connection busy answering: refuse by closing
    }
    Accept();
  });
}

MetricsServer::MetricsServer(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& listen_address,
                            std::shared_ptr<prometheus::Registry> registry,
                            std::unique_ptr<MetricsServer>* out) {
  return Start(listen_address, std::move(registry), MetricsTls{}, out);
}

Status MetricsServer::Start(const std::string& listen_address, std::shared_ptr<prometheus::Registry> registry,
                            const MetricsTls& tls, std::unique_ptr<MetricsServer>* out) {
  out->reset();
  if (registry == nullptr) return Status::InvalidArgument("metrics registry is null");
  tcp::endpoint endpoint;
  MEMSERVER_RETURN_IF_ERROR(ParseListenAddress(listen_address, &endpoint));
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(registry)));
  server->impl_ = std::make_unique<Impl>(server.get());
  if (!tls.cert_pem.empty()) MEMSERVER_RETURN_IF_ERROR(server->impl_->UseTls(tls.cert_pem, tls.key_pem));
  MEMSERVER_RETURN_IF_ERROR(server->impl_->Listen(endpoint, listen_address, &server->port_));
  asio::io_context* ioc = &server->impl_->ioc();
  server->thread_ = std::thread([ioc] { ioc->run(); });
  *out = std::move(server);
  return Status::OK();
}

void MetricsServer::RegisterCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  if (collectable == nullptr) return;
  std::lock_guard<std::mutex> lock(collect_mu_);
  collectables_.push_back(std::move(collectable));
}

void MetricsServer::RemoveCollectable(const prometheus::Collectable* collectable) {
  std::lock_guard<std::mutex> lock(collect_mu_);
  std::erase_if(collectables_, [collectable](const auto& c) { return c.get() == collectable; });
}

std::string MetricsServer::Scrape() {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  {
    std::lock_guard<std::mutex> lock(collect_mu_);
    for (const auto& collectable : collectables_) {
      std::vector<prometheus::MetricFamily> more = collectable->Collect();
      std::move(more.begin(), more.end(), std::back_inserter(families));
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

void MetricsServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (impl_ == nullptr) return;
  // stop() makes run() return after the handler in progress (a scrape
  // finishes first). Destroying the io_context then destroys every pending
  // handler, and with them the sessions and their sockets.
  impl_->ioc().stop();
  if (thread_.joinable()) thread_.join();
  impl_.reset();
}

}  // namespace memserver::metrics
