#include "client/memctl/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>


namespace memserver::memctl {

std::string FormatSize(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes == 0) return "0B";
  size_t unit = 0;
  while (unit + 1 < std::size(kUnits) && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{}{}", bytes, kUnits[unit]);
}

std::string FormatAddress(uint64_t address) { return fmt::format("{:#x}", address); }

std::string FormatProt(uint32_t prot) {
  std::string s = "---";
  if (prot & client::kProtRead) s[0] = 'r';
  if (prot & client::kProtWrite) s[1] = 'w';
  if (prot & client::kProtExec) s[2] = 'x';
  return s;
}

std::string FormatMapFlags(uint32_t flags) {
  std::vector<std::string> words;
  const std::pair<uint32_t, const char*> kNames[] = {
      {client::kMapPrivate, "private"}, {client::kMapShared, "shared"},
      {client::kMapAnonymous, "anon"},  {client::kMapFixed, "fixed"},
      {client::kMapFixedNoreplace, "fixed-noreplace"}, {client::kMapLocked, "locked"},
      {client::kMapPopulate, "populate"}};
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) {
      words.emplace_back(name);
      flags &= ~bit;
    }
  }
  if (flags != 0) words.push_back(fmt::format("{:#x}", flags));
  if (words.empty()) return "-";
  return fmt::format("{}", fmt::join(words, ","));
}

std::string FormatLimit(std::optional<uint64_t> limit) {
  if (!limit) return "-";
  if (*limit == client::kUnlimited) return "unlimited";
  return FormatSize(*limit);
}

std::string FormatLimits(const client::Limits& limits) {
  Table t({"limit", "value"}, {false, true});
  t.AddRow({"as", FormatLimit(limits.as)});
  t.AddRow({"data", FormatLimit(limits.data)});
  t.AddRow({"stack", FormatLimit(limits.stack)});
  t.AddRow({"memlock", FormatLimit(limits.memlock)});
  return t.ToString();
}

std::string FormatExecImage(const client::ExecImage& image) {
  Table t({"exec", ""}, {});
  t.AddRow({"entry", FormatAddress(image.entry)});
  t.AddRow({"load base", FormatAddress(image.load_base)});
  t.AddRow({"brk", FormatAddress(image.brk_start)});
  t.AddRow({"stack", FormatAddress(image.stack_bottom) + "-" + FormatAddress(image.stack_top)});
  t.AddRow({"segments", std::to_string(image.segments)});
  return t.ToString();
}

std::string Printable(std::string_view text, size_t max_length) {
  std::string out;
  for (char c : text.substr(0, max_length)) out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  if (text.size() > max_length) out += "...";
  return out;
}

Table::Table(std::vector<std::string> headers, std::vector<bool> numeric)
    : numeric_(std::move(numeric)) {
  numeric_.resize(headers.size(), false);
  rows_.push_back(std::move(headers));
}

void Table::AddRow(std::vector<std::string> cells) {
  if (cells.size() != rows_[0].size()) throw std::logic_error("Table::AddRow: wrong cell count");
  rows_.push_back(std::move(cells));
}

std::string Table::ToString() const {
  std::vector<size_t> widths(rows_[0].size(), 0);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      std::string pad(widths[i] - row[i].size(), ' ');
      line += numeric_[i] ? pad + row[i] : row[i] + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace memserver::memctl
