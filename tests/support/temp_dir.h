// TempDir: a fresh directory (mkdtemp under GoogleTest's temp directory,
// normally /tmp), removed with everything in it when the object is
// destroyed. Throws std::runtime_error when it cannot be made, so a test
// never runs against a missing directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace memserver::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "memserver-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace memserver::test
