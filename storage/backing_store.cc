// Helpers declared in storage/backing_store.h that do not depend on RocksDB.
#include "storage/backing_store.h"

namespace memserver::storage {

const char* SpaceName(Space s) {
  switch (s) {
    case Space::kSwap:
      return "swap";
    case Space::kFiles:
      return "files";
    case Space::kMeta:
      return "meta";
  }
  return "unknown";
}

std::string EncodeU64Key(uint64_t id) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return key;
}

uint64_t DecodeU64Key(std::string_view key) {
  // Keys shorter than 8 bytes decode as if left-padded with zeros; only the
  // first 8 bytes of a longer key are used. Callers pass keys they encoded.
  uint64_t id = 0;
  const size_t n = key.size() < 8 ? key.size() : 8;
  for (size_t i = 0; i < n; ++i) {
    id = (id << 8) | static_cast<unsigned char>(key[i]);
  }
  return id;
}

}  // namespace memserver::storage
