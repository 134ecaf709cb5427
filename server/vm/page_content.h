// Helpers on the bytes of a page.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memserver {

// True when n bytes at p are all zero. Word-at-a-time: pages are
// word-aligned inside the frame pool and n is a multiple of 8.
inline bool IsAllZero(const char* p, size_t n) {
  const uint64_t* w = reinterpret_cast<const uint64_t*>(p);
  for (size_t i = 0; i < n / sizeof(uint64_t); ++i) {
    if (w[i] != 0) return false;
  }
  return true;
}

}  // namespace memserver
