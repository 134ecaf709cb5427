// Tenants over TLS, their quotas and their lifetime: each quota's error
// names it (memory ones included), SIGHUP reloads the tenants file, a
// restart keeps every process's owner, /metrics labels each tenant, and idle
// connections do not hold SIGTERM. The fixture is in tenants_e2e_fixture.h.
#include "tests/e2e/tenants_e2e_fixture.h"

namespace memserver::e2e {
namespace {

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

// alice may hold 64 pages in frames and 64 in swap: her faults past that
// evict her own pages, and once both are full a write that needs a frame is
// EDQUOT naming max_swap, while what she wrote stays readable and bob's
// pages stay where they were.
TEST_F(TenantsE2eTest, MemoryQuotasReclaimTheTenantsOwnPagesThenRefuseWithEdquot) {
  auto alice = Stub("alice");
  auto bob = Stub("bob");
  const uint64_t apid = CreateProcess(*alice), bpid = CreateProcess(*bob);
  const uint64_t a = Mmap(*alice, apid, 256 << 12), b = Mmap(*bob, bpid, 16 << 12);
  auto write = [&](v1::Memory::Stub& stub, uint64_t pid, uint64_t addr, char c) {
    v1::WriteRequest w;
    w.set_pid(pid);
    w.set_addr(addr);
    w.set_data(std::string(4096, c));
    return Call(stub, &v1::Memory::Stub::Write, w);
  };
  for (int i = 0; i < 16; ++i) ASSERT_EQ(write(*bob, bpid, b + i * 4096, 'b').code, grpc::StatusCode::OK);
  for (int i = 0; i < 128; ++i) {
    Outcome o = write(*alice, apid, a + i * 4096, static_cast<char>('A' + i % 26));
    ASSERT_EQ(o.code, grpc::StatusCode::OK) << "page " << i << ": " << o.message;
  }
  Outcome o = write(*alice, apid, a + 128 * 4096, 'z');
  EXPECT_EQ(o.code, grpc::StatusCode::RESOURCE_EXHAUSTED) << o.message;
  EXPECT_EQ(o.errno_name, "EDQUOT");
  EXPECT_NE(o.message.find("max_swap"), std::string::npos) << o.message;
  for (int i = 0; i <= 128; ++i) {
    v1::ReadRequest r;
    r.set_pid(apid);
    r.set_addr(a + i * 4096);
    r.set_length(4096);
    v1::ReadResponse got;
    ASSERT_EQ(Call(*alice, &v1::Memory::Stub::Read, r, &got).code, grpc::StatusCode::OK) << "page " << i;
    const char want = i < 128 ? static_cast<char>('A' + i % 26) : '\0';  // the refused write changed nothing
    EXPECT_EQ(got.data(), std::string(4096, want)) << "page " << i;
  }
  v1::GetStatsRequest req;
  req.set_pid(bpid);
  v1::GetStatsResponse stats;
  ASSERT_EQ(Call(*bob, &v1::Memory::Stub::GetStats, req, &stats).code, grpc::StatusCode::OK);
  EXPECT_EQ(stats.process().resident_pages(), 16u) << "bob's pages were evicted for alice";
  req.set_pid(apid);
  ASSERT_EQ(Call(*alice, &v1::Memory::Stub::GetStats, req, &stats).code, grpc::StatusCode::OK);
  ASSERT_EQ(stats.global().tenants_size(), 1);
  const v1::TenantStats& t = stats.global().tenants(0);
  EXPECT_EQ(t.name(), "alice");
  EXPECT_EQ(t.max_resident(), 256u << 10);
  EXPECT_EQ(t.max_swap(), 256u << 10);
  EXPECT_LE(t.resident_bytes(), 256u << 10);
  EXPECT_EQ(t.swap_bytes(), 256u << 10);
  EXPECT_GE(t.resident_bytes() + t.swap_bytes(), 128u * 4096) << "every page is in a frame or in swap";
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
  EXPECT_NE(body.find("memserver_tenant_quota{tenant=\"alice\",quota=\"max_resident\"} 262144"), std::string::npos)
      << body;
  EXPECT_NE(body.find("memserver_tenant_resident_bytes{tenant=\"alice\"} 0"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_tenant_swap_bytes{tenant=\"alice\"} 0"), std::string::npos) << body;
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

}  // namespace
}  // namespace memserver::e2e
