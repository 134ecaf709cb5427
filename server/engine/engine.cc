#include "server/engine/engine.h"

#include <fmt/format.h>

#include <bit>
#include <mutex>

#include "server/engine/process.h"
#include "server/frames/replacement_policy.h"
#include "server/vm/pager.h"

namespace memserver {

namespace {

Status ValidateOptions(const EngineOptions& o) {
  if (o.page_size < 4096 || o.page_size > (1u << 20) || !std::has_single_bit(o.page_size)) {
    return Status::InvalidArgument(
        fmt::format("page_size {} must be a power of two between 4096 and 1048576", o.page_size));
  }
  if (o.address_bits < 32 || o.address_bits > 56) {
    return Status::InvalidArgument(fmt::format("address_bits {} must be between 32 and 56", o.address_bits));
  }
  const uint64_t frames = o.memory_bytes / o.page_size;
  if (frames < 4 || frames > UINT32_MAX - 1) {
    return Status::InvalidArgument(fmt::format(
        "memory_bytes {} gives {} frames of {} bytes; need between 4 and 2^32-2 frames", o.memory_bytes,
        frames, o.page_size));
  }
  if (o.max_io_bytes == 0 || o.max_io_bytes > (1ull << 30)) {
    return Status::InvalidArgument(fmt::format("max_io_bytes {} must be between 1 and 1 GiB", o.max_io_bytes));
  }
  if (o.mmap_min_addr % o.page_size != 0 || o.mmap_min_addr >= (1ull << o.address_bits) / 2) {
    return Status::InvalidArgument("mmap_min_addr must be page-aligned and in the lower half of the address space");
  }
  if (o.max_processes == 0 || o.max_mappings == 0) {
    return Status::InvalidArgument("max_processes and max_mappings must be positive");
  }
  return Status::OK();
}

}  // namespace

Engine::Engine(const EngineOptions& options, std::unique_ptr<storage::BackingStore> store)
    : options_(options), store_(std::move(store)) {}

Engine::~Engine() {
  // Processes first: their teardown returns frames and swap to the pager.
  std::unordered_map<Pid, std::shared_ptr<Process>> procs;
  {
    std::unique_lock<std::shared_mutex> l(processes_mu_);
    procs.swap(processes_);
  }
  for (auto& [pid, p] : procs) p->mm().Teardown();
  procs.clear();
  pager_.reset();
}

Status Engine::Open(const EngineOptions& options, std::unique_ptr<storage::BackingStore> store,
                    std::unique_ptr<Engine>* engine) {
  MEMSERVER_RETURN_IF_ERROR(ValidateOptions(options));
  if (!store) return Status::InvalidArgument("a backing store is required");
  std::unique_ptr<ReplacementPolicy> policy;
  MEMSERVER_RETURN_IF_ERROR(
      NewReplacementPolicy(options.policy, static_cast<uint32_t>(options.memory_bytes / options.page_size), &policy));
  // Swap from an earlier run belongs to processes that no longer exist.
  MEMSERVER_RETURN_IF_ERROR(store->Clear(storage::Space::kSwap));
  std::unique_ptr<Engine> e(new Engine(options, std::move(store)));
  e->pager_ = std::make_unique<Pager>(options, e->store_.get(), std::move(policy));
  *engine = std::move(e);
  return Status::OK();
}

Status Engine::Lookup(Pid pid, std::shared_ptr<Process>* process) const {
  std::shared_lock<std::shared_mutex> l(processes_mu_);
  auto it = processes_.find(pid);
  if (it == processes_.end()) return Status::NotFound(fmt::format("no process with pid {}", pid));
  *process = it->second;
  return Status::OK();
}

Status Engine::CreateProcess(const std::string& name, Pid* pid) {
  std::unique_lock<std::shared_mutex> l(processes_mu_);
  if (processes_.size() >= options_.max_processes) {
    return Status::ResourceExhausted(
        fmt::format("the server already hosts {} processes (its limit)", options_.max_processes), "EAGAIN");
  }
  Pid id = next_pid_++;
  processes_.emplace(id, std::make_shared<Process>(id, name, options_, pager_.get()));
  *pid = id;
  return Status::OK();
}

Status Engine::Exit(Pid pid) {
  std::shared_ptr<Process> p;
  {
    std::unique_lock<std::shared_mutex> l(processes_mu_);
    auto it = processes_.find(pid);
    if (it == processes_.end()) return Status::NotFound(fmt::format("no process with pid {}", pid));
    p = std::move(it->second);
    processes_.erase(it);
  }
  p->mm().Teardown();  // waits for calls in flight on this process
  return Status::OK();
}

Status Engine::Mmap(Pid pid, const MmapArgs& args, uint64_t* addr) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  return p->mm().Mmap(args, addr);
}

Status Engine::Munmap(Pid pid, uint64_t addr, uint64_t length) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  return p->mm().Munmap(addr, length);
}

Status Engine::Mprotect(Pid pid, uint64_t addr, uint64_t length, uint32_t prot) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  return p->mm().Mprotect(addr, length, prot);
}

Status Engine::Read(Pid pid, uint64_t addr, uint64_t length, char* out) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  return p->mm().Read(addr, length, out);
}

Status Engine::Write(Pid pid, uint64_t addr, std::string_view data) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  return p->mm().Write(addr, data);
}

Status Engine::GetProcessStats(Pid pid, ProcessStats* stats) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  stats->pid = pid;
  stats->name = p->name();
  p->mm().FillStats(stats);
  return Status::OK();
}

Status Engine::ListMappings(Pid pid, std::vector<MappingInfo>* mappings) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  *mappings = p->mm().Mappings();
  return Status::OK();
}

std::vector<ProcessStats> Engine::ListProcesses() {
  std::vector<std::shared_ptr<Process>> procs;
  {
    std::shared_lock<std::shared_mutex> l(processes_mu_);
    for (auto& [pid, p] : processes_) procs.push_back(p);
  }
  std::vector<ProcessStats> out;
  for (auto& p : procs) {
    ProcessStats s;
    s.pid = p->pid();
    s.name = p->name();
    p->mm().FillStats(&s);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const ProcessStats& a, const ProcessStats& b) { return a.pid < b.pid; });
  return out;
}

GlobalStats Engine::GetGlobalStats() const {
  GlobalStats g = pager_->Stats();
  std::shared_lock<std::shared_mutex> l(processes_mu_);
  g.processes = processes_.size();
  return g;
}

Status Engine::CheckInvariants() {
  std::vector<std::shared_ptr<Process>> procs;
  {
    std::shared_lock<std::shared_mutex> l(processes_mu_);
    for (auto& [pid, p] : processes_) procs.push_back(p);
  }
  std::unordered_map<const Page*, uint32_t> refs;
  for (auto& p : procs) MEMSERVER_RETURN_IF_ERROR(p->mm().CollectPages(&refs));
  return pager_->CheckInvariants(refs);
}

}  // namespace memserver
