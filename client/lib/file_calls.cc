// Client: the file store, and copying whole files to and from it.
#include <string>

#include "client/lib/client.h"
#include "client/lib/client_stub.h"
#include "client/lib/local_file.h"
#include "client/lib/proto_conversion.h"

namespace memserver::client {

FileInfo Client::CreateFile(std::string_view path, bool truncate) {
  v1::CreateFileRequest request;
  request.set_path(std::string(path));
  request.set_truncate(truncate);
  v1::FileInfo response;
  stub_->Call(&v1::Memory::Stub::CreateFile, request, &response);
  return FromProto(response);
}

FileInfo Client::WriteFile(std::string_view path, uint64_t offset, std::string_view data) {
  v1::WriteFileRequest request;
  request.set_path(std::string(path));
  request.set_offset(offset);
  request.set_data(std::string(data));
  v1::FileInfo response;
  stub_->Call(&v1::Memory::Stub::WriteFile, request, &response);
  return FromProto(response);
}

std::string Client::ReadFile(std::string_view path, uint64_t offset, uint64_t length) {
  v1::ReadFileRequest request;
  request.set_path(std::string(path));
  request.set_offset(offset);
  request.set_length(length);
  v1::ReadFileResponse response;
  stub_->Call(&v1::Memory::Stub::ReadFile, request, &response);
  if (response.data().size() > length) {
    throw MalformedAnswer("ReadFile returned " + std::to_string(response.data().size()) +
                          " bytes, asked for at most " + std::to_string(length));
  }
  return std::move(*response.mutable_data());
}

FileInfo Client::StatFile(std::string_view path) {
  v1::StatFileRequest request;
  request.set_path(std::string(path));
  v1::FileInfo response;
  stub_->Call(&v1::Memory::Stub::StatFile, request, &response);
  return FromProto(response);
}

void Client::TruncateFile(std::string_view path, uint64_t size) {
  v1::TruncateFileRequest request;
  request.set_path(std::string(path));
  request.set_size(size);
  v1::TruncateFileResponse response;
  stub_->Call(&v1::Memory::Stub::TruncateFile, request, &response);
}

void Client::DeleteFile(std::string_view path) {
  v1::DeleteFileRequest request;
  request.set_path(std::string(path));
  v1::DeleteFileResponse response;
  stub_->Call(&v1::Memory::Stub::DeleteFile, request, &response);
}

std::vector<FileInfo> Client::ListFiles(std::string_view prefix, bool all_tenants) {
  v1::ListFilesRequest request;
  request.set_prefix(std::string(prefix));
  request.set_all_tenants(all_tenants);
  v1::ListFilesResponse response;
  stub_->Call(&v1::Memory::Stub::ListFiles, request, &response);
  std::vector<FileInfo> files;
  files.reserve(response.files_size());
  for (const v1::FileInfo& f : response.files()) {
    if (f.path().compare(0, prefix.size(), prefix) != 0) {
      throw MalformedAnswer("ListFiles returned a path without the prefix");
    }
    files.push_back(FromProto(f));
  }
  return files;
}

FileInfo Client::UploadFile(const std::string& local_path, std::string_view remote_path) {
  LocalFile in = LocalFile::OpenForReading(local_path);
  std::string chunk(kFileChunkBytes, '\0');
  // The first chunk is read before the remote file is touched, so a local
  // file that cannot be read (a directory, say) leaves the remote as it was.
  size_t n = in.ReadFull(chunk.data(), chunk.size());
  FileInfo info = CreateFile(remote_path, /*truncate=*/true);
  uint64_t offset = 0;
  while (n > 0) {
    info = WriteFile(remote_path, offset, std::string_view(chunk.data(), n));
    offset += n;
    if (n < chunk.size()) break;  // end of file
    n = in.ReadFull(chunk.data(), chunk.size());
  }
  return info;
}

uint64_t Client::DownloadFile(std::string_view remote_path, const std::string& local_path) {
  // The first chunk is read before the local file is created, so a missing
  // remote file leaves the local one as it was.
  std::string chunk = ReadFile(remote_path, 0, kFileChunkBytes);
  LocalFile out = LocalFile::CreateForWriting(local_path);
  uint64_t offset = 0;
  for (;;) {
    out.WriteAll(chunk);
    offset += chunk.size();
    if (chunk.size() < kFileChunkBytes) break;  // end of file
    chunk = ReadFile(remote_path, offset, kFileChunkBytes);
  }
  out.Close();
  return offset;
}

}  // namespace memserver::client
