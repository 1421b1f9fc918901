#include "core/models/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace dim::core {
namespace {

Status Errno(const std::string& what, const std::filesystem::path& path) {
  return Status::Unavailable("cannot " + what + " " + path.string() + ": " + std::strerror(errno));
}

// Unique within the process (counter) and across processes (pid).
std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  std::string suffix = std::to_string(::getpid());
  suffix += '-';
  suffix += std::to_string(counter.fetch_add(1));
  return suffix;
}

}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open folder", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("sync folder", dir);
  return Status::Ok();
}

Result<TempFile> TempFile::Create(const std::filesystem::path& dir, std::string_view prefix) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create folder " + dir.string() + ": " + ec.message());
  std::string name(prefix);
  name += UniqueSuffix();
  name += ".tmp";
  auto path = dir / name;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  return TempFile(std::move(path), fd);
}

TempFile::TempFile(TempFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_), kept_(other.kept_) {
  other.fd_ = -1;
  other.kept_ = true;  // the moved-from object owns nothing
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!kept_) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
}

Status TempFile::Append(std::string_view bytes) {
  if (fd_ < 0) return Status::Unavailable("cannot write " + path_.string() + ": already closed");
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path_);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    size_ += n;
  }
  return Status::Ok();
}

Status TempFile::Finish() {
  if (fd_ < 0) return Status::Unavailable("cannot finish " + path_.string() + ": already closed");
  const int rc = ::fsync(fd_);
  const int saved = errno;
  ::close(fd_);
  fd_ = -1;
  errno = saved;
  if (rc != 0) return Errno("sync", path_);
  return Status::Ok();
}

Status TempFile::RenameTo(const std::filesystem::path& target, bool durable) {
  if (fd_ >= 0 && durable) DIM_RETURN_IF_ERROR(Finish());
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (::rename(path_.c_str(), target.c_str()) != 0) return Errno("rename into place", target);
  kept_ = true;
  if (!durable) return Status::Ok();
  return SyncDirectory(target.parent_path().empty() ? "." : target.parent_path());
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           bool durable) {
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::string prefix = ".";
  prefix += path.filename().string();
  prefix += '.';
  DIM_ASSIGN_OR_RETURN(TempFile file, TempFile::Create(dir, prefix));
  DIM_RETURN_IF_ERROR(file.Append(content));
  return file.RenameTo(path, durable);
}

}  // namespace dim::core
