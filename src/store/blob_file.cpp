// Blob files (store/blob_file.hpp).
#include "store/blob_file.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/ids.hpp"

namespace norreg::store {
namespace {

constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";

Error Internal(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

Error Errno(std::string_view what, const std::string& path) {
  return Internal(std::string(what) + " " + path + ": " + std::strerror(errno));
}

Error Corrupt(const std::string& path, std::string_view why) {
  return Internal("stored content is corrupt: " + path + " (" + std::string(why) + ")");
}

}  // namespace

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  bool failed = false;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  static EVP_MD* const kMd = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->ctx = EVP_MD_CTX_new();
  impl_->failed =
      kMd == nullptr || impl_->ctx == nullptr || EVP_DigestInit_ex2(impl_->ctx, kMd, nullptr) != 1;
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(std::string_view bytes) {
  if (impl_->failed || bytes.empty()) return;
  impl_->failed = EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()) != 1;
}

Result<Sha256Digest> Sha256::Final() {
  Sha256Digest d{};
  unsigned int len = 0;
  if (impl_->failed || EVP_DigestFinal_ex(impl_->ctx, d.data(), &len) != 1 || len != d.size()) {
    impl_->failed = true;
    return Internal("SHA-256 failed");
  }
  impl_->failed = true;  // Final once
  return d;
}

Result<Sha256Digest> Sha256::Of(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.Final();
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open folder", dir);
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return Errno("cannot fsync folder", dir);
  return Status::Ok();
}

Result<std::unique_ptr<BlobWriter>> BlobWriter::Create(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());
  std::string path = dir + "/" + ids::NewUuid() + ".tmp";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", path);
  return std::unique_ptr<BlobWriter>(new BlobWriter(std::move(path), fd));
}

Result<std::unique_ptr<BlobWriter>> BlobWriter::Adopt(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::unique_ptr<BlobWriter> writer(new BlobWriter(path, fd));
  std::string buffer(256 * 1024, '\0');
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path);
    if (n == 0) break;
    writer->hash_.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    writer->size_ += static_cast<uint64_t>(n);
  }
  return writer;
}

BlobWriter::~BlobWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (owned_) ::unlink(path_.c_str());
}

Status BlobWriter::Append(std::string_view bytes) {
  if (finished_ || fd_ < 0) return Internal("write to a finished blob " + path_);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write", path_);
    hash_.Update(bytes.substr(0, static_cast<size_t>(n)));
    size_ += static_cast<uint64_t>(n);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status BlobWriter::Seal() {
  if (finished_) return Status::Ok();
  if (fd_ < 0) return Internal("finish of a closed blob " + path_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return Errno("cannot close", path_);
  }
  fd_ = -1;
  auto digest = hash_.Final();
  if (!digest.ok()) return digest.error();
  digest_ = *digest;
  finished_ = true;
  return Status::Ok();
}

Status BlobWriter::Finish() {
  if (finished_) {
    if (durable_) return Status::Ok();
    BlobWriter* self = this;
    return SyncAll(std::span<BlobWriter* const>(&self, 1));
  }
  if (fd_ >= 0 && ::fsync(fd_) != 0) return Errno("cannot fsync", path_);
  if (Status s = Seal(); !s.ok()) return s;
  durable_ = true;
  return Status::Ok();
}

Status BlobWriter::SyncAll(std::span<BlobWriter* const> blobs) {
  // In groups, so that a thousand attachments never hold a thousand descriptors.
  constexpr size_t kGroup = 64;
  std::vector<std::pair<BlobWriter*, int>> open;
  auto close_all = [&open]() {
    for (auto& [blob, fd] : open) ::close(fd);
    open.clear();
  };
  for (size_t from = 0; from < blobs.size(); from += kGroup) {
    for (size_t i = from; i < std::min(blobs.size(), from + kGroup); ++i) {
      BlobWriter* blob = blobs[i];
      if (blob == nullptr || blob->durable_) continue;
      if (!blob->finished_) {
        close_all();
        return Internal("sync of an unsealed blob " + blob->path_);
      }
      const int fd = ::open(blob->path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        Status s = Errno("cannot open", blob->path_);
        close_all();
        return s;
      }
      // Starts writeback without waiting; the fdatasync below waits for it.
      (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
      open.emplace_back(blob, fd);
    }
    for (auto& [blob, fd] : open) {
      if (::fdatasync(fd) != 0) {
        Status s = Errno("cannot fsync", blob->path_);
        close_all();
        return s;
      }
      blob->durable_ = true;
    }
    close_all();
  }
  return Status::Ok();
}

Status BlobWriter::MoveTo(const std::string& target) {
  if (!finished_) return Internal("move of an unfinished blob " + path_);
  if (!owned_) return Internal("move of a blob moved before " + path_);
  if (::rename(path_.c_str(), target.c_str()) != 0) return Errno("cannot rename", path_);
  owned_ = false;
  path_ = target;
  return Status::Ok();
}

BlobReader::BlobReader(std::string path, int fd, uint64_t size, std::string_view sha256,
                       size_t chunk)
    : path_(std::move(path)), fd_(fd), size_(size), expected_(sha256), buffer_(chunk, '\0') {}

BlobReader::~BlobReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<BlobReader>> BlobReader::Open(const std::string& path, uint64_t size,
                                                     std::string_view sha256, size_t chunk) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::unique_ptr<BlobReader> reader(
      new BlobReader(path, fd, size, sha256, std::max<size_t>(chunk, 4096)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("cannot stat", path);
  if (static_cast<uint64_t>(st.st_size) != size) return Corrupt(path, "size changed");
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return reader;
}

Result<std::string_view> BlobReader::Next() {
  if (offset_ == size_) return std::string_view();
  const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), size_ - offset_));
  size_t got = 0;
  while (got < want) {
    const ssize_t n =
        ::pread(fd_, buffer_.data() + got, want - got, static_cast<off_t>(offset_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path_);
    if (n == 0) return Corrupt(path_, "shorter than stored");
    got += static_cast<size_t>(n);
  }
  const std::string_view piece(buffer_.data(), got);
  hash_.Update(piece);
  offset_ += got;
  if (offset_ == size_) {
    auto digest = hash_.Final();
    if (!digest.ok()) return digest.error();
    if (DigestView(*digest) != expected_) return Corrupt(path_, "SHA-256 differs");
  }
  return piece;
}

Result<std::string> BlobReader::ReadAll(const std::string& path, uint64_t size,
                                        std::string_view sha256) {
  auto reader = Open(path, size, sha256);
  if (!reader.ok()) return reader.error();
  std::string out;
  out.reserve(static_cast<size_t>(size));
  while (true) {
    auto piece = (*reader)->Next();
    if (!piece.ok()) return piece.error();
    if (piece->empty()) break;
    out.append(*piece);
  }
  return out;
}

}  // namespace norreg::store
