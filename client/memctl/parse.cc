#include "client/memctl/parse.h"

#include <cctype>
#include <limits>
#include <utility>

#include "client/lib/types.h"

namespace memserver::memctl {

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool HasHexPrefix(std::string_view text) {
  return text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

// Digits in `base` (10 or 16) only, at least one; nullopt on overflow.
std::optional<uint64_t> ParseDigits(std::string_view digits, int base) {
  if (digits.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    int d = HexDigit(c);
    if (d < 0 || d >= base) return std::nullopt;
    if (value > (kMax - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return std::nullopt;
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  return value;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// log2 of the unit's multiplier, or -1 for an unknown unit.
int UnitShift(std::string_view unit) {
  std::string u = Lower(unit);
  if (u.empty() || u == "b") return 0;
  if (u == "k" || u == "kib" || u == "kb") return 10;
  if (u == "m" || u == "mib" || u == "mb") return 20;
  if (u == "g" || u == "gib" || u == "gb") return 30;
  if (u == "t" || u == "tib" || u == "tb") return 40;
  return -1;
}

}  // namespace

std::optional<uint64_t> ParseNumber(std::string_view text) {
  if (HasHexPrefix(text)) return ParseDigits(text.substr(2), 16);
  return ParseDigits(text, 10);
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  if (HasHexPrefix(text)) return ParseDigits(text.substr(2), 16);
  size_t digits_end = 0;
  while (digits_end < text.size() && std::isdigit(static_cast<unsigned char>(text[digits_end]))) {
    ++digits_end;
  }
  std::optional<uint64_t> value = ParseDigits(text.substr(0, digits_end), 10);
  if (!value) return std::nullopt;
  std::string_view unit = text.substr(digits_end);
  bool spaced = !unit.empty() && unit.front() == ' ';
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (spaced && unit.empty()) return std::nullopt;  // spaces only before a unit
  int shift = UnitShift(unit);
  if (shift < 0) return std::nullopt;
  if (*value > (kMax >> shift)) return std::nullopt;
  return *value << shift;
}

std::optional<int64_t> ParseSignedSize(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) return std::nullopt;
  std::optional<uint64_t> magnitude = ParseSize(text);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (*magnitude > kMaxPositive + 1) return std::nullopt;
    if (*magnitude == kMaxPositive + 1) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(*magnitude);
  }
  if (*magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(*magnitude);
}

std::optional<uint64_t> ParseLimit(std::string_view text) {
  std::string t = Lower(text);
  if (t == "unlimited" || t == "infinity") return client::kUnlimited;
  return ParseSize(text);
}

namespace {

constexpr std::pair<client::Advice, const char*> kAdviceNames[] = {
    {client::Advice::kNormal, "normal"},         {client::Advice::kRandom, "random"},
    {client::Advice::kSequential, "sequential"}, {client::Advice::kWillNeed, "willneed"},
    {client::Advice::kDontNeed, "dontneed"},     {client::Advice::kFree, "free"},
    {client::Advice::kDontFork, "dontfork"},     {client::Advice::kDoFork, "dofork"},
    {client::Advice::kWipeOnFork, "wipeonfork"}, {client::Advice::kKeepOnFork, "keeponfork"},
};

}  // namespace

std::optional<client::Advice> ParseAdvice(std::string_view text) {
  std::string t = Lower(text);
  if (t.rfind("madv_", 0) == 0) t.erase(0, 5);
  for (const auto& [advice, name] : kAdviceNames) {
    if (t == name) return advice;
  }
  return std::nullopt;
}

std::string AdviceName(client::Advice advice) {
  for (const auto& [value, name] : kAdviceNames) {
    if (value == advice) return name;
  }
  return std::to_string(static_cast<int>(advice));
}

std::optional<uint32_t> ParseProt(std::string_view text) {
  std::string t = Lower(text);
  if (t == "none" || t == "-") return client::kProtNone;
  if (t.empty()) return std::nullopt;
  uint32_t prot = 0;
  for (char c : t) {
    uint32_t bit = c == 'r' ? client::kProtRead
                 : c == 'w' ? client::kProtWrite
                 : c == 'x' ? client::kProtExec
                            : 0;
    if (c == '-') continue;
    if (bit == 0 || (prot & bit) != 0) return std::nullopt;
    prot |= bit;
  }
  return prot;
}

std::optional<std::string> ParseHexBytes(std::string_view text) {
  if (HasHexPrefix(text)) text.remove_prefix(2);
  std::string bytes;
  int high = -1;  // first digit of the byte being read, or -1
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (high >= 0) return std::nullopt;  // no space inside a byte
      continue;
    }
    int d = HexDigit(c);
    if (d < 0) return std::nullopt;
    if (high < 0) {
      high = d;
    } else {
      bytes.push_back(static_cast<char>(high * 16 + d));
      high = -1;
    }
  }
  if (high >= 0 || bytes.empty()) return std::nullopt;
  return bytes;
}

}  // namespace memserver::memctl
