// Parsing of memctl's arguments: numbers, byte sizes (signed too), limits,
// protections, madvise advice names, hex bytes.
// Every function accepts the whole text or nothing (std::nullopt): no
// trailing garbage, no sign, no silent overflow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/lib/types.h"

namespace memserver::memctl {

// A pid or address: decimal ("4096") or hex with 0x/0X ("0x7f0000000000").
// Leading zeros are decimal, never octal.
std::optional<uint64_t> ParseNumber(std::string_view text);

// A length: a number as ParseNumber, or a decimal number followed by a unit
// (spaces allowed between), case-insensitive: B, K/KiB/KB, M/MiB/MB,
// G/GiB/GB, T/TiB/TB. Every unit is binary (1K = 1KiB = 1024), as
// memserverd's --memory. Examples: "4096", "4KiB", "1MiB", "0x1000".
std::optional<uint64_t> ParseSize(std::string_view text);

// A byte count that may be negative (sbrk's increment): an optional '+' or
// '-' followed by a size as ParseSize; the result fits int64_t
// ("-4096", "+1MiB", "-0x1000", "-9223372036854775808").
std::optional<int64_t> ParseSignedSize(std::string_view text);

// A resource limit: "unlimited" or "infinity" (case-insensitive) is
// client::kUnlimited; anything else is a size as ParseSize.
std::optional<uint64_t> ParseLimit(std::string_view text);

// madvise advice by its Linux name without MADV_, case-insensitive, with or
// without the "madv_" prefix: normal, random, sequential, willneed,
// dontneed, free, dontfork, dofork, wipeonfork, keeponfork.
std::optional<client::Advice> ParseAdvice(std::string_view text);

// The name ParseAdvice reads back ("dontneed"), or the number for a value
// outside the enum.
std::string AdviceName(client::Advice advice);

// Protection bits (OR of kProt*): "none" (or "-"), or a set of the letters
// r, w, x in any order, each at most once, '-' allowed as a placeholder
// ("rw", "r-x", "rwx"). Case-insensitive.
std::optional<uint32_t> ParseProt(std::string_view text);

// Bytes written as hex digits, two per byte, with an optional 0x prefix;
// whitespace between bytes is ignored ("68656c6c6f", "68 65 6c 6c 6f").
std::optional<std::string> ParseHexBytes(std::string_view text);

}  // namespace memserver::memctl
