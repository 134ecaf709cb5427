// Durations on command lines and in config files (memctl create --lease,
// memserverd --snapshot-interval).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace memserver {

// A decimal number followed by a unit, case-insensitive, spaces allowed
// between: ms, s, m (minutes), h, d. "30s" -> 30000, "1500ms" -> 1500,
// "2h" -> 7200000. nullopt for a missing unit, an unknown one, a number
// that is not decimal, or a result over UINT64_MAX milliseconds.
std::optional<uint64_t> ParseDurationMs(std::string_view text);

}  // namespace memserver
