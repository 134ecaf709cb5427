// Hexdump of bytes read from a remote address, in the layout of
// `hexdump -C`, with the remote addresses in the first column:
//
//   7f0000001000  68 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |hello...........|
//   *
//   7f0000001040  ff                                                |.|
//   7f0000001041
//
// Each line shows 16 bytes starting at `address` + 16*i (rows follow the
// start address, they are not realigned). With `squeeze`, a run of lines equal
// to the line before collapses into one "*". The last line is the end
// address. Addresses are lowercase hex without 0x, zero-padded to one common
// width (at least 8 digits). Bytes outside 0x20..0x7e show as '.'.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memserver::memctl {

std::string Hexdump(uint64_t address, std::string_view data, bool squeeze = true);

}  // namespace memserver::memctl
