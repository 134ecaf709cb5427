// Byte sizes as people write them: memserverd's --memory/--max-io flags,
// memload's --working-set/--access-size, and the limits named in error
// messages. One grammar for every program.
//
//   ParseByteSize("256MiB") -> 268435456     FormatByteSize(268435456) -> "256MiB"
//
// Accepted: a decimal integer, optionally followed (spaces allowed between)
// by a unit, case-insensitive: B, K/KiB/KB, M/MiB/MB, G/GiB/GB, T/TiB/TB.
// Every unit is binary (K = KiB = 1024): memory sizes are powers of two.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/common/status.h"

namespace memserver {

// InvalidArgument naming the text when it is empty, has no digits, an unknown
// unit, or the value does not fit in 64 bits.
Status ParseByteSize(std::string_view text, uint64_t* bytes);

// The largest unit that divides `bytes` exactly: "4MiB", "1536KiB", "4097B".
// 0 is "0B".
std::string FormatByteSize(uint64_t bytes);

}  // namespace memserver
