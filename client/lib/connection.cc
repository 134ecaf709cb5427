#include "client/lib/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/client_interceptor.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace memserver::client {

namespace {

std::string ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    throw std::runtime_error("cannot read the " + std::string(what) + " '" + path + "' (a PEM file)");
  }
  return text.str();
}

// Adds fixed metadata (`authorization: Bearer TOKEN` on a plaintext
// channel, `memserver-as-tenant`) to every call.
using Headers = std::vector<std::pair<std::string, std::string>>;

class HeaderInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit HeaderInterceptor(const Headers* headers) : headers_(headers) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      for (const auto& [key, value] : *headers_) methods->GetSendInitialMetadata()->insert({key, value});
    }
    methods->Proceed();
  }

 private:
  const Headers* headers_;
};

class HeaderInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit HeaderInterceptorFactory(Headers headers) : headers_(std::move(headers)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo*) override {
    return new HeaderInterceptor(&headers_);
  }

 private:
  const Headers headers_;  // lives as long as the channel
};

std::shared_ptr<grpc::Channel> Create(const std::string& address, std::shared_ptr<grpc::ChannelCredentials> creds,
                                      const grpc::ChannelArguments& args, Headers headers) {
  if (headers.empty()) return grpc::CreateCustomChannel(address, creds, args);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<HeaderInterceptorFactory>(std::move(headers)));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, creds, args, std::move(interceptors));
}

}  // namespace

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address, const ConnectionOptions& options,
                                           grpc::ChannelArguments args) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    throw std::runtime_error("a client certificate needs both --tls-cert and --tls-key");
  }
  const bool tls = options.tls || !options.tls_ca_file.empty() || !options.tls_cert_file.empty();
  Headers headers;
  if (!options.as_tenant.empty()) headers.emplace_back("memserver-as-tenant", options.as_tenant);
  if (!tls) {
    if (!options.token.empty()) headers.emplace_back("authorization", "Bearer " + options.token);
    return Create(address, grpc::InsecureChannelCredentials(), args, std::move(headers));
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) ssl.pem_root_certs = ReadPem(options.tls_ca_file, "CA bundle");
  if (!options.tls_cert_file.empty()) {
    ssl.pem_cert_chain = ReadPem(options.tls_cert_file, "client certificate");
    ssl.pem_private_key = ReadPem(options.tls_key_file, "client key");
  }
  if (!options.tls_server_name.empty()) args.SetSslTargetNameOverride(options.tls_server_name);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(ssl);
  if (!options.token.empty()) {
    creds = grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(options.token));
  }
  return Create(address, creds, args, std::move(headers));
}

std::string ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error("cannot read the token file '" + path + "'");
  const size_t begin = line.find_first_not_of(" \t\r");
  const size_t end = line.find_last_not_of(" \t\r");
  if (begin == std::string::npos) throw std::runtime_error("the token file '" + path + "' holds no token");
  return line.substr(begin, end - begin + 1);
}

void AddConnectionFlags(CLI::App& app, ConnectionFlags* flags, bool as_tenant) {
  if (as_tenant) {
    app.add_option("--as-tenant", flags->as_tenant,
                   "an admin acting in this tenant's namespace (its files; new processes owned by it) "
                   "[env MEMSERVER_AS_TENANT]");
  }
  app.add_flag("--tls", flags->tls, "speak TLS, verifying the server with the system's CAs [env MEMSERVER_TLS=1]");
  app.add_option("--tls-ca", flags->tls_ca, "PEM CA that signed the server's certificate; implies --tls "
                                            "[env MEMSERVER_TLS_CA]")
      ->type_name("FILE");
  app.add_option("--tls-cert", flags->tls_cert, "PEM client certificate, for mutual TLS [env MEMSERVER_TLS_CLIENT_CERT]")
      ->type_name("FILE");
  app.add_option("--tls-key", flags->tls_key, "PEM key of --tls-cert [env MEMSERVER_TLS_CLIENT_KEY]")->type_name("FILE");
  app.add_option("--tls-server-name", flags->tls_server_name,
                 "name to check in the server's certificate instead of the address's host "
                 "[env MEMSERVER_TLS_SERVER_NAME]");
  app.add_option("--token-file", flags->token_file,
                 "file whose first line is the bearer token [env MEMSERVER_TOKEN_FILE, or the token itself in "
                 "MEMSERVER_TOKEN]")
      ->type_name("FILE");
}

ConnectionOptions ResolveConnection(const ConnectionFlags& flags,
                                    const std::function<const char*(const char*)>& getenv) {
  auto pick = [&](const std::string& flag, const char* var) {
    if (!flag.empty()) return flag;
    const char* v = getenv(var);
    return std::string(v == nullptr ? "" : v);
  };
  ConnectionOptions o;
  const std::string tls_env = pick("", "MEMSERVER_TLS");
  o.tls = flags.tls || tls_env == "1" || tls_env == "true";
  o.tls_ca_file = pick(flags.tls_ca, "MEMSERVER_TLS_CA");
  o.tls_cert_file = pick(flags.tls_cert, "MEMSERVER_TLS_CLIENT_CERT");
  o.tls_key_file = pick(flags.tls_key, "MEMSERVER_TLS_CLIENT_KEY");
  o.tls_server_name = pick(flags.tls_server_name, "MEMSERVER_TLS_SERVER_NAME");
  o.as_tenant = pick(flags.as_tenant, "MEMSERVER_AS_TENANT");
  const std::string token_file = pick(flags.token_file, "MEMSERVER_TOKEN_FILE");
  if (!token_file.empty()) {
    o.token = ReadTokenFile(token_file);
  } else {
    o.token = pick("", "MEMSERVER_TOKEN");
  }
  return o;
}

}  // namespace memserver::client
