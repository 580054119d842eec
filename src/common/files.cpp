#include "common/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace norreg {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxFileBytes = 16u << 20;

Error Internal(std::string what, const std::string& path, int err) {
  return MakeError(ErrorCode::kInternal, what + " " + path,
                   what + " " + path + ": " + std::strerror(err));
}

// RAII file descriptor: closed on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content, unsigned mode) {
  const fs::path target(path);
  static std::atomic<unsigned> counter{0};
  const std::string temp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode)));
  if (fd.get() < 0) return Internal("cannot create", temp, errno);
  // The umask may have narrowed `mode`, and an old temp file keeps its mode: set it exactly.
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Internal("cannot chmod", temp, err);
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::unlink(temp.c_str());
      return Internal("cannot write", temp, err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.Release()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Internal("cannot write", temp, err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Internal("cannot rename to", path, err);
  }
  // The rename itself is durable only once the folder is synced.
  const std::string parent =
      target.has_parent_path() ? target.parent_path().string() : std::string(".");
  Fd dir_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return MakeError(ErrorCode::kNotFound, path + " not found");
    return Internal("cannot read", path, errno);
  }
  std::string out;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal("cannot read", path, errno);
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    // Every file read here is small; refuse to read a huge file into memory.
    if (out.size() > kMaxFileBytes) {
      return MakeError(ErrorCode::kTooLarge, path + " is larger than 16 MiB");
    }
  }
  return out;
}

}  // namespace norreg
