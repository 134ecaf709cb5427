// How a client reaches a memserver: TLS or not, its client certificate, its
// bearer token. Shared by the client library, memctl, memload and
// memserver-health, so every program speaks to a secured server the same
// way.
//
//   ConnectionOptions c;            // plaintext, no token: a loopback server
//   c.tls_ca_file = "ca.pem";       // TLS, verifying the server against ca.pem
//   c.token = "...";                // `authorization: Bearer ...` on every call
//   auto channel = OpenChannel("memserver:7070", c, grpc::ChannelArguments());
//
// With TLS the token travels as gRPC access-token call credentials; without
// TLS (gRPC refuses call credentials on a plaintext channel) a client
// interceptor adds the same metadata, for development servers on loopback.
// The programs take --tls-ca, --tls-cert, --tls-key, --tls-server-name and
// --token-file, or the variables MEMSERVER_TLS (1: TLS with the system's
// CAs), MEMSERVER_TLS_CA, MEMSERVER_TLS_CLIENT_CERT, MEMSERVER_TLS_CLIENT_KEY
// (not _TLS_CERT/_TLS_KEY: those are memserverd's own certificate),
// MEMSERVER_TLS_SERVER_NAME, MEMSERVER_TOKEN and MEMSERVER_TOKEN_FILE (a
// flag wins over its variable); never a token on the command line, where
// `ps` would show it.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace grpc {
class Channel;
class ChannelArguments;
}  // namespace grpc

namespace memserver::client {

struct ConnectionOptions {
  // Speak TLS. Implied by tls_ca_file. Default: false.
  bool tls = false;
  // PEM CA bundle that signed the server's certificate; empty with `tls`:
  // the system's roots. Default: empty.
  std::string tls_ca_file;
  // PEM client certificate and key, for a server asking for mutual TLS.
  // Both or neither. Default: empty.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Name the server's certificate must carry when it is not the address's
  // host (an IP address, a load balancer). Default: empty (the host).
  std::string tls_server_name;
  // Bearer token sent on every call. Default: empty (none).
  std::string token;
  // For an admin tenant: act in this tenant's namespace (its files, new
  // processes owned by it), as `memserver-as-tenant` metadata. Default:
  // empty (the caller's own).
  std::string as_tenant;
};

// A channel to `address` as `options` say, with `args`. Throws
// std::runtime_error naming the file when a PEM file cannot be read, or
// when only one of tls_cert_file and tls_key_file is given.
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address, const ConnectionOptions& options,
                                           grpc::ChannelArguments args);

// The first line of `path`, trimmed. Throws std::runtime_error when it
// cannot be read or holds no token.
std::string ReadTokenFile(const std::string& path);

// Command-line flags of the connection, for a CLI11 app.
struct ConnectionFlags {
  std::string tls_ca, tls_cert, tls_key, tls_server_name, token_file, as_tenant;
  bool tls = false;
};
// Adds --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name and
// --token-file (and with `as_tenant`, --as-tenant) to `app`, bound to *flags.
void AddConnectionFlags(CLI::App& app, ConnectionFlags* flags, bool as_tenant = false);
// The options the flags and the environment (`getenv`) give, a flag over
// its variable. Throws std::runtime_error for an unreadable token file.
ConnectionOptions ResolveConnection(const ConnectionFlags& flags,
                                    const std::function<const char*(const char*)>& getenv);

}  // namespace memserver::client
