#include "core/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dim::core {
namespace {

std::string_view KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a plain file";
}

Status OpenError(int err, const std::string& shown) {
  if (err == ENOENT || err == ENOTDIR) return Status::NotFound(shown + ": no such file");
  if (err == EACCES || err == EPERM) return Status::PermissionDenied(shown + ": permission denied");
  if (err == EISDIR) return Status::InvalidArgument(shown + ": not a regular file (a directory)");
  return Status::Internal(shown + ": cannot open: " + std::strerror(err));
}

}  // namespace

Result<FilePtr> OpenRegularFile(const std::filesystem::path& path, std::string_view shown) {
  const std::string name = shown.empty() ? path.string() : std::string(shown);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return OpenError(errno, name);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::Internal(name + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(name + ": not a regular file (" +
                                   std::string(KindOf(st.st_mode)) + ")");
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::FILE* file = ::fdopen(fd, "rb");
  if (file == nullptr) {
    const int err = errno;
    ::close(fd);
    return Status::Internal(name + ": cannot open: " + std::strerror(err));
  }
  return FilePtr(file);
}

Result<std::string> ReadRegularFile(const std::filesystem::path& path, size_t max_bytes,
                                    std::string_view shown) {
  const std::string name = shown.empty() ? path.string() : std::string(shown);
  DIM_ASSIGN_OR_RETURN(FilePtr file, OpenRegularFile(path, name));
  auto too_large = [&] {
    return Status::InvalidArgument(name + ": larger than " + std::to_string(max_bytes) + " bytes");
  };
  struct stat st {};
  size_t expected = 0;
  if (::fstat(::fileno(file.get()), &st) == 0 && st.st_size > 0) {
    if (static_cast<uintmax_t>(st.st_size) > max_bytes) return too_large();
    expected = static_cast<size_t>(st.st_size);
  }
  std::string bytes;
  bytes.resize(expected + 1);  // one more, to see the end at once
  size_t used = 0;
  for (;;) {
    if (used == bytes.size()) {
      if (bytes.size() > max_bytes) return too_large();
      bytes.resize(std::min(bytes.size() * 2 + 4096, max_bytes + 1));
    }
    const size_t n = std::fread(bytes.data() + used, 1, bytes.size() - used, file.get());
    used += n;
    if (n == 0) {
      if (std::ferror(file.get()) != 0) {
        return Status::Internal(name + ": read error: " + std::strerror(errno));
      }
      break;
    }
  }
  if (used > max_bytes) return too_large();
  bytes.resize(used);
  return bytes;
}

}  // namespace dim::core
