#include "client/memctl/usage_format.h"

#include <fmt/format.h>

#include "client/memctl/format.h"

namespace memserver::memctl {

namespace {

constexpr size_t kMaxBackingChars = 256;

std::string Backing(const client::Mapping& m, const char* anonymous) {
  return m.backing.empty() ? anonymous : Printable(m.backing, kMaxBackingChars);
}

std::string Kib(uint64_t bytes) { return std::to_string(bytes / 1024); }

// "Rss:                   4 kB\n"
std::string SmapsLine(std::string_view name, uint64_t bytes) {
  return fmt::format("{:<16}{:>8} kB\n", std::string(name) + ":", bytes / 1024);
}

// Every line of a smaps block but Size.
std::string UsageLines(const client::MemoryUsage& u) {
  return SmapsLine("Rss", u.rss) + SmapsLine("Pss", u.pss) + SmapsLine("Uss", u.uss) +
         SmapsLine("Shared_Clean", u.shared_clean) + SmapsLine("Shared_Dirty", u.shared_dirty) +
         SmapsLine("Private_Clean", u.private_clean) +
         SmapsLine("Private_Dirty", u.private_dirty) + SmapsLine("Swap", u.swap) +
         SmapsLine("Locked", u.locked);
}

}  // namespace

std::string FormatMode(uint32_t prot, uint32_t flags) {
  return FormatProt(prot) + ((flags & client::kMapShared) ? 's' : 'p');
}

std::string FormatPmap(uint64_t pid, std::string_view name,
                       const std::vector<client::Mapping>& mappings) {
  std::string out = fmt::format("{}:   {}\n", pid, Printable(name));
  Table t({"Address", "Kbytes", "RSS", "Dirty", "Mode", "Offset", "Mapping"},
          {false, true, true, true, false, false, false});
  uint64_t size = 0, rss = 0, dirty = 0;
  for (const client::Mapping& m : mappings) {
    const uint64_t m_dirty = m.usage.shared_dirty + m.usage.private_dirty;
    t.AddRow({fmt::format("{:016x}", m.start), Kib(m.end - m.start), Kib(m.usage.rss), Kib(m_dirty),
              FormatMode(m.prot, m.flags), fmt::format("{:08x}", m.offset), Backing(m, "[ anon ]")});
    size += m.end - m.start;
    rss += m.usage.rss;
    dirty += m_dirty;
  }
  t.AddRow({"total kB", Kib(size), Kib(rss), Kib(dirty), "", "", ""});
  return out + t.ToString();
}

std::string FormatSmaps(const std::vector<client::Mapping>& mappings) {
  std::string out;
  client::MemoryUsage total;
  for (const client::Mapping& m : mappings) {
    out += fmt::format("{:08x}-{:08x} {} {:08x}", m.start, m.end, FormatMode(m.prot, m.flags),
                       m.offset);
    out += m.backing.empty() ? "\n" : " " + Backing(m, "") + "\n";
    out += SmapsLine("Size", m.end - m.start);
    out += UsageLines(m.usage);
    total += m.usage;
  }
  const uint64_t first = mappings.empty() ? 0 : mappings.front().start;
  const uint64_t last = mappings.empty() ? 0 : mappings.back().end;
  out += fmt::format("{:08x}-{:08x} ---p 00000000 [rollup]\n", first, last);
  out += UsageLines(total);
  return out;
}

}  // namespace memserver::memctl
