// Human-readable output of memctl: sizes, protections, flags, limits, exec
// images, tables, and text that came from the server (shown safely on a
// terminal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/lib/types.h"

namespace memserver::memctl {

// The largest binary unit that divides `bytes` exactly: "4KiB", "1536KiB",
// "1MiB", "4097B"; 0 is "0B". Exact, so it reads back with ParseSize.
std::string FormatSize(uint64_t bytes);

// "0x7f0000001000".
std::string FormatAddress(uint64_t address);

// "rwx" with '-' for missing bits: "rw-", "r--", "---".
std::string FormatProt(uint32_t prot);

// Mapping flags as words: "private", "shared", plus "anon", "fixed",
// "fixed-noreplace", "locked", "populate" and any unknown bits in hex:
// "private,anon".
std::string FormatMapFlags(uint32_t flags);

// A resource limit: "unlimited" for client::kUnlimited, else FormatSize;
// "-" when unset. Reads back with ParseLimit.
std::string FormatLimit(std::optional<uint64_t> limit);

// The limits, one "name  value" line each (as, data, stack, memlock).
std::string FormatLimits(const client::Limits& limits);

// Where exec put the program, one "name  value" line each: entry, load base,
// brk, stack ([bottom, top) as "0x...-0x..."), segments.
std::string FormatExecImage(const client::ExecImage& image);

// `text` with every byte outside printable ASCII replaced by '?', cut to
// `max_length` bytes: names chosen by remote users never drive the terminal.
std::string Printable(std::string_view text, size_t max_length = 64);

// A text table: columns separated by two spaces, every column padded to its
// widest cell; columns marked numeric are right-aligned.
class Table {
 public:
  // `numeric[i]` right-aligns column i (missing entries: left-aligned).
  Table(std::vector<std::string> headers, std::vector<bool> numeric);
  // REQUIRES: cells.size() == number of headers.
  void AddRow(std::vector<std::string> cells);
  // Header line then rows, each ending in '\n', without trailing spaces.
  std::string ToString() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
  std::vector<bool> numeric_;
};

}  // namespace memserver::memctl
