#include "client/memctl/hexdump.h"

#include <fmt/format.h>

#include <algorithm>

namespace memserver::memctl {

namespace {

constexpr size_t kBytesPerLine = 16;

int HexWidth(uint64_t value) {
  int width = 1;
  while (value >>= 4) ++width;
  return width;
}

void AppendLine(std::string* out, uint64_t address, int width, std::string_view bytes) {
  fmt::format_to(std::back_inserter(*out), "{:0{}x}  ", address, width);
  for (size_t i = 0; i < kBytesPerLine; ++i) {
    if (i < bytes.size()) {
      fmt::format_to(std::back_inserter(*out), "{:02x} ", static_cast<unsigned char>(bytes[i]));
    } else {
      out->append("   ");
    }
    if (i == 7) out->push_back(' ');
  }
  out->append(" |");
  for (char c : bytes) out->push_back(c >= 0x20 && c <= 0x7e ? c : '.');
  out->append("|\n");
}

}  // namespace

std::string Hexdump(uint64_t address, std::string_view data, bool squeeze) {
  // The end address may wrap past 2^64 for a read ending at the top; the
  // column width is taken from the largest address printed.
  uint64_t end = address + data.size();
  uint64_t largest = end < address ? UINT64_MAX : end;
  int width = std::max(8, HexWidth(largest));

  std::string out;
  std::string_view previous;
  bool in_squeezed_run = false;
  for (size_t offset = 0; offset < data.size(); offset += kBytesPerLine) {
    std::string_view line = data.substr(offset, kBytesPerLine);
    if (squeeze && offset > 0 && line.size() == kBytesPerLine && line == previous) {
      if (!in_squeezed_run) out.append("*\n");
      in_squeezed_run = true;
      continue;
    }
    in_squeezed_run = false;
    AppendLine(&out, address + offset, width, line);
    previous = line;
  }
  fmt::format_to(std::back_inserter(out), "{:0{}x}\n", end, width);
  return out;
}

}  // namespace memserver::memctl
