// memctl's per-mapping listings, from ListMappings answers:
//
// FormatPmap, like `pmap -x`:
//   1234:   demo
//   Address           Kbytes  RSS  Dirty  Mode  Offset    Mapping
//   0000000010000000       8    4      4  rw-p  00000000  [ anon ]
//   00007f0000000000      16   16      0  rw-s  00001000  /data/f
//   total kB              24   20      4
// Kbytes, RSS and Dirty (shared + private dirty) are KiB, rounded down. Mode
// is the protection plus 's' (shared) or 'p' (private); Offset is the byte
// offset in the backing file, in hex; Mapping is the backing ("[heap]",
// "[stack]", "[shmem]", a file path) or "[ anon ]".
//
// FormatSmaps, like /proc/PID/smaps then /proc/PID/smaps_rollup: per mapping
// a header "start-end mode offset[ backing]" (hex, as /proc/PID/maps; no
// backing for anonymous memory) and the
// lines Size, Rss, Pss, Uss, Shared_Clean, Shared_Dirty, Private_Clean,
// Private_Dirty, Swap, Locked, each "Name:" padded to 16 columns and the
// value in kB right-aligned in 8 ("Rss:                   4 kB"); then a
// "[rollup]" block over [first start, last end) with the same lines but Size,
// each the sum over the mappings (bytes summed, then rounded down to kB).
//
// Backing names come from the server and are shown through Printable().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/lib/types.h"

namespace memserver::memctl {

// "rw-p", "r-xs": FormatProt plus 's' for kMapShared, 'p' otherwise.
std::string FormatMode(uint32_t prot, uint32_t flags);

std::string FormatPmap(uint64_t pid, std::string_view name,
                       const std::vector<client::Mapping>& mappings);

std::string FormatSmaps(const std::vector<client::Mapping>& mappings);

}  // namespace memserver::memctl
