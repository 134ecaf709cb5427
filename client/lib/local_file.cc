#include "client/lib/local_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace memserver::client {

Error LocalFileError(const char* what, const std::string& path, int err) {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (err) {
    case ENOENT: code = grpc::StatusCode::NOT_FOUND; break;
    case EACCES:
    case EPERM: code = grpc::StatusCode::PERMISSION_DENIED; break;
    case EISDIR:
    case ENOTDIR: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case ENOSPC:
    case EDQUOT: code = grpc::StatusCode::RESOURCE_EXHAUSTED; break;
    default: break;
  }
  const char* name = strerrorname_np(err);
  return Error(code, std::string("cannot ") + what + " local file " + path + ": " + std::strerror(err),
               name != nullptr ? name : "");
}

LocalFile LocalFile::OpenForReading(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw LocalFileError("open", path, errno);
  return LocalFile(path, fd);
}

LocalFile LocalFile::CreateForWriting(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw LocalFileError("create", path, errno);
  return LocalFile(path, fd);
}

LocalFile::~LocalFile() {
  if (fd_ >= 0) ::close(fd_);
}

size_t LocalFile::ReadFull(char* buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd_, buffer + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw LocalFileError("read", path_, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

void LocalFile::WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw LocalFileError("write", path_, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void LocalFile::Close() {
  int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) throw LocalFileError("close", path_, errno);
}

}  // namespace memserver::client
