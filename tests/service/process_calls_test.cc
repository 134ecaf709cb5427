// The process-level calls beyond mmap/read/write, through the service: each
// test proves the request and response fields reach the engine and come
// back (fork, exec, mremap, brk/sbrk, mlock, madvise, limits, malloc).
#include <elf.h>

#include <cstring>

#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using grpc::StatusCode;

// A minimal ELF64 x86-64 executable: one PT_LOAD of the file itself at
// 0x400000 with 2 pages of bss after it, entry just past the headers.
std::string TinyElf() {
  constexpr uint64_t kBase = 0x400000;
  constexpr size_t kHeaders = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  const std::string code = "\x90\x90\xc3";  // nop; nop; ret
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = kBase + kHeaders;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R | PF_X;
  ph.p_offset = 0;
  ph.p_vaddr = ph.p_paddr = kBase;
  ph.p_filesz = kHeaders + code.size();
  ph.p_memsz = ph.p_filesz + 2 * kPage;
  ph.p_align = kPage;
  std::string file(reinterpret_cast<const char*>(&eh), sizeof(eh));
  file.append(reinterpret_cast<const char*>(&ph), sizeof(ph));
  return file + code;
}

class ProcessCallsTest : public ServiceTest {
 protected:
  v1::ProcessStats Stats(uint64_t pid) {
    v1::GetStatsRequest request;
    request.set_pid(pid);
    v1::GetStatsResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::GetStats, request, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return response.process();
  }
  grpc::Status Sbrk(uint64_t pid, int64_t increment, uint64_t* previous) {
    v1::SbrkRequest request;
    request.set_pid(pid);
    request.set_increment(increment);
    v1::SbrkResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::Sbrk, request, &response);
    *previous = response.previous();
    return s;
  }
  uint64_t Brk(uint64_t pid, uint64_t addr) {
    v1::BrkRequest request;
    request.set_pid(pid);
    request.set_addr(addr);
    v1::BrkResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::Brk, request, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return response.brk();
  }
  grpc::Status Malloc(uint64_t pid, uint64_t size, uint64_t* addr) {
    v1::MallocRequest request;
    request.set_pid(pid);
    request.set_size(size);
    v1::MallocResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::Malloc, request, &response);
    *addr = response.addr();
    return s;
  }
  grpc::Status Free(uint64_t pid, uint64_t addr) {
    v1::FreeRequest request;
    request.set_pid(pid);
    request.set_addr(addr);
    v1::FreeResponse response;
    return Call(&v1::Memory::Stub::Free, request, &response);
  }
};

TEST_F(ProcessCallsTest, ForkedChildSeesParentDataButWritesStayItsOwn) {
  uint64_t parent = CreateProcess("parent");
  uint64_t addr = MapPages(parent, 2);
  ASSERT_TRUE(Write(parent, addr, "parent data").ok());
  v1::ForkRequest request;
  request.set_pid(parent);
  v1::ForkResponse response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Fork, request, &response).ok());
  const uint64_t child = response.child_pid();
  ASSERT_NE(child, 0u);
  ASSERT_NE(child, parent);
  std::string back;
  ASSERT_TRUE(Read(child, addr, 11, &back).ok());
  EXPECT_EQ(back, "parent data");
  ASSERT_TRUE(Write(child, addr, "child!").ok());
  ASSERT_TRUE(Read(parent, addr, 11, &back).ok());
  EXPECT_EQ(back, "parent data");
}

