#include "server/engine/elf_image.h"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <memory>

namespace memserver {

namespace {

Status NoExec(std::string_view why) {
  return Status::InvalidArgument(fmt::format("not a loadable ELF64 executable: {}", why), "ENOEXEC");
}

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

}  // namespace

Status ParseElfImage(std::string_view file, uint64_t top, uint32_t page_size, ElfImage* image) {
  static const bool initialised = elf_version(EV_CURRENT) != EV_NONE;
  if (!initialised) return Status::Internal("libelf could not be initialised");
  if (file.size() < EI_NIDENT || file.compare(0, SELFMAG, ELFMAG) != 0) return NoExec("no ELF magic");
  if (static_cast<unsigned char>(file[EI_CLASS]) != ELFCLASS64) return NoExec("not ELFCLASS64");
  if (static_cast<unsigned char>(file[EI_DATA]) != ELFDATA2LSB) return NoExec("not little-endian");
  if (file.size() < sizeof(Elf64_Ehdr)) return NoExec("truncated ELF header");

  // libelf reads from our buffer and never writes to it (ELF_C_READ_MMAP semantics).
  std::unique_ptr<Elf, ElfCloser> elf(elf_memory(const_cast<char*>(file.data()), file.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return NoExec(elf_errmsg(-1));
  GElf_Ehdr eh;
  if (!gelf_getehdr(elf.get(), &eh)) return NoExec(elf_errmsg(-1));
  if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_AARCH64) {
    return NoExec(fmt::format("machine {} is not x86-64 or AArch64", eh.e_machine));
  }
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return NoExec(fmt::format("type {} is not EXEC or DYN", eh.e_type));
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return NoExec("unexpected program header size");
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) return NoExec(elf_errmsg(-1));
  if (phnum == 0 || phnum > 4096) return NoExec(fmt::format("{} program headers", phnum));
  if (eh.e_phoff > file.size() || phnum * sizeof(Elf64_Phdr) > file.size() - eh.e_phoff) {
    return NoExec("program headers run past the end of the file");
  }

  // Position-independent executables load at a fixed bias, like Linux's
  // ELF_ET_DYN_BASE (2/3 of the address space, page-aligned).
  const uint64_t bias = eh.e_type == ET_DYN ? ((top / 3 * 2) & ~((uint64_t{1} << 21) - 1)) : 0;
  std::vector<LoadSegment> segs;
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph)) return NoExec(elf_errmsg(-1));
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz) return NoExec(fmt::format("segment {}: filesz > memsz", i));
    if (ph.p_offset > file.size() || ph.p_filesz > file.size() - ph.p_offset) {
      return NoExec(fmt::format("segment {}: file range runs past the end of the file", i));
    }
    if ((ph.p_vaddr % page_size) != (ph.p_offset % page_size)) {
      return NoExec(fmt::format("segment {}: address and offset differ modulo the page size", i));
    }
    if (ph.p_vaddr > top || ph.p_memsz > top - ph.p_vaddr || bias > top - ph.p_vaddr - ph.p_memsz) {
      return NoExec(fmt::format("segment {}: outside the {}-byte address space", i, top));
    }
    LoadSegment seg;
    seg.vaddr = ph.p_vaddr + bias;
    seg.offset = ph.p_offset;
    seg.filesz = ph.p_filesz;
    seg.memsz = ph.p_memsz;
    seg.prot = ((ph.p_flags & PF_R) ? 1u : 0u) | ((ph.p_flags & PF_W) ? 2u : 0u) | ((ph.p_flags & PF_X) ? 4u : 0u);
    if (seg.vaddr < 0x10000) return NoExec(fmt::format("segment {}: below the lowest mappable address", i));
    segs.push_back(seg);
  }
  if (segs.empty()) return NoExec("no PT_LOAD segment");
  std::sort(segs.begin(), segs.end(), [](const LoadSegment& a, const LoadSegment& b) { return a.vaddr < b.vaddr; });
  for (size_t i = 1; i < segs.size(); ++i) {
    if (segs[i - 1].vaddr + segs[i - 1].memsz > segs[i].vaddr) {
      return NoExec(fmt::format("segments at {:#x} and {:#x} overlap", segs[i - 1].vaddr, segs[i].vaddr));
    }
  }
  image->entry = eh.e_entry + bias;
  image->segments = std::move(segs);
  return Status::OK();
}

}  // namespace memserver
