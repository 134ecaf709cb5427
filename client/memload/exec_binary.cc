#include "client/memload/exec_binary.h"

#include <fmt/format.h>
#include <grpcpp/client_context.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/common/byte_size.h"
#include "client/memload/grpc_codes.h"

namespace memserver::memload {

namespace {

constexpr uint64_t kChunkBytes = uint64_t{1} << 20;
constexpr const char* kStoreDir = "/memload/";

Status ReadLocalFile(const std::string& path, std::string* content) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return Status::InvalidArgument(
        fmt::format("cannot read the executable '{}': {}", path, ec.message()));
  }
  if (size == 0) return Status::InvalidArgument(fmt::format("the executable '{}' is empty", path));
  if (size > kMaxExecBinaryBytes) {
    return Status::InvalidArgument(fmt::format("the executable '{}' is {} bytes, over {}", path,
                                               size, FormatByteSize(kMaxExecBinaryBytes)));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return Status::InvalidArgument(fmt::format("cannot read the executable '{}'", path));
  }
  *content = std::move(bytes).str();
  if (content->empty()) {
    return Status::InvalidArgument(fmt::format("cannot read the executable '{}'", path));
  }
  return Status::OK();
}

}  // namespace

std::unique_ptr<grpc::ClientContext> StagedBinary::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout_);
  return context;
}

Status StagedBinary::Stage(v1::Memory::StubInterface& stub, const std::string& local_path,
                           std::chrono::milliseconds timeout,
                           std::unique_ptr<StagedBinary>* staged) {
  const std::string name = std::filesystem::path(local_path).filename().string();
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument(
        fmt::format("'{}' does not name a file (--exec-binary)", local_path));
  }
  std::string content;
  MEMSERVER_RETURN_IF_ERROR(ReadLocalFile(local_path, &content));

  std::unique_ptr<StagedBinary> s(new StagedBinary(stub, timeout));
  s->path_ = kStoreDir + name;
  s->bytes_ = content.size();

  v1::StatFileRequest stat;
  stat.set_path(s->path_);
  v1::FileInfo info;
  auto context = s->Context();
  const grpc::Status found = stub.StatFile(context.get(), stat, &info);
  if (found.ok()) {
    bool same = false;
    MEMSERVER_RETURN_IF_ERROR(s->SameContent(content, info.size(), &same));
    if (!same) {
      return Status::FailedPrecondition(fmt::format(
          "the server's file {} exists with other content than '{}'; delete it there (or "
          "rename the local file) and run again",
          s->path_, local_path));
    }
  } else if (found.error_code() == grpc::StatusCode::NOT_FOUND) {
    MEMSERVER_RETURN_IF_ERROR(s->Upload(content));
  } else {
    return FromGrpcStatus(found, fmt::format("StatFile {}", s->path_));
  }
  *staged = std::move(s);
  return Status::OK();
}

StagedBinary::~StagedBinary() { Remove(); }

Status StagedBinary::SameContent(const std::string& content, uint64_t size, bool* same) {
  *same = false;
  if (size != content.size()) return Status::OK();
  v1::ReadFileRequest request;
  request.set_path(path_);
  v1::ReadFileResponse response;
  for (uint64_t off = 0; off < size; off += kChunkBytes) {
    const uint64_t length = std::min(kChunkBytes, size - off);
    request.set_offset(off);
    request.set_length(length);
    auto context = Context();
    const grpc::Status s = stub_.ReadFile(context.get(), request, &response);
    if (!s.ok()) return FromGrpcStatus(s, fmt::format("ReadFile {} at {}", path_, off));
    if (response.data() != std::string_view(content).substr(off, length)) return Status::OK();
  }
  *same = true;
  return Status::OK();
}

Status StagedBinary::Upload(const std::string& content) {
  v1::WriteFileRequest request;
  request.set_path(path_);
  v1::FileInfo info;
  // From here on the file is ours, even if a later chunk fails: Remove()
  // deletes what was written.
  uploaded_ = true;
  for (uint64_t off = 0; off < content.size(); off += kChunkBytes) {
    request.set_offset(off);
    request.set_data(content.data() + off, std::min<uint64_t>(kChunkBytes, content.size() - off));
    auto context = Context();
    const grpc::Status s = stub_.WriteFile(context.get(), request, &info);
    if (!s.ok()) return FromGrpcStatus(s, fmt::format("WriteFile {} at {}", path_, off));
  }
  return Status::OK();
}

Status StagedBinary::CachedPages(uint64_t* pages) {
  v1::StatFileRequest request;
  request.set_path(path_);
  v1::FileInfo info;
  auto context = Context();
  const grpc::Status s = stub_.StatFile(context.get(), request, &info);
  if (!s.ok()) return FromGrpcStatus(s, fmt::format("StatFile {}", path_));
  *pages = info.cached_pages();
  return Status::OK();
}

Status StagedBinary::Remove() {
  if (!uploaded_) return Status::OK();
  uploaded_ = false;
  v1::DeleteFileRequest request;
  request.set_path(path_);
  v1::DeleteFileResponse response;
  auto context = Context();
  const grpc::Status s = stub_.DeleteFile(context.get(), request, &response);
  if (!s.ok()) return FromGrpcStatus(s, fmt::format("DeleteFile {}", path_));
  return Status::OK();
}

}  // namespace memserver::memload
