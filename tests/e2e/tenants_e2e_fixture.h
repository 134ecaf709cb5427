// TenantsE2eTest: the real memserverd over TLS with tenants: tenants alice
// (small quotas, memory ones included), bob, carol (no call in flight at all)
// and an admin, ops; credentials made at test time by
// deploy/make-credentials.sh (the openssl command). Shared by
// tenants_e2e_test.cc (isolation, authentication, TLS) and
// tenants_quota_e2e_test.cc (quotas, reloads, restarts, metrics).
#pragma once

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/healthcheck/health_probe.h"
#include "client/lib/connection.h"
#include "client/lib/error.h"
#include "memserver/v1/memserver.grpc.pb.h"
#include "tests/e2e/daemon.h"
#include "tests/e2e/subprocess.h"
#include "tests/support/temp_dir.h"

namespace memserver::e2e {

namespace v1 = memserver::v1;

inline std::string Sha256Hex(const std::string& text) {
  unsigned char digest[32];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// The outcome of one RPC: its code, message and errno name.
struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::string errno_name;
};

inline Outcome Of(const grpc::Status& status) {
  if (status.ok()) return {};
  client::Error e = client::Error::FromStatus(status);
  return {e.code(), e.message(), e.errno_name()};
}

class TenantsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    creds_ = dir_.File("creds");
    Output made = RunToCompletion({"/bin/bash", MAKE_CREDENTIALS_PATH, creds_, "--tenants", "alice bob carol ops:admin",
                                   "--hosts", "localhost,127.0.0.1"});
    ASSERT_EQ(made.exit_code, 0) << "deploy/make-credentials.sh failed (it needs the openssl command): "
                                 << made.err;
    for (const char* name : {"alice", "bob", "carol", "ops"}) {
      tokens_[name] = client::ReadTokenFile(creds_ + "/tokens/" + name + ".token");
    }
    tenants_file_ = dir_.File("tenants.toml");
    WriteTenants(/*with_bob=*/true);
    std::string error;
    daemon_ = Daemon::Start(dir_.path(), ServerFlags(), {}, &error);
    ASSERT_NE(daemon_, nullptr) << error;
  }

  std::vector<std::string> ServerFlags(const std::string& data = "data") {
    return {"--data-dir", dir_.File(data), "--metrics-listen", "", "--tls-cert", creds_ + "/server.pem",
            "--tls-key", creds_ + "/server.key", "--tenants", tenants_file_};
  }

  // alice has small quotas, carol may have no call in flight at all.
  void WriteTenants(bool with_bob) {
    std::string text = fmt::format(
        "[tenants.alice]\ntoken_sha256 = \"{}\"\nmax_processes = 3\nmax_files = \"64KiB\"\n"
        "max_file_count = 4\nmax_locked = \"64KiB\"\nmax_streams = 2\n"
        "max_resident = \"256KiB\"\nmax_swap = \"256KiB\"\n\n"
        "[tenants.carol]\ntoken_sha256 = \"{}\"\nmax_calls = 0\n\n"
        "[tenants.ops]\ntoken_sha256 = \"{}\"\nadmin = true\n",
        Sha256Hex(tokens_["alice"]), Sha256Hex(tokens_["carol"]), Sha256Hex(tokens_["ops"]));
    if (with_bob) text += fmt::format("\n[tenants.bob]\ntoken_sha256 = \"{}\"\n", Sha256Hex(tokens_["bob"]));
    WriteFile(tenants_file_, text);
  }

  client::ConnectionOptions As(const std::string& tenant) {
    client::ConnectionOptions c;
    c.tls_ca_file = creds_ + "/ca.pem";
    if (!tenant.empty()) c.token = tokens_.count(tenant) ? tokens_[tenant] : tenant;
    return c;
  }
  std::unique_ptr<v1::Memory::Stub> Stub(const client::ConnectionOptions& c, const std::string& address = "") {
    return v1::Memory::NewStub(
        client::OpenChannel(address.empty() ? daemon_->address() : address, c, grpc::ChannelArguments()));
  }
  std::unique_ptr<v1::Memory::Stub> Stub(const std::string& tenant) { return Stub(As(tenant)); }

  template <typename Req, typename Resp>
  using Method = grpc::Status (v1::Memory::Stub::*)(grpc::ClientContext*, const Req&, Resp*);

  template <typename Req, typename Resp>
  static Outcome Call(v1::Memory::Stub& stub, Method<Req, Resp> method, const Req& request, Resp* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return Of((stub.*method)(&context, request, response));
  }
  template <typename Req, typename Resp>
  static Outcome Call(v1::Memory::Stub& stub, Method<Req, Resp> method, const Req& request) {
    Resp response;
    return Call(stub, method, request, &response);
  }

  uint64_t CreateProcess(v1::Memory::Stub& stub, Outcome* outcome = nullptr) {
    v1::CreateProcessRequest request;
    request.set_name("p");
    v1::CreateProcessResponse response;
    Outcome o = Call(stub, &v1::Memory::Stub::CreateProcess, request, &response);
    if (outcome != nullptr) *outcome = o;
    return response.pid();
  }
  uint64_t Mmap(v1::Memory::Stub& stub, uint64_t pid, uint64_t length) {
    v1::MmapRequest request;
    request.set_pid(pid);
    request.set_length(length);
    request.set_prot(3);
    request.set_flags(0x22);  // MAP_PRIVATE | MAP_ANONYMOUS
    v1::MmapResponse response;
    Outcome o = Call(stub, &v1::Memory::Stub::Mmap, request, &response);
    EXPECT_EQ(o.code, grpc::StatusCode::OK) << o.message;
    return response.addr();
  }

  test::TempDir dir_;
  std::string creds_;
  std::string tenants_file_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<Daemon> daemon_;
};

}  // namespace memserver::e2e
