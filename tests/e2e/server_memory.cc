// server_memory: what memserverd's memory (RSS) grows by, beyond the frame
// pool, per empty process, per small file and per mapping. Not a test (it
// prints numbers, asserts nothing); run by hand:
//
//   build/tests/e2e/server_memory [--memserverd PATH] [--count 20000] [--dir /tmp]
//
// It starts memserverd (default: the one built beside it) on a fresh data
// directory with a 16 MiB frame pool, reads its VmRSS from /proc after a warm
// call, then after --count empty processes, --count one-page files (100
// bytes each) and --count one-page mappings in one process, and prints the
// growth divided by the count. RocksDB's memtable holds the files' content
// and records until it flushes: that is part of what a file costs.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "memserver/v1/memserver.grpc.pb.h"
#include "tests/e2e/subprocess.h"

namespace {

namespace v1 = memserver::v1;
constexpr int kThreads = 4;

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

template <typename Fn>
void Parallel(int count, Fn fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < count;) fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

bool Ok(const grpc::Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "server_memory: %s: %s\n", what, s.error_message().c_str());
  return s.ok();
}

}  // namespace

int main(int argc, char** argv) {
  std::string memserverd = MEMSERVERD_PATH;
  int count = 20000;
  std::string base = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--memserverd") memserverd = argv[i + 1];
    if (flag == "--count") count = std::stoi(argv[i + 1]);
    if (flag == "--dir") base = argv[i + 1];
  }
  std::string dir = base + "/memserver-server-memory-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  const std::string port_file = dir + "/port";
  const int log = open((dir + "/log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string error;
  auto child = memserver::e2e::Child::Spawn(
      {memserverd, "--listen", "127.0.0.1:0", "--port-file", port_file, "--data-dir", dir + "/data",
       "--metrics-listen", "", "--memory", "16MiB"},
      {}, log, log, &error);
  if (child == nullptr) {
    std::fprintf(stderr, "server_memory: %s\n", error.c_str());
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(port_file)) {
    if (std::chrono::steady_clock::now() > deadline || child->WaitExit(std::chrono::milliseconds(50))) {
      std::fprintf(stderr, "server_memory: memserverd did not start (log in %s)\n", dir.c_str());
      return 1;
    }
  }
  std::string port;
  std::ifstream(port_file) >> port;
  auto channel = grpc::CreateChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials());
  auto stub = v1::Memory::NewStub(channel);
  auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return ((*stub).*method)(&context, request, response);
  };
  v1::GetStatsResponse stats;
  if (!Ok(call(&v1::Memory::Stub::GetStats, v1::GetStatsRequest(), &stats), "GetStats")) return 1;
  const pid_t server = child->pid();
  const long start = RssKiB(server);

  Parallel(count, [&](int) {
    v1::CreateProcessRequest r;
    v1::CreateProcessResponse out;
    Ok(call(&v1::Memory::Stub::CreateProcess, r, &out), "CreateProcess");
  });
  const long after_processes = RssKiB(server);

  Parallel(count, [&](int i) {
    v1::WriteFileRequest r;
    r.set_path("/f/" + std::to_string(i));
    r.set_data(std::string(100, 'x'));
    v1::FileInfo out;
    Ok(call(&v1::Memory::Stub::WriteFile, r, &out), "WriteFile");
  });
  const long after_files = RssKiB(server);

  v1::CreateProcessRequest cp;
  v1::CreateProcessResponse mapper;
  if (!Ok(call(&v1::Memory::Stub::CreateProcess, cp, &mapper), "CreateProcess")) return 1;
  // One page each, with a hole between neighbours so that none merge.
  const uint64_t base_addr = 1ull << 32;
  Parallel(count, [&](int i) {
    v1::MmapRequest r;
    r.set_pid(mapper.pid());
    r.set_addr(base_addr + uint64_t(i) * 2 * 4096);
    r.set_length(4096);
    r.set_prot(3);
    r.set_flags(0x22 | 0x100000);  // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
    v1::MmapResponse out;
    Ok(call(&v1::Memory::Stub::Mmap, r, &out), "Mmap");
  });
  const long after_mappings = RssKiB(server);

  std::printf("memserverd %s, 16 MiB of frames, %d of each\n", memserverd.c_str(), count);
  std::printf("  RSS at start (warm):      %8ld KiB\n", start);
  std::printf("  per empty process:        %8.2f KiB  (%ld -> %ld KiB)\n", double(after_processes - start) / count,
              start, after_processes);
  std::printf("  per small file (100 B):   %8.2f KiB  (%ld -> %ld KiB)\n",
              double(after_files - after_processes) / count, after_processes, after_files);
  std::printf("  per mapping (1 page):     %8.2f KiB  (%ld -> %ld KiB)\n",
              double(after_mappings - after_files) / count, after_files, after_mappings);
  child->Signal(SIGTERM);
  child->WaitExit(std::chrono::seconds(120));
  std::filesystem::remove_all(dir);
  return 0;
}
