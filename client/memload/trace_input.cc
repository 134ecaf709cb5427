#include "client/memload/trace_input.h"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

namespace memserver::memload {

namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status OpenError(const std::string& path, int err) {
  std::string message = fmt::format("cannot open trace '{}': {}", path, std::strerror(err));
  if (err == ENOENT) return Status::NotFound(message, "ENOENT");
  if (err == EACCES) return Status::PermissionDenied(message);
  return Status::FailedPrecondition(message);
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

class PlainInput final : public TraceInput {
 public:
  PlainInput(std::string path, File file) : path_(std::move(path)), file_(std::move(file)) {}
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = std::fread(buf, 1, n, file_.get());
    if (*got == 0 && std::ferror(file_.get())) {
      return Status::IOError(fmt::format("cannot read trace '{}'", path_));
    }
    return Status::OK();
  }

 private:
  const std::string path_;
  File file_;
};

class GzipInput final : public TraceInput {
 public:
  GzipInput(std::string path, gzFile file) : path_(std::move(path)), file_(file) {}
  ~GzipInput() override { gzclose(file_); }
  GzipInput(const GzipInput&) = delete;
  GzipInput& operator=(const GzipInput&) = delete;

  Status Read(char* buf, size_t n, size_t* got) override {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, INT_MAX));
    const int r = gzread(file_, buf, chunk);
    if (r < 0) {
      int errnum = 0;
      const char* what = gzerror(file_, &errnum);
      return Status(StatusCode::kDataLoss,
                    fmt::format("corrupt gzip trace '{}': {}", path_, what), "EIO");
    }
    // gzread returns 0 at a clean end, and also (with Z_BUF_ERROR) when the
    // stream was truncated.
    if (r == 0) {
      int errnum = 0;
      gzerror(file_, &errnum);
      if (errnum == Z_BUF_ERROR) {
        return Status(StatusCode::kDataLoss,
                      fmt::format("gzip trace '{}' ends in the middle of a stream", path_), "EIO");
      }
    }
    *got = static_cast<size_t>(r);
    return Status::OK();
  }

 private:
  const std::string path_;
  gzFile file_;
};

class ZstdInput final : public TraceInput {
 public:
  ZstdInput(std::string path, File file)
      : path_(std::move(path)),
        file_(std::move(file)),
        dctx_(ZSTD_createDCtx()),
        in_buf_(ZSTD_DStreamInSize()) {}
  ~ZstdInput() override { ZSTD_freeDCtx(dctx_); }
  ZstdInput(const ZstdInput&) = delete;
  ZstdInput& operator=(const ZstdInput&) = delete;

  Status Read(char* buf, size_t n, size_t* got) override {
    *got = 0;
    if (dctx_ == nullptr) return Status::ResourceExhausted("cannot allocate a zstd context");
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      // Read more input only when the decoder has consumed it all and did
      // not stop because the output was full (it may still hold output).
      if (in_.pos == in_.size && !output_was_full_) {
        if (eof_) break;
        const size_t r = std::fread(in_buf_.data(), 1, in_buf_.size(), file_.get());
        if (r == 0) {
          if (std::ferror(file_.get())) {
            return Status::IOError(fmt::format("cannot read trace '{}'", path_));
          }
          eof_ = true;
          break;
        }
        in_ = ZSTD_inBuffer{in_buf_.data(), r, 0};
      }
      const size_t ret = ZSTD_decompressStream(dctx_, &out, &in_);
      if (ZSTD_isError(ret)) {
        return Status(StatusCode::kDataLoss,
                      fmt::format("corrupt zstd trace '{}': {}", path_, ZSTD_getErrorName(ret)),
                      "EIO");
      }
      frame_done_ = ret == 0;
      output_was_full_ = out.pos == out.size;
    }
    if (out.pos == 0 && eof_ && !frame_done_) {
      return Status(StatusCode::kDataLoss,
                    fmt::format("zstd trace '{}' ends in the middle of a frame", path_), "EIO");
    }
    *got = out.pos;
    return Status::OK();
  }

 private:
  const std::string path_;
  File file_;
  ZSTD_DCtx* dctx_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool eof_ = false;
  bool frame_done_ = true;  // an empty file is an empty trace
  bool output_was_full_ = false;
};

}  // namespace

Status OpenTraceInput(const std::string& path, std::unique_ptr<TraceInput>* input) {
  if (EndsWith(path, ".gz")) {
    gzFile gz = gzopen(path.c_str(), "rb");
    if (gz == nullptr) return OpenError(path, errno != 0 ? errno : ENOMEM);
    *input = std::make_unique<GzipInput>(path, gz);
    return Status::OK();
  }
  File file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return OpenError(path, errno);
  if (EndsWith(path, ".zst")) {
    *input = std::make_unique<ZstdInput>(path, std::move(file));
  } else {
    *input = std::make_unique<PlainInput>(path, std::move(file));
  }
  return Status::OK();
}

}  // namespace memserver::memload
