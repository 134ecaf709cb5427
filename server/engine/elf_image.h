// ElfImage: validates an ELF64 executable and lists what exec must map.
//
// Accepts ET_EXEC and ET_DYN (position-independent: loaded at a fixed bias)
// for x86-64 and AArch64, little-endian. Rejects with INVALID_ARGUMENT
// (ENOEXEC) and a message naming the problem: truncated headers, wrong
// class/endianness/machine/type, no PT_LOAD, a segment whose file range runs
// past the file, filesz > memsz, offset and address not congruent modulo the
// page size, segments that overlap or lie outside the address space.
// Parsing uses libelf on an in-memory copy: nothing here trusts a field
// before checking it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/vm/address_space.h"

namespace memserver {

struct ElfImage {
  uint64_t entry = 0;  // load bias applied
  std::vector<LoadSegment> segments;
};

// `top` is the end of the address space; `page_size` the server's page size.
Status ParseElfImage(std::string_view file, uint64_t top, uint32_t page_size, ElfImage* image);

}  // namespace memserver
