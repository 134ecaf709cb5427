// Internal to client/lib: a local file descriptor for UploadFile and
// DownloadFile, with errors as client::Error (see LocalFileError).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "client/lib/error.h"

namespace memserver::client {

// The Error for a failed local operation `what` ("open", "read", ...) on
// `path` with errno `err`: NOT_FOUND for ENOENT, PERMISSION_DENIED for
// EACCES/EPERM, INVALID_ARGUMENT for EISDIR/ENOTDIR, RESOURCE_EXHAUSTED for
// ENOSPC/EDQUOT, else UNKNOWN; errno_name() is the errno's name ("ENOENT").
Error LocalFileError(const char* what, const std::string& path, int err);

// An open local file, closed by the destructor. Every method throws
// LocalFileError on failure.
class LocalFile {
 public:
  static LocalFile OpenForReading(const std::string& path);
  // Creates the file (mode 0666 & ~umask) or truncates it.
  static LocalFile CreateForWriting(const std::string& path);
  ~LocalFile();
  LocalFile(LocalFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }
  LocalFile(const LocalFile&) = delete;
  LocalFile& operator=(const LocalFile&) = delete;
  LocalFile& operator=(LocalFile&&) = delete;

  // Reads until `size` bytes or end of file; returns the bytes read (less
  // than `size` only at end of file).
  size_t ReadFull(char* buffer, size_t size);
  void WriteAll(std::string_view data);
  // Closes, reporting a failed close (delayed write errors) as an Error.
  void Close();

 private:
  LocalFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;  // -1 when closed
};

}  // namespace memserver::client
