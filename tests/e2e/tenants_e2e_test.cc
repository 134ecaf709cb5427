// Tenants over TLS, isolation and authentication: every pid- and
// path-taking RPC across tenants is NOT_FOUND exactly as a missing one; an
// admin sees and manages all; calls without a valid token are
// UNAUTHENTICATED; mutual TLS refuses a client without a certificate; a
// non-loopback address without TLS and tenants is refused. The fixture is
// in tenants_e2e_fixture.h.
#include "tests/e2e/tenants_e2e_fixture.h"

namespace memserver::e2e {
namespace {

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
