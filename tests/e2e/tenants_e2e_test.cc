// The real memserverd over TLS with tenants: two tenants (alice, bob) and an
// admin (ops), credentials made at test time by deploy/make-credentials.sh
// (the openssl command). Every pid- and path-taking RPC across tenants is
// NOT_FOUND exactly as a missing one; calls without a valid token are
// UNAUTHENTICATED; each quota's error names it; SIGHUP reloads the tenants
// file; mutual TLS refuses a client without a certificate; a non-loopback
// address without TLS and tenants is refused.
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
namespace {

namespace v1 = memserver::v1;

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[32];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

void WriteFile(const std::string& path, const std::string& text) {
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

Outcome Of(const grpc::Status& status) {
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
        "max_file_count = 4\nmax_locked = \"64KiB\"\nmax_streams = 2\n\n"
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

// Every RPC that takes a pid, called on `pid` with plausible arguments.
std::vector<std::pair<std::string, std::function<Outcome(v1::Memory::Stub&, uint64_t)>>> PidCalls(uint64_t addr) {
  using S = v1::Memory::Stub;
  std::vector<std::pair<std::string, std::function<Outcome(S&, uint64_t)>>> calls;
#define MEMSERVER_PID_CALL(Rpc, Req, Resp, ...)                         \
  calls.emplace_back(#Rpc, [addr](S& stub, uint64_t pid) {              \
    v1::Req request;                                                    \
    request.set_pid(pid);                                               \
    (void)addr;                                                         \
    __VA_ARGS__;                                                        \
    v1::Resp response;                                                  \
    grpc::ClientContext context;                                        \
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30)); \
    return Of(stub.Rpc(&context, request, &response));                  \
  })
  MEMSERVER_PID_CALL(Read, ReadRequest, ReadResponse, request.set_addr(addr); request.set_length(8));
  MEMSERVER_PID_CALL(Write, WriteRequest, WriteResponse, request.set_addr(addr); request.set_data("x"));
  MEMSERVER_PID_CALL(Access, AccessRequest, AccessResponse, {
    auto* op = request.add_ops();
    op->set_kind(v1::AccessOp::READ);
    op->set_addr(addr);
    op->set_length(8);
  });
  MEMSERVER_PID_CALL(Mmap, MmapRequest, MmapResponse, request.set_length(4096); request.set_prot(3);
                     request.set_flags(0x22));
  MEMSERVER_PID_CALL(Munmap, MunmapRequest, MunmapResponse, request.set_addr(addr); request.set_length(4096));
  MEMSERVER_PID_CALL(Mprotect, MprotectRequest, MprotectResponse, request.set_addr(addr); request.set_length(4096);
                     request.set_prot(1));
  MEMSERVER_PID_CALL(Mremap, MremapRequest, MremapResponse, request.set_old_addr(addr); request.set_old_size(4096);
                     request.set_new_size(8192); request.set_flags(1));
  MEMSERVER_PID_CALL(Brk, BrkRequest, BrkResponse, );
  MEMSERVER_PID_CALL(Sbrk, SbrkRequest, SbrkResponse, request.set_increment(4096));
  MEMSERVER_PID_CALL(Mlock, MlockRequest, MlockResponse, request.set_addr(addr); request.set_length(4096));
  MEMSERVER_PID_CALL(Munlock, MunlockRequest, MunlockResponse, request.set_addr(addr); request.set_length(4096));
  MEMSERVER_PID_CALL(Mlockall, MlockallRequest, MlockallResponse, request.set_flags(1));
  MEMSERVER_PID_CALL(Munlockall, MunlockallRequest, MunlockallResponse, );
  MEMSERVER_PID_CALL(Madvise, MadviseRequest, MadviseResponse, request.set_addr(addr); request.set_length(4096);
                     request.set_advice(v1::MADV_DONTNEED));
  MEMSERVER_PID_CALL(Msync, MsyncRequest, MsyncResponse, request.set_addr(addr); request.set_length(4096);
                     request.set_flags(4));
  MEMSERVER_PID_CALL(Malloc, MallocRequest, MallocResponse, request.set_size(16));
  MEMSERVER_PID_CALL(Calloc, CallocRequest, MallocResponse, request.set_count(2); request.set_size(16));
  MEMSERVER_PID_CALL(Realloc, ReallocRequest, MallocResponse, request.set_size(16));
  MEMSERVER_PID_CALL(Free, FreeRequest, FreeResponse, request.set_addr(addr));
  MEMSERVER_PID_CALL(GetStats, GetStatsRequest, GetStatsResponse, );
  MEMSERVER_PID_CALL(ListMappings, ListMappingsRequest, ListMappingsResponse, );
  MEMSERVER_PID_CALL(GetLimits, GetLimitsRequest, GetLimitsResponse, );
  MEMSERVER_PID_CALL(SetLimits, SetLimitsRequest, SetLimitsResponse, request.mutable_limits()->set_stack(1 << 20));
  MEMSERVER_PID_CALL(Exec, ExecRequest, ExecResponse, request.set_path("/bin/true"));
  MEMSERVER_PID_CALL(RenewLease, RenewLeaseRequest, RenewLeaseResponse, );
  MEMSERVER_PID_CALL(Fork, ForkRequest, ForkResponse, );
  MEMSERVER_PID_CALL(Exit, ExitRequest, ExitResponse, );
#undef MEMSERVER_PID_CALL
  return calls;
}

