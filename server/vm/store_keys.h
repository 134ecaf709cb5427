// Keys of engine data in the backing store, in one place so the pager, the
// file store and recovery agree on them.
//
//   Space::kSwap   EncodeU64Key(page id)                 anonymous page content
//   Space::kFiles  'p' + be32 inode + be64 page index    file page content (absent: hole)
//                  'i' + be32 inode                      inode record (size, name)
//                  'n' + path                            path -> be32 inode
//                  'c'                                   next inode number
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/backing_store.h"

namespace memserver::keys {

inline void AppendBE(std::string* s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint64_t ReadBE(std::string_view s, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(s[pos + i]);
  return v;
}

inline std::string Swap(uint64_t page_id) { return storage::EncodeU64Key(page_id); }

inline std::string FilePage(uint32_t inode, uint64_t index) {
  std::string k("p");
  AppendBE(&k, inode, 4);
  AppendBE(&k, index, 8);
  return k;
}
// Prefix of every page key of one file.
inline std::string FilePagePrefix(uint32_t inode) {
  std::string k("p");
  AppendBE(&k, inode, 4);
  return k;
}
inline std::string Inode(uint32_t inode) {
  std::string k("i");
  AppendBE(&k, inode, 4);
  return k;
}
inline std::string Name(std::string_view path) { return "n" + std::string(path); }
inline constexpr std::string_view kNextInode = "c";

}  // namespace memserver::keys
