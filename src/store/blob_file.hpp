#pragma once
// Large content kept as files beside a database: written once through a BlobWriter (hashed with
// SHA-256 while it is written, fsynced by Finish), given its final name with an atomic rename, and
// read back through a BlobReader, which checks the size and the digest as it reads. So a 35 MB
// upload or reply is never held whole in memory, and stored bytes that rot are an error, never
// wrong bytes.
//
// Thread-safety: one writer or reader per thread; the free functions have no shared state.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace norreg::store {

using Sha256Digest = std::array<unsigned char, 32>;

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view bytes);
  // The digest of everything given; kInternal when OpenSSL fails. Call once.
  Result<Sha256Digest> Final();
  // The digest of `bytes`.
  static Result<Sha256Digest> Of(std::string_view bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

inline std::string_view DigestView(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Fsyncs folder `dir` (so that renames and new files in it survive a power loss).
Status SyncDirectory(const std::string& dir);

class BlobWriter {
 public:
  // A new empty temporary file in `dir` (created when missing). kInternal when it cannot.
  static Result<std::unique_ptr<BlobWriter>> Create(const std::string& dir);
  // Takes over an existing file that someone else wrote (e.g. a ZIP built by libzip): reads it
  // once for its size and digest. The writer then owns it as if it had written it; Finish fsyncs.
  static Result<std::unique_ptr<BlobWriter>> Adopt(const std::string& path);
  // Removes the file unless MoveTo moved it.
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  Status Append(std::string_view bytes);
  // Fixes size and digest and closes the file, without waiting for the disk: cheap enough for an
  // io thread (a multipart upload seals each attachment as its part ends). Further Appends fail.
  Status Seal();
  // Seal, and the file flushed to disk (fsync).
  Status Finish();
  // Flushes every sealed, not yet durable file of `blobs` to disk: writeback of all of them is
  // started first, then each is waited for, so n files cost about one disk round trip, not n.
  // Files already durable (Finish) are skipped. For a thread that may block.
  static Status SyncAll(std::span<BlobWriter* const> blobs);
  bool finished() const { return finished_; }
  bool durable() const { return durable_; }
  uint64_t size() const { return size_; }
  const Sha256Digest& sha256() const { return digest_; }  // after Finish
  const std::string& path() const { return path_; }
  // Renames the finished file to `target` (same file system, replacing nothing the caller
  // needs); from then on the writer no longer owns a file. The caller fsyncs the folder.
  Status MoveTo(const std::string& target);

 private:
  BlobWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  bool owned_ = true;
  bool finished_ = false;
  bool durable_ = false;
  uint64_t size_ = 0;
  Sha256 hash_;
  Sha256Digest digest_{};
};

// Stored content handed out piece by piece and verified as it is read: a file (BlobReader), or
// pieces kept in a database (the PostgreSQL mottak store). Next() returns the next piece (valid
// until the next call), an empty piece after the last; the last piece is handed out only once the
// digest of the whole content matched, else kInternal "stored content is corrupt".
class PieceReader {
 public:
  virtual ~PieceReader() = default;
  virtual uint64_t size() const = 0;
  virtual Result<std::string_view> Next() = 0;
};

class BlobReader final : public PieceReader {
 public:
  // Opens `path`, which must hold `size` bytes with SHA-256 `sha256`; reads `chunk` bytes at a
  // time. kInternal when the file is missing or its size is wrong.
  static Result<std::unique_ptr<BlobReader>> Open(const std::string& path, uint64_t size,
                                                  std::string_view sha256,
                                                  size_t chunk = 256 * 1024);
  ~BlobReader() override;
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  uint64_t size() const override { return size_; }
  // The next piece (valid until the next call); empty after the last. The last piece is handed
  // out only once the digest of the whole file matched: otherwise kInternal "stored content is
  // corrupt" (also when the file changed size).
  Result<std::string_view> Next() override;
  // The whole file, verified.
  static Result<std::string> ReadAll(const std::string& path, uint64_t size,
                                     std::string_view sha256);

 private:
  BlobReader(std::string path, int fd, uint64_t size, std::string_view sha256, size_t chunk);
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  std::string expected_;
  std::string buffer_;
  Sha256 hash_;
};

}  // namespace norreg::store