// The NotFound of pid `pid` with the pid replaced, to compare two of them.
std::string WithoutPid(std::string message, uint64_t pid) {
  const std::string p = std::to_string(pid);
  for (size_t at = message.find(p); at != std::string::npos; at = message.find(p, at + 3)) {
    message.replace(at, p.size(), "PID");
  }
  return message;
}

TEST_F(TenantsE2eTest, AnotherTenantsPidIsNotFoundLikeAMissingOneForEveryRpc) {
  auto alice = Stub("alice");
  auto bob = Stub("bob");
  const uint64_t pid = CreateProcess(*alice);
  ASSERT_NE(pid, 0u);
  const uint64_t addr = Mmap(*alice, pid, 1 << 16);
  const uint64_t missing = pid + 1000;
  for (auto& [rpc, call] : PidCalls(addr)) {
    Outcome theirs = call(*bob, pid);
    Outcome none = call(*bob, missing);
    EXPECT_EQ(theirs.code, grpc::StatusCode::NOT_FOUND) << rpc << ": " << theirs.message;
    EXPECT_EQ(none.code, grpc::StatusCode::NOT_FOUND) << rpc << ": " << none.message;
    EXPECT_EQ(WithoutPid(theirs.message, pid), WithoutPid(none.message, missing)) << rpc;
    EXPECT_EQ(theirs.errno_name, none.errno_name) << rpc;
  }
  // The AccessStream's batches too.
  {
    grpc::ClientContext context;
    auto stream = bob->AccessStream(&context);
    v1::AccessRequest request;
    request.set_pid(pid);
    auto* op = request.add_ops();
    op->set_kind(v1::AccessOp::READ);
    op->set_addr(addr);
    op->set_length(8);
    ASSERT_TRUE(stream->Write(request));
    v1::AccessResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.status().code(), grpc::StatusCode::NOT_FOUND);
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  // alice's process went through all that unharmed.
  v1::ReadRequest read;
  read.set_pid(pid);
  read.set_addr(addr);
  read.set_length(8);
  EXPECT_EQ(Call(*alice, &v1::Memory::Stub::Read, read).code, grpc::StatusCode::OK);
  // Listings and stats show bob only his own.
  v1::ListProcessesResponse listed;
  EXPECT_EQ(Call(*bob, &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest(), &listed).code,
            grpc::StatusCode::OK);
  EXPECT_EQ(listed.processes_size(), 0);
  v1::GetStatsResponse stats;
  EXPECT_EQ(Call(*bob, &v1::Memory::Stub::GetStats, v1::GetStatsRequest(), &stats).code, grpc::StatusCode::OK);
  EXPECT_EQ(stats.global().processes(), 0u);
  ASSERT_EQ(stats.global().tenants_size(), 1);
  EXPECT_EQ(stats.global().tenants(0).name(), "bob");
  v1::ListProcessesRequest all;
  all.set_all_tenants(true);
  EXPECT_EQ(Call(*bob, &v1::Memory::Stub::ListProcesses, all).code, grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TenantsE2eTest, AnotherTenantsPathIsAbsentForEveryFileRpc) {
  auto alice = Stub("alice");
  auto bob = Stub("bob");
  v1::WriteFileRequest w;
  w.set_path("/secret");
  w.set_data("alice's");
  ASSERT_EQ(Call(*alice, &v1::Memory::Stub::WriteFile, w).code, grpc::StatusCode::OK);

  auto expect_absent = [&](const std::string& rpc, const Outcome& theirs, const Outcome& none) {
    EXPECT_EQ(theirs.code, grpc::StatusCode::NOT_FOUND) << rpc << ": " << theirs.message;
    std::string m = theirs.message;
    if (size_t at = m.find("/secret"); at != std::string::npos) m.replace(at, 7, "/missing");
    EXPECT_EQ(m, none.message) << rpc;
    EXPECT_EQ(theirs.errno_name, none.errno_name) << rpc;
  };
  auto read = [&](const std::string& path) {
    v1::ReadFileRequest r;
    r.set_path(path);
    r.set_length(16);
    return Call(*bob, &v1::Memory::Stub::ReadFile, r);
  };
  auto stat = [&](const std::string& path) {
    v1::StatFileRequest r;
    r.set_path(path);
    return Call(*bob, &v1::Memory::Stub::StatFile, r);
  };
  auto truncate = [&](const std::string& path) {
    v1::TruncateFileRequest r;
    r.set_path(path);
    return Call(*bob, &v1::Memory::Stub::TruncateFile, r);
  };
  auto remove = [&](const std::string& path) {
    v1::DeleteFileRequest r;
    r.set_path(path);
    return Call(*bob, &v1::Memory::Stub::DeleteFile, r);
  };
  const uint64_t bobs = CreateProcess(*bob);
  auto map_file = [&](const std::string& path) {
    v1::MmapRequest r;
    r.set_pid(bobs);
    r.set_length(4096);
    r.set_prot(1);
    r.set_flags(0x02);  // MAP_PRIVATE, the file
    r.set_path(path);
    return Call(*bob, &v1::Memory::Stub::Mmap, r);
  };
  auto exec = [&](const std::string& path) {
    v1::ExecRequest r;
    r.set_pid(bobs);
    r.set_path(path);
    return Call(*bob, &v1::Memory::Stub::Exec, r);
  };
  expect_absent("ReadFile", read("/secret"), read("/missing"));
  expect_absent("StatFile", stat("/secret"), stat("/missing"));
  expect_absent("TruncateFile", truncate("/secret"), truncate("/missing"));
  expect_absent("DeleteFile", remove("/secret"), remove("/missing"));
  expect_absent("Mmap", map_file("/secret"), map_file("/missing"));
  expect_absent("Exec", exec("/secret"), exec("/missing"));
  v1::ListFilesResponse files;
  EXPECT_EQ(Call(*bob, &v1::Memory::Stub::ListFiles, v1::ListFilesRequest(), &files).code, grpc::StatusCode::OK);
  EXPECT_EQ(files.files_size(), 0);
  // Creating the same path makes bob a file of his own, as for a missing one.
  v1::CreateFileRequest create;
  create.set_path("/secret");
  EXPECT_EQ(Call(*bob, &v1::Memory::Stub::CreateFile, create).code, grpc::StatusCode::OK);
  v1::ReadFileRequest r;
  r.set_path("/secret");
  r.set_length(16);
  v1::ReadFileResponse data;
  EXPECT_EQ(Call(*alice, &v1::Memory::Stub::ReadFile, r, &data).code, grpc::StatusCode::OK);
  EXPECT_EQ(data.data(), "alice's");
}

TEST_F(TenantsE2eTest, AdminSeesAndManagesEveryTenant) {
  auto alice = Stub("alice");
  const uint64_t pid = CreateProcess(*alice);
  const uint64_t addr = Mmap(*alice, pid, 4096);
  v1::WriteFileRequest w;
  w.set_path("/a");
  w.set_data("A");
  ASSERT_EQ(Call(*alice, &v1::Memory::Stub::WriteFile, w).code, grpc::StatusCode::OK);

  auto ops = Stub("ops");
  v1::ListProcessesRequest all;
  all.set_all_tenants(true);
  v1::ListProcessesResponse listed;
  ASSERT_EQ(Call(*ops, &v1::Memory::Stub::ListProcesses, all, &listed).code, grpc::StatusCode::OK);
  ASSERT_EQ(listed.processes_size(), 1);
  EXPECT_EQ(listed.processes(0).owner(), "alice");
  v1::WriteRequest write;
  write.set_pid(pid);
  write.set_addr(addr);
  write.set_data("by ops");
  EXPECT_EQ(Call(*ops, &v1::Memory::Stub::Write, write).code, grpc::StatusCode::OK);
  v1::ListFilesRequest every;
  every.set_all_tenants(true);
  v1::ListFilesResponse files;
  ASSERT_EQ(Call(*ops, &v1::Memory::Stub::ListFiles, every, &files).code, grpc::StatusCode::OK);
  ASSERT_EQ(files.files_size(), 1);
  EXPECT_EQ(files.files(0).owner(), "alice");
  // Acting as alice, ops reaches her namespace.
  client::ConnectionOptions as_alice = As("ops");
  as_alice.as_tenant = "alice";
  auto ops_as_alice = Stub(as_alice);
  v1::StatFileRequest stat;
  stat.set_path("/a");
  EXPECT_EQ(Call(*ops_as_alice, &v1::Memory::Stub::StatFile, stat).code, grpc::StatusCode::OK);
  // A tenant that is not an admin cannot act as another.
  client::ConnectionOptions bob_as_alice = As("bob");
  bob_as_alice.as_tenant = "alice";
  EXPECT_EQ(Call(*Stub(bob_as_alice), &v1::Memory::Stub::StatFile, stat).code, grpc::StatusCode::PERMISSION_DENIED);
  v1::GetStatsResponse stats;
  ASSERT_EQ(Call(*ops, &v1::Memory::Stub::GetStats, v1::GetStatsRequest(), &stats).code, grpc::StatusCode::OK);
  EXPECT_GE(stats.global().tenants_size(), 4);
}

TEST_F(TenantsE2eTest, CallsWithoutAValidTokenAreUnauthenticatedButHealthAnswers) {
  for (const std::string& who : {std::string(), std::string("not-a-token")}) {
    auto stub = Stub(who);
    Outcome o = Call(*stub, &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest());
    EXPECT_EQ(o.code, grpc::StatusCode::UNAUTHENTICATED) << "token '" << who << "': " << o.message;
    EXPECT_EQ(o.message.find("not-a-token"), std::string::npos) << "a token is never echoed";
    grpc::ClientContext context;
    auto stream = stub->AccessStream(&context);
    v1::AccessResponse response;
    EXPECT_FALSE(stream->Read(&response));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  healthcheck::ProbeOptions probe;
  probe.address = daemon_->address();
  probe.connection = As("");
  probe.timeout = std::chrono::seconds(10);
  EXPECT_TRUE(healthcheck::ProbeHealth(probe).healthy);
}

TEST_F(TenantsE2eTest, EachQuotaRefusesWithItsName) {
  auto alice = Stub("alice");
  Outcome o;
  uint64_t first = 0;
  for (int i = 0; i < 3; ++i) {
    uint64_t pid = CreateProcess(*alice, &o);
    ASSERT_EQ(o.code, grpc::StatusCode::OK) << o.message;
    if (i == 0) first = pid;
  }
  CreateProcess(*alice, &o);
  EXPECT_EQ(o.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(o.errno_name, "EAGAIN");
  EXPECT_NE(o.message.find("max_processes"), std::string::npos) << o.message;
  v1::ForkRequest fork;
  fork.set_pid(first);
  o = Call(*alice, &v1::Memory::Stub::Fork, fork);
  EXPECT_EQ(o.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(o.message.find("max_processes"), std::string::npos) << o.message;
  // Another tenant is not affected.
  CreateProcess(*Stub("bob"), &o);
  EXPECT_EQ(o.code, grpc::StatusCode::OK);

  v1::WriteFileRequest w;
  w.set_path("/big");
  w.set_data(std::string(60 << 10, 'x'));
  EXPECT_EQ(Call(*alice, &v1::Memory::Stub::WriteFile, w).code, grpc::StatusCode::OK);
  w.set_path("/more");
  w.set_data(std::string(8 << 10, 'y'));
  o = Call(*alice, &v1::Memory::Stub::WriteFile, w);
  EXPECT_EQ(o.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(o.errno_name, "EDQUOT");
  EXPECT_NE(o.message.find("max_files"), std::string::npos) << o.message;
  v1::StatFileRequest more;
  more.set_path("/more");
  EXPECT_EQ(Call(*alice, &v1::Memory::Stub::StatFile, more).code, grpc::StatusCode::NOT_FOUND)
      << "a refused write leaves no file behind";
  for (int i = 0; i < 3; ++i) {  // with /big, four files
    v1::CreateFileRequest c;
    c.set_path("/f" + std::to_string(i));
    EXPECT_EQ(Call(*alice, &v1::Memory::Stub::CreateFile, c).code, grpc::StatusCode::OK);
  }
  v1::CreateFileRequest c;
  c.set_path("/one-too-many");
  o = Call(*alice, &v1::Memory::Stub::CreateFile, c);
  EXPECT_EQ(o.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(o.errno_name, "EDQUOT");
  EXPECT_NE(o.message.find("max_file_count"), std::string::npos) << o.message;

  const uint64_t addr = Mmap(*alice, first, 128 << 10);
  v1::MlockRequest lock;
  lock.set_pid(first);
  lock.set_addr(addr);
  lock.set_length(32 << 10);
  EXPECT_EQ(Call(*alice, &v1::Memory::Stub::Mlock, lock).code, grpc::StatusCode::OK);
  lock.set_length(128 << 10);
  o = Call(*alice, &v1::Memory::Stub::Mlock, lock);
  EXPECT_EQ(o.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(o.errno_name, "ENOMEM");
  EXPECT_NE(o.message.find("max_locked"), std::string::npos) << o.message;

  grpc::ClientContext c1, c2, c3;
  auto s1 = alice->AccessStream(&c1);
  auto s2 = alice->AccessStream(&c2);
  v1::AccessRequest empty;
  empty.set_pid(first);
  v1::AccessResponse answer;
  ASSERT_TRUE(s1->Write(empty) && s1->Read(&answer));
  ASSERT_TRUE(s2->Write(empty) && s2->Read(&answer));
  auto s3 = alice->AccessStream(&c3);
  EXPECT_FALSE(s3->Read(&answer));
  grpc::Status third = s3->Finish();
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(third.error_message().find("max_streams"), std::string::npos) << third.error_message();
  s1->WritesDone();
  s2->WritesDone();
  EXPECT_TRUE(s1->Finish().ok());
  EXPECT_TRUE(s2->Finish().ok());

  o = Call(*Stub("carol"), &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest());
  EXPECT_EQ(o.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(o.message.find("max_calls"), std::string::npos) << o.message;
}

TEST_F(TenantsE2eTest, SighupReloadsTheTenantsAndABadFileKeepsTheOld) {
  auto bob = Stub("bob");
  ASSERT_EQ(Call(*bob, &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest()).code, grpc::StatusCode::OK);
  WriteTenants(/*with_bob=*/false);
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Outcome o;
  do {
    o = Call(*bob, &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest());
  } while (o.code == grpc::StatusCode::OK && std::chrono::steady_clock::now() < deadline &&
           (std::this_thread::yield(), true));
  EXPECT_EQ(o.code, grpc::StatusCode::UNAUTHENTICATED) << o.message;
  EXPECT_EQ(Call(*Stub("alice"), &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest()).code,
            grpc::StatusCode::OK);

  WriteFile(tenants_file_, "[tenants.alice]\ntoken_sha256 = \"not hex\"\n");
  ASSERT_EQ(kill(daemon_->pid(), SIGHUP), 0);
  std::string log;
  do {
    log = daemon_->Log();
  } while (log.find("tenants file not reloaded") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline + std::chrono::seconds(30) && (std::this_thread::yield(), true));
  EXPECT_NE(log.find("tenants file not reloaded"), std::string::npos) << log;
  EXPECT_NE(log.find("token_sha256"), std::string::npos) << "the log names the bad key";
  EXPECT_EQ(Call(*Stub("alice"), &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest()).code,
            grpc::StatusCode::OK);
}

TEST_F(TenantsE2eTest, MutualTlsRefusesAClientWithoutACertificate) {
  test::TempDir other;
  std::vector<std::string> flags = ServerFlags("data-mtls");
  flags.push_back("--tls-client-ca");
  flags.push_back(creds_ + "/ca.pem");
  std::string error;
  auto mtls = Daemon::Start(other.path(), flags, {}, &error);
  ASSERT_NE(mtls, nullptr) << error;
  client::ConnectionOptions without = As("alice");
  auto stub = Stub(without, mtls->address());
  Outcome o = Call(*stub, &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest());
  EXPECT_EQ(o.code, grpc::StatusCode::UNAVAILABLE) << o.message;
  client::ConnectionOptions with = As("alice");
  with.tls_cert_file = creds_ + "/client.pem";
  with.tls_key_file = creds_ + "/client.key";
  o = Call(*Stub(with, mtls->address()), &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest());
  EXPECT_EQ(o.code, grpc::StatusCode::OK) << o.message;
  EXPECT_EQ(mtls->Stop(SIGTERM), 0);
}

TEST_F(TenantsE2eTest, NonLoopbackAddressNeedsTlsAndTenants) {
  const std::string data = dir_.File("data-exposed");
  Output bare = RunToCompletion({MEMSERVERD_PATH, "--listen", "0.0.0.0:0", "--metrics-listen", "", "--data-dir", data});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_NE(bare.err.find("TLS (--tls-cert, --tls-key) and tenants (--tenants FILE)"), std::string::npos) << bare.err;
  EXPECT_NE(bare.err.find("--insecure"), std::string::npos) << bare.err;
  Output no_tls = RunToCompletion(
      {MEMSERVERD_PATH, "--listen", "0.0.0.0:0", "--metrics-listen", "", "--data-dir", data, "--tenants", tenants_file_});
  EXPECT_EQ(no_tls.exit_code, 2);
  EXPECT_NE(no_tls.err.find("needs TLS (--tls-cert, --tls-key)"), std::string::npos) << no_tls.err;
  Output metrics = RunToCompletion({MEMSERVERD_PATH, "--metrics-listen", "0.0.0.0:0", "--data-dir", data});
  EXPECT_EQ(metrics.exit_code, 2);
  EXPECT_NE(metrics.err.find("--metrics-listen 0.0.0.0:0 is not a loopback address"), std::string::npos)
      << metrics.err;
}

TEST_F(TenantsE2eTest, AnErrorEchoingALongPathReachesADefaultClient) {
  auto alice = Stub("alice");
  v1::StatFileRequest stat;
  stat.set_path("/" + std::string(4095, 'p'));
  Outcome o = Call(*alice, &v1::Memory::Stub::StatFile, stat);
  EXPECT_EQ(o.code, grpc::StatusCode::NOT_FOUND) << o.message;
  EXPECT_LE(o.message.size(), 1024u);
  EXPECT_EQ(o.errno_name, "ENOENT");
}

// A graceful restart keeps every process's owner: alice reads her process
// again, bob still cannot see it, and her quota counts it.
TEST_F(TenantsE2eTest, ProcessesKeepTheirOwnerAcrossARestart) {
  auto alice = Stub("alice");
  const uint64_t pid = CreateProcess(*alice);
  const uint64_t addr = Mmap(*alice, pid, 4096);
  v1::WriteRequest write;
  write.set_pid(pid);
  write.set_addr(addr);
  write.set_data("kept");
  ASSERT_EQ(Call(*alice, &v1::Memory::Stub::Write, write).code, grpc::StatusCode::OK);
  ASSERT_EQ(daemon_->Stop(SIGTERM), 0);
  std::string error;
  daemon_ = Daemon::Start(dir_.path(), ServerFlags(), {}, &error);
  ASSERT_NE(daemon_, nullptr) << error;
  alice = Stub("alice");
  v1::ReadRequest read;
  read.set_pid(pid);
  read.set_addr(addr);
  read.set_length(4);
  v1::ReadResponse data;
  Outcome o = Call(*alice, &v1::Memory::Stub::Read, read, &data);
  ASSERT_EQ(o.code, grpc::StatusCode::OK) << o.message;
  EXPECT_EQ(data.data(), "kept");
  EXPECT_EQ(Call(*Stub("bob"), &v1::Memory::Stub::Read, read).code, grpc::StatusCode::NOT_FOUND);
  v1::GetStatsResponse stats;
  ASSERT_EQ(Call(*alice, &v1::Memory::Stub::GetStats, v1::GetStatsRequest(), &stats).code, grpc::StatusCode::OK);
  EXPECT_EQ(stats.global().processes(), 1u);
}

// GET /metrics over TLS (OpenSSL's client, verifying the server with the
// test CA): the body, or "" with *error set.
std::string HttpsGet(int port, const std::string& ca_file, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  std::string body;
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    *error = "cannot load " + ca_file;
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    BIO* bio = BIO_new_ssl_connect(ctx);
    SSL* ssl = nullptr;
    BIO_get_ssl(bio, &ssl);
    const std::string host = "127.0.0.1:" + std::to_string(port);
    BIO_set_conn_hostname(bio, host.c_str());
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    if (BIO_do_connect(bio) != 1 || BIO_do_handshake(bio) != 1) {
      *error = "TLS connection to the metrics port failed";
    } else {
      const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      BIO_write(bio, request.data(), static_cast<int>(request.size()));
      char buffer[4096];
      for (int n; (n = BIO_read(bio, buffer, sizeof(buffer))) > 0;) body.append(buffer, n);
    }
    BIO_free_all(bio);
  }
  SSL_CTX_free(ctx);
  return body;
}

TEST_F(TenantsE2eTest, MetricsPortSpeaksTlsAndLabelsEachTenant) {
  test::TempDir other;
  std::vector<std::string> flags = ServerFlags("data-metrics");
  flags[3] = "127.0.0.1:0";  // --metrics-listen
  std::string error;
  auto d = Daemon::Start(other.path(), flags, {}, &error);
  ASSERT_NE(d, nullptr) << error;
  const std::string metrics = LoggedField(d->Log(), "memserverd listening on", "metrics");
  ASSERT_FALSE(metrics.empty()) << d->Log();
  const int port = std::stoi(metrics.substr(metrics.rfind(':') + 1));
  auto alice = Stub(As("alice"), d->address());
  CreateProcess(*alice);
  std::string body = HttpsGet(port, creds_ + "/ca.pem", &error);
  ASSERT_NE(body.find("200 OK"), std::string::npos) << error << body;
  EXPECT_NE(body.find("memserver_tenant_processes{tenant=\"alice\"} 1"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_tenant_quota{tenant=\"alice\",quota=\"max_processes\"} 3"), std::string::npos)
      << body;
  EXPECT_NE(body.find("memserver_tenant_calls_in_flight{tenant=\"bob\"} 0"), std::string::npos) << body;
  EXPECT_EQ(d->Stop(SIGTERM), 0);
}

// An idle client connection (an HTTP/2 one that made a call, and a TCP one
// that never spoke) does not hold SIGTERM's exit for long.
TEST_F(TenantsE2eTest, IdleClientConnectionsDoNotDelaySigterm) {
  auto alice = Stub("alice");
  ASSERT_EQ(Call(*alice, &v1::Memory::Stub::ListProcesses, v1::ListProcessesRequest()).code, grpc::StatusCode::OK);
  const int raw = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(raw, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(daemon_->port()));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(raw, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon_->Stop(SIGTERM), 0);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(took, std::chrono::seconds(3)) << "SIGTERM to exit took " << took.count() << " ms";
  std::printf("[ figures  ] SIGTERM to exit with two idle client connections: %lld ms\n",
              static_cast<long long>(took.count()));
  close(raw);
}

// Every unary RPC of memserver.v1.Memory, found in the service's descriptor
// (so that an RPC added later is covered without editing this test), refuses
// a call without a token and one with a bad token. Each gets an empty
// request, valid for every proto3 message.
TEST_F(TenantsE2eTest, EveryUnaryRpcOfTheServiceRefusesACallWithoutAValidToken) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(v1::Memory::service_full_name());
  ASSERT_NE(service, nullptr);
  int unary = 0;
  for (const std::string& who : {std::string(), std::string("not-a-token")}) {
    grpc::GenericStub stub(client::OpenChannel(daemon_->address(), As(who), grpc::ChannelArguments()));
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (method->client_streaming() || method->server_streaming()) {
        EXPECT_EQ(method->name(), "AccessStream") << "a streaming RPC this test does not cover";
        continue;
      }
      ++unary;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      grpc::Slice empty("", 0);
      grpc::ByteBuffer request(&empty, 1), response;
      std::promise<grpc::Status> done;
      stub.UnaryCall(&context, "/" + service->full_name() + "/" + method->name(), grpc::StubOptions(), &request,
                     &response, [&done](grpc::Status status) { done.set_value(std::move(status)); });
      const grpc::Status status = done.get_future().get();
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method->name() << " with token '" << who << "': " << status.error_message();
    }
  }
  EXPECT_EQ(unary, 2 * (service->method_count() - 1));
}

// A snapshot is work over every tenant's memory: an admin's call. The
// recovery report shows a tenant only its own processes.
TEST_F(TenantsE2eTest, SnapshotIsAnAdminsCallAndRecoveryShowsEachTenantItsOwnProcesses) {
  auto alice = Stub("alice");
  const uint64_t pid = CreateProcess(*alice);
  Outcome o = Call(*alice, &v1::Memory::Stub::Snapshot, v1::SnapshotRequest());
  EXPECT_EQ(o.code, grpc::StatusCode::PERMISSION_DENIED) << o.message;
  EXPECT_NE(o.message.find("only an admin tenant may take a snapshot"), std::string::npos) << o.message;
  v1::SnapshotResponse snapshot;
  o = Call(*Stub("ops"), &v1::Memory::Stub::Snapshot, v1::SnapshotRequest(), &snapshot);
  ASSERT_EQ(o.code, grpc::StatusCode::OK) << o.message;
  EXPECT_GE(snapshot.processes(), 1u);

  ASSERT_EQ(daemon_->Stop(SIGKILL), 128 + SIGKILL);
  std::string error;
  daemon_ = Daemon::Start(dir_.path(), ServerFlags(), {}, &error);
  ASSERT_NE(daemon_, nullptr) << error;
  auto restored_pids = [&](const std::string& tenant) {
    v1::RecoveryReport report;
    Outcome got = Call(*Stub(tenant), &v1::Memory::Stub::GetRecovery, v1::GetRecoveryRequest(), &report);
    EXPECT_EQ(got.code, grpc::StatusCode::OK) << tenant << ": " << got.message;
    EXPECT_TRUE(report.unclean()) << tenant;
    std::vector<uint64_t> pids;
    for (const v1::RecoveredProcess& p : report.restored()) pids.push_back(p.pid());
    return pids;
  };
  EXPECT_EQ(restored_pids("alice"), std::vector<uint64_t>{pid});
  EXPECT_EQ(restored_pids("ops"), std::vector<uint64_t>{pid});
  EXPECT_TRUE(restored_pids("bob").empty()) << "bob sees alice's process";
}

}  // namespace
}  // namespace memserver::e2e