TEST_F(ProcessCallsTest, ExecLoadsAnElfFromTheFileStore) {
  const std::string elf = TinyElf();
  v1::WriteFileRequest file;
  file.set_path("/bin/tiny");
  file.set_data(elf);
  v1::FileInfo info;
  ASSERT_TRUE(Call(&v1::Memory::Stub::WriteFile, file, &info).ok());

  uint64_t pid = CreateProcess();
  v1::ExecRequest request;
  request.set_pid(pid);
  request.set_path("/bin/tiny");
  v1::ExecResponse image;
  grpc::Status s = Call(&v1::Memory::Stub::Exec, request, &image);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(image.load_base(), 0x400000u);
  EXPECT_EQ(image.entry(), 0x400000u + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr));
  EXPECT_EQ(image.segments(), 1u);
  EXPECT_GT(image.stack_top(), image.stack_bottom());
  EXPECT_GE(image.brk_start(), image.load_base() + elf.size());
  std::string back;
  ASSERT_TRUE(Read(pid, image.load_base(), 4, &back).ok());
  EXPECT_EQ(back, "\x7f" "ELF");
}

TEST_F(ProcessCallsTest, ExecOfANonElfFileIsInvalidArgumentEnoexec) {
  v1::WriteFileRequest file;
  file.set_path("/bin/script");
  file.set_data("#!/bin/sh\necho not an ELF\n");
  v1::FileInfo info;
  ASSERT_TRUE(Call(&v1::Memory::Stub::WriteFile, file, &info).ok());
  uint64_t pid = CreateProcess();
  v1::ExecRequest request;
  request.set_pid(pid);
  request.set_path("/bin/script");
  v1::ExecResponse image;
  grpc::Status s = Call(&v1::Memory::Stub::Exec, request, &image);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "ENOEXEC");
}

TEST_F(ProcessCallsTest, MremapGrowsAMappingKeepingItsContent) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 1);
  ASSERT_TRUE(Write(pid, addr, "kept").ok());
  v1::MremapRequest request;
  request.set_pid(pid);
  request.set_old_addr(addr);
  request.set_old_size(kPage);
  request.set_new_size(4 * kPage);
  request.set_flags(v1::MREMAP_MAYMOVE);
  v1::MremapResponse response;
  grpc::Status s = Call(&v1::Memory::Stub::Mremap, request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  std::string back;
  ASSERT_TRUE(Read(pid, response.addr(), 4, &back).ok());
  EXPECT_EQ(back, "kept");
  EXPECT_TRUE(Write(pid, response.addr() + 3 * kPage, "end").ok());
}

TEST_F(ProcessCallsTest, BrkAndSbrkMoveTheBreak) {
  uint64_t pid = CreateProcess();
  const uint64_t start = Brk(pid, 0);
  ASSERT_NE(start, 0u);
  uint64_t previous = 0;
  ASSERT_TRUE(Sbrk(pid, 2 * kPage, &previous).ok());
  EXPECT_EQ(previous, start);
  EXPECT_EQ(Brk(pid, 0), start + 2 * kPage);
  EXPECT_TRUE(Write(pid, start, "heap").ok());
  ASSERT_TRUE(Sbrk(pid, -int64_t{kPage}, &previous).ok());
  EXPECT_EQ(previous, start + 2 * kPage);
  EXPECT_EQ(Brk(pid, start + 5 * kPage), start + 5 * kPage);
  EXPECT_EQ(Stats(pid).brk(), start + 5 * kPage);
}

TEST_F(ProcessCallsTest, MlockPinsPagesAndMunlockReleasesThem) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 4);
  v1::MlockRequest lock;
  lock.set_pid(pid);
  lock.set_addr(addr);
  lock.set_length(2 * kPage);
  v1::MlockResponse locked;
  grpc::Status s = Call(&v1::Memory::Stub::Mlock, lock, &locked);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(Stats(pid).locked_bytes(), 2 * kPage);
  v1::MunlockRequest unlock;
  unlock.set_pid(pid);
  unlock.set_addr(addr);
  unlock.set_length(2 * kPage);
  v1::MunlockResponse unlocked;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Munlock, unlock, &unlocked).ok());
  EXPECT_EQ(Stats(pid).locked_bytes(), 0u);

  v1::MlockallRequest all;
  all.set_pid(pid);
  all.set_flags(v1::MCL_CURRENT);
  v1::MlockallResponse all_response;
  s = Call(&v1::Memory::Stub::Mlockall, all, &all_response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(Stats(pid).locked_bytes(), 4 * kPage);
  v1::MunlockallRequest none;
  none.set_pid(pid);
  v1::MunlockallResponse none_response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Munlockall, none, &none_response).ok());
  EXPECT_EQ(Stats(pid).locked_bytes(), 0u);
}

