#include "client/memload/byte_size.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace memserver::memload {

namespace {

struct Unit {
  std::string_view name;
  int shift;
};

constexpr std::array<Unit, 13> kUnits{{{"b", 0},
                                       {"k", 10}, {"kb", 10}, {"kib", 10},
                                       {"m", 20}, {"mb", 20}, {"mib", 20},
                                       {"g", 30}, {"gb", 30}, {"gib", 30},
                                       {"t", 40}, {"tb", 40}, {"tib", 40}}};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Status ParseByteSize(std::string_view text, uint64_t* bytes) {
  auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format(
        "invalid size '{}': {} (expected e.g. 4096, 4KiB, 256MiB, 1GiB)", text, why));
  };
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return invalid("too large");
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0) return invalid("no digits");
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit = Lower(text.substr(i));
  int shift = 0;
  if (!unit.empty()) {
    auto it = std::find_if(kUnits.begin(), kUnits.end(),
                           [&](const Unit& u) { return u.name == unit; });
    if (it == kUnits.end()) return invalid("unknown unit");
    shift = it->shift;
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) return invalid("too large");
  *bytes = value << shift;
  return Status::OK();
}

std::string FormatByteSize(uint64_t bytes) {
  static constexpr std::array<std::pair<int, std::string_view>, 4> kNames{
      {{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}}};
  if (bytes != 0) {
    for (const auto& [shift, name] : kNames) {
      uint64_t unit = uint64_t{1} << shift;
      if (bytes % unit == 0) return fmt::format("{}{}", bytes >> shift, name);
    }
  }
  return fmt::format("{}B", bytes);
}

}  // namespace memserver::memload
