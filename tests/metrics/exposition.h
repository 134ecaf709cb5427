// Reads the Prometheus text exposition format back into samples, so tests
// can check values rather than grep for substrings.
#pragma once

#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>
#include <string>

namespace memserver::metrics::testutil {

// "name{labels}" (exactly as the text has it, or "name" without labels) ->
// value. Comment lines (# HELP, # TYPE) are skipped.
inline std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string value = line.substr(space + 1);
    double v = 0;
    if (value == "+Inf") {
      v = std::numeric_limits<double>::infinity();
    } else {
      v = std::strtod(value.c_str(), nullptr);
    }
    samples[line.substr(0, space)] = v;
  }
  return samples;
}

// samples[key], or -1 when the sample is missing (every value we check is >= 0).
inline double Value(const std::map<std::string, double>& samples, const std::string& key) {
  auto it = samples.find(key);
  return it == samples.end() ? -1 : it->second;
}

}  // namespace memserver::metrics::testutil