TEST_F(ProcessCallsTest, MadviseDontneedDropsPrivateContent) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 2);
  ASSERT_TRUE(Write(pid, addr, "gone soon").ok());
  v1::MadviseRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(2 * kPage);
  request.set_advice(v1::MADV_DONTNEED);
  v1::MadviseResponse response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Madvise, request, &response).ok());
  std::string back;
  ASSERT_TRUE(Read(pid, addr, 9, &back).ok());
  EXPECT_EQ(back, std::string(9, '\0'));

  request.set_advice(static_cast<v1::Advice>(12345));  // unknown advice
  grpc::Status s = Call(&v1::Memory::Stub::Madvise, request, &response);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << Describe(s);
}

TEST_F(ProcessCallsTest, SetLimitsChangesOnlyTheFieldsItSets) {
  uint64_t pid = CreateProcess();
  v1::GetLimitsRequest get;
  get.set_pid(pid);
  v1::GetLimitsResponse before;
  ASSERT_TRUE(Call(&v1::Memory::Stub::GetLimits, get, &before).ok());
  EXPECT_EQ(before.limits().stack(), 8u << 20);
  EXPECT_EQ(before.limits().as(), UINT64_MAX);

  v1::SetLimitsRequest set;
  set.set_pid(pid);
  set.mutable_limits()->set_as(64 * kPage);
  v1::SetLimitsResponse set_response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::SetLimits, set, &set_response).ok());
  v1::GetLimitsResponse after;
  ASSERT_TRUE(Call(&v1::Memory::Stub::GetLimits, get, &after).ok());
  EXPECT_EQ(after.limits().as(), 64 * kPage);
  EXPECT_EQ(after.limits().stack(), before.limits().stack());
  EXPECT_EQ(after.limits().data(), before.limits().data());
  EXPECT_EQ(after.limits().memlock(), before.limits().memlock());
  EXPECT_EQ(Stats(pid).limits().as(), 64 * kPage);

  grpc::Status s = Mmap(pid, 0, 65 * kPage, kRw, kPrivateAnon);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
}

TEST_F(ProcessCallsTest, MallocCallocReallocFree) {
  uint64_t pid = CreateProcess();
  uint64_t p = 0;
  ASSERT_TRUE(Malloc(pid, 100, &p).ok());
  ASSERT_NE(p, 0u);
  ASSERT_TRUE(Write(pid, p, std::string(100, 'm')).ok());

  v1::ReallocRequest realloc;
  realloc.set_pid(pid);
  realloc.set_addr(p);
  realloc.set_size(10000);
  v1::MallocResponse moved;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Realloc, realloc, &moved).ok());
  std::string back;
  ASSERT_TRUE(Read(pid, moved.addr(), 100, &back).ok());
  EXPECT_EQ(back, std::string(100, 'm'));

  v1::CallocRequest calloc;
  calloc.set_pid(pid);
  calloc.set_count(10);
  calloc.set_size(30);
  v1::MallocResponse zeroed;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Calloc, calloc, &zeroed).ok());
  ASSERT_TRUE(Read(pid, zeroed.addr(), 300, &back).ok());
  EXPECT_EQ(back, std::string(300, '\0'));

  EXPECT_TRUE(Free(pid, moved.addr()).ok());
  grpc::Status s = Free(pid, moved.addr());
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << "double free: " << Describe(s);
  s = Free(pid, 0x1234);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << "wild free: " << Describe(s);
}

}  // namespace
}  // namespace memserver::service
