#include "server/tools/memsim/byte_source.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace memserver::memsim {

namespace {

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

Status OpenError(const std::string& path, int err) {
  const std::string msg = fmt::format("cannot open trace '{}': {}", path, std::strerror(err));
  if (err == ENOENT) return Status::NotFound(msg, "ENOENT");
  if (err == EACCES) return Status::PermissionDenied(msg, "EACCES");
  return Status::IOError(msg);
}

Status DataLoss(const std::string& path, const std::string& what) {
  return Status(StatusCode::kDataLoss, fmt::format("trace '{}': {}", path, what), "EIO");
}

class FileSource : public ByteSource {
 public:
  FileSource(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  ~FileSource() override { std::fclose(f_); }
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = std::fread(buf, 1, n, f_);
    if (*got == 0 && std::ferror(f_)) return Status::IOError("read error on " + path_);
    return Status::OK();
  }

 protected:
  std::string path_;
  std::FILE* f_;
};

class ZstdSource : public FileSource {
 public:
  ZstdSource(std::string path, std::FILE* f)
      : FileSource(std::move(path), f), in_buf_(ZSTD_DStreamInSize()) {
    stream_ = ZSTD_createDStream();
    ZSTD_initDStream(stream_);
  }
  ~ZstdSource() override { ZSTD_freeDStream(stream_); }

  Status Read(char* buf, size_t n, size_t* got) override {
    *got = 0;
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (in_.pos == in_.size) {
        const size_t r = std::fread(in_buf_.data(), 1, in_buf_.size(), f_);
        if (r == 0) {
          if (std::ferror(f_)) return Status::IOError("read error on " + path_);
          if (!frame_done_) return DataLoss(path_, "truncated zstd stream");
          return Status::OK();  // clean end
        }
        in_ = ZSTD_inBuffer{in_buf_.data(), r, 0};
      }
      const size_t ret = ZSTD_decompressStream(stream_, &out, &in_);
      if (ZSTD_isError(ret)) return DataLoss(path_, ZSTD_getErrorName(ret));
      frame_done_ = (ret == 0);
    }
    *got = out.pos;
    return Status::OK();
  }

 private:
  ZSTD_DStream* stream_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool frame_done_ = true;  // an empty file is a valid (empty) stream
};

class GzipSource : public ByteSource {
 public:
  GzipSource(std::string path, gzFile f) : path_(std::move(path)), f_(f) {}
  ~GzipSource() override { gzclose(f_); }
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = 0;
    const int r = gzread(f_, buf, static_cast<unsigned>(std::min<size_t>(n, 1u << 30)));
    if (r < 0) {
      int errnum = 0;
      const char* msg = gzerror(f_, &errnum);
      return DataLoss(path_, msg ? msg : "gzip error");
    }
    *got = static_cast<size_t>(r);
    return Status::OK();
  }

 private:
  std::string path_;
  gzFile f_;
};

}  // namespace

Status OpenByteSource(const std::string& path, std::unique_ptr<ByteSource>* source) {
  if (EndsWith(path, ".gz")) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) return OpenError(path, errno ? errno : ENOMEM);
    *source = std::make_unique<GzipSource>(path, f);
    return Status::OK();
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return OpenError(path, errno);
  if (EndsWith(path, ".zst")) {
    *source = std::make_unique<ZstdSource>(path, f);
  } else {
    *source = std::make_unique<FileSource>(path, f);
  }
  return Status::OK();
}

}  // namespace memserver::memsim
