// ElfBuilder: crafted ELF64 executables as byte strings, for exec tests.
//
// The file is filled with a non-zero pattern (conformance::Pattern of
// `seed`, by file offset), then the ELF header and program headers are
// written at the start. A test compares memory with the bytes of the built
// string, so any byte exec takes from the wrong offset, or any bss byte it
// fails to zero, shows up.
//
// Nothing here validates: tests build broken files on purpose.
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {

struct ElfSegment {
  uint32_t type = PT_LOAD;
  uint32_t flags = PF_R;
  uint64_t vaddr = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
};

struct ElfSpec {
  uint8_t elf_class = ELFCLASS64;
  uint16_t type = ET_EXEC;
  uint16_t machine = EM_X86_64;
  uint64_t entry = 0;
  std::vector<ElfSegment> segments;
  // Exact size of the file when non-zero (may cut segments short);
  // otherwise just large enough for the headers and every segment.
  uint64_t file_size = 0;
  uint64_t seed = 7;
};

inline std::string BuildElf(const ElfSpec& spec) {
  const uint64_t headers = sizeof(Elf64_Ehdr) + spec.segments.size() * sizeof(Elf64_Phdr);
  uint64_t size = headers;
  for (const ElfSegment& s : spec.segments) size = std::max(size, s.offset + s.filesz);
  std::string file = Pattern(spec.seed, 0, std::max(size, spec.file_size));

  Elf64_Ehdr eh;
  std::memset(&eh, 0, sizeof(eh));
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = spec.elf_class;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  eh.e_type = spec.type;
  eh.e_machine = spec.machine;
  eh.e_version = EV_CURRENT;
  eh.e_entry = spec.entry;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(spec.segments.size());
  eh.e_shentsize = sizeof(Elf64_Shdr);
  std::memcpy(file.data(), &eh, sizeof(eh));
  for (size_t i = 0; i < spec.segments.size(); ++i) {
    const ElfSegment& s = spec.segments[i];
    Elf64_Phdr ph;
    std::memset(&ph, 0, sizeof(ph));
    ph.p_type = s.type;
    ph.p_flags = s.flags;
    ph.p_offset = s.offset;
    ph.p_vaddr = ph.p_paddr = s.vaddr;
    ph.p_filesz = s.filesz;
    ph.p_memsz = s.memsz;
    ph.p_align = 0x1000;
    std::memcpy(file.data() + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr), &ph, sizeof(ph));
  }
  if (spec.file_size != 0) file.resize(spec.file_size);
  return file;
}

// The layout most exec tests use, like a small static binary:
//   text  0x400000 R-X  file [0, 0x3000)                     (3 pages)
//   data  0x603000 RW-  file [0x3000, 0x4800), memsz 0x4000  (bss from 0x604800)
// The file is 0x5000 bytes: [0x4800, 0x5000) is non-zero junk after the
// data that must read as zero (bss) in memory.
struct StandardLayout {
  static constexpr uint64_t kTextAddr = 0x400000;
  static constexpr uint64_t kTextSize = 0x3000;
  static constexpr uint64_t kDataAddr = 0x603000;
  static constexpr uint64_t kDataOffset = 0x3000;
  static constexpr uint64_t kDataFileSize = 0x1800;
  static constexpr uint64_t kDataMemSize = 0x4000;
  static constexpr uint64_t kBssAddr = kDataAddr + kDataFileSize;
  static constexpr uint64_t kEnd = kDataAddr + kDataMemSize;  // page-aligned: brk starts here
  static constexpr uint64_t kEntry = kTextAddr + 0x120;

  static ElfSpec Spec() {
    ElfSpec spec;
    spec.entry = kEntry;
    spec.segments.push_back(ElfSegment{PT_LOAD, PF_R | PF_X, kTextAddr, 0, kTextSize, kTextSize});
    spec.segments.push_back(
        ElfSegment{PT_LOAD, PF_R | PF_W, kDataAddr, kDataOffset, kDataFileSize, kDataMemSize});
    spec.file_size = 0x5000;
    return spec;
  }
};

// A text-only executable of `pages` pages at 0x400000 (for sharing tests).
inline ElfSpec TextOnlySpec(uint64_t pages) {
  ElfSpec spec;
  spec.entry = 0x400000 + 0x100;
  spec.segments.push_back(ElfSegment{PT_LOAD, PF_R | PF_X, 0x400000, 0, pages * 0x1000, pages * 0x1000});
  return spec;
}

// Program headers of a real ELF64 file (for checking what exec mapped).
inline std::vector<Elf64_Phdr> LoadHeaders(const std::string& file) {
  std::vector<Elf64_Phdr> out;
  if (file.size() < sizeof(Elf64_Ehdr)) return out;
  Elf64_Ehdr eh;
  std::memcpy(&eh, file.data(), sizeof(eh));
  for (uint64_t i = 0; i < eh.e_phnum; ++i) {
    const uint64_t at = eh.e_phoff + i * sizeof(Elf64_Phdr);
    if (at + sizeof(Elf64_Phdr) > file.size()) break;
    Elf64_Phdr ph;
    std::memcpy(&ph, file.data() + at, sizeof(ph));
    if (ph.p_type == PT_LOAD && ph.p_memsz > 0) out.push_back(ph);
  }
  return out;
}

}  // namespace memserver::conformance
