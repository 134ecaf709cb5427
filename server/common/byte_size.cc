#include "server/common/byte_size.h"

#include <fmt/format.h>

#include <cctype>

namespace memserver {

namespace {

struct Unit {
  const char* names[3];
  int shift;
};

constexpr Unit kUnits[] = {
    {{"", "b", "b"}, 0},
    {{"k", "kib", "kb"}, 10},
    {{"m", "mib", "mb"}, 20},
    {{"g", "gib", "gb"}, 30},
    {{"t", "tib", "tb"}, 40},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Status ParseByteSize(std::string_view text, uint64_t* bytes) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format(
        "invalid size '{}': {} (expected e.g. 4096, 64KiB, 256MiB, 1GiB)", text, why));
  };
  size_t i = 0;
  while (i < text.size() && IsSpace(text[i])) ++i;
  if (i == text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) {
    return invalid("must start with a number");
  }
  uint64_t value = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return invalid("does not fit in 64 bits");
    value = value * 10 + digit;
  }
  while (i < text.size() && IsSpace(text[i])) ++i;
  size_t end = text.size();
  while (end > i && IsSpace(text[end - 1])) --end;
  const std::string unit = Lower(text.substr(i, end - i));

  for (const Unit& u : kUnits) {
    for (const char* name : u.names) {
      if (unit != name) continue;
      if (u.shift > 0 && value > (UINT64_MAX >> u.shift)) return invalid("does not fit in 64 bits");
      *bytes = value << u.shift;
      return Status::OK();
    }
  }
  return invalid(fmt::format("unknown unit '{}' (use B, KiB, MiB, GiB, TiB or K, M, G, T)",
                             text.substr(i, end - i)));
}

std::string FormatByteSize(uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes == 0) return "0B";
  int unit = 0;
  while (unit < 4 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{}{}", bytes, kNames[unit]);
}

}  // namespace memserver
