// Parsing of memctl's arguments: numbers, byte sizes, protections, hex bytes.
// Every function accepts the whole text or nothing (std::nullopt): no
// trailing garbage, no sign, no silent overflow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memserver::memctl {

// A pid or address: decimal ("4096") or hex with 0x/0X ("0x7f0000000000").
// Leading zeros are decimal, never octal.
std::optional<uint64_t> ParseNumber(std::string_view text);

// A length: a number as ParseNumber, or a decimal number followed by a unit
// (spaces allowed between), case-insensitive: B, K/KiB/KB, M/MiB/MB,
// G/GiB/GB, T/TiB/TB. Every unit is binary (1K = 1KiB = 1024), as
// memserverd's --memory. Examples: "4096", "4KiB", "1MiB", "0x1000".
std::optional<uint64_t> ParseSize(std::string_view text);

// Protection bits (OR of kProt*): "none" (or "-"), or a set of the letters
// r, w, x in any order, each at most once, '-' allowed as a placeholder
// ("rw", "r-x", "rwx"). Case-insensitive.
std::optional<uint32_t> ParseProt(std::string_view text);

// Bytes written as hex digits, two per byte, with an optional 0x prefix;
// whitespace between bytes is ignored ("68656c6c6f", "68 65 6c 6c 6f").
std::optional<std::string> ParseHexBytes(std::string_view text);

}  // namespace memserver::memctl
