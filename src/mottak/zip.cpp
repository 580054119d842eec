// Reply ZIPs (mottak/zip.hpp), in memory with libzip.
#include "mottak/zip.hpp"

#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <unordered_set>

#include "common/escape.hpp"

namespace norreg::mottak {
namespace {

// More entries than any reply carries; bounds the work on a hostile central directory.
constexpr uint64_t kMaxEntries = 10'000;
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kReadChunk = 64 * 1024;
// Every entry's modification time (1980-01-02, local time as ZIP stores it): the same entries
// always give the same bytes, so a reply downloaded again is byte for byte the first download.
constexpr time_t kEntryTime = 315'619'200;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

std::string LibzipMessage(zip_error_t* error) {
  std::string message = zip_error_strerror(error);
  zip_error_fini(error);
  return message;
}

// Names as they may appear in messages: printable, bounded.
std::string Quoted(std::string_view name) {
  std::string out = "'";
  for (char c : name.substr(0, 64)) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(b < 0x20 || b == 0x7F ? '?' : c);
  }
  if (name.size() > 64) out.append("...");
  out.push_back('\'');
  return out;
}

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct SourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

// The 22-byte end-of-central-directory record of an archive without entries (libzip writes
// nothing for those).
constexpr char kEmptyArchive[22] = {'P', 'K', 5, 6};

// The bytes a zip_source holds.
Result<std::string> SourceBytes(zip_source_t* src) {
  if (zip_source_open(src) < 0) {
    return MakeError(ErrorCode::kInternal, "could not build the ZIP archive",
                     LibzipMessage(zip_source_error(src)));
  }
  std::string out;
  Error failure;
  bool failed = false;
  if (zip_source_seek(src, 0, SEEK_END) < 0) {
    failed = true;
  } else {
    const zip_int64_t size = zip_source_tell(src);
    if (size < 0 || zip_source_seek(src, 0, SEEK_SET) < 0) {
      failed = true;
    } else {
      out.resize(static_cast<size_t>(size));
      size_t done = 0;
      while (done < out.size()) {
        const zip_int64_t n = zip_source_read(src, out.data() + done, out.size() - done);
        if (n <= 0) {
          failed = true;
          break;
        }
        done += static_cast<size_t>(n);
      }
    }
  }
  if (failed) {
    failure = MakeError(ErrorCode::kInternal, "could not build the ZIP archive",
                        zip_error_strerror(zip_source_error(src)));
  }
  zip_source_close(src);
  if (failed) return failure;
  return out;
}

}  // namespace

bool IsSafeZipEntryName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  if (name.front() == '/') return false;
  // A drive letter ("C:x", "C:/x") makes the name absolute or drive-relative on Windows.
  if (name.size() >= 2 && name[1] == ':' &&
      ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z'))) {
    return false;
  }
  size_t i = 0;
  while (i < name.size()) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F || c == '\\') return false;
    if (c >= 0x80) {
      const size_t n = ValidUtf8Length(name, i);
      if (n == 0) return false;
      i += n;
      continue;
    }
    ++i;
  }
  // Components: non-empty (no "a//b", no trailing '/'), not "." or "..".
  size_t start = 0;
  while (true) {
    const size_t slash = name.find('/', start);
    const std::string_view part = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

Result<std::string> BuildZip(const std::vector<ZipEntry>& entries) {
  std::unordered_set<std::string_view> names;
  names.reserve(entries.size());
  for (const ZipEntry& e : entries) {
    if (!IsSafeZipEntryName(e.name))
      return Invalid("ZIP entry name " + Quoted(e.name) + " is not allowed");
    if (!names.insert(e.name).second) return Invalid("duplicate ZIP entry name " + Quoted(e.name));
  }
  if (entries.empty()) return std::string(kEmptyArchive, sizeof kEmptyArchive);

  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_source_t, SourceFree> src(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (!src) {
    return MakeError(ErrorCode::kInternal, "could not build the ZIP archive",
                     LibzipMessage(&error));
  }
  std::unique_ptr<zip_t, ZipDiscard> archive(zip_open_from_source(src.get(), ZIP_TRUNCATE, &error));
  if (!archive) {
    return MakeError(ErrorCode::kInternal, "could not build the ZIP archive",
                     LibzipMessage(&error));
  }
  // The archive now owns a reference to `src`; keep ours to read the bytes after zip_close.
  zip_source_keep(src.get());
  auto failure = [&archive] {
    return MakeError(ErrorCode::kInternal, "could not build the ZIP archive",
                     zip_strerror(archive.get()));
  };
  for (const ZipEntry& e : entries) {
    // The entries outlive zip_close, so libzip may read the contents in place.
    zip_source_t* data = zip_source_buffer(archive.get(), e.content.data(), e.content.size(), 0);
    if (data == nullptr) return failure();
    const zip_int64_t index = zip_file_add(archive.get(), e.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      return failure();
    }
    if (zip_set_file_compression(archive.get(), static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE,
                                 0) < 0 ||
        zip_file_set_mtime(archive.get(), static_cast<zip_uint64_t>(index), kEntryTime, 0) < 0) {
      return failure();
    }
  }
  if (zip_close(archive.get()) < 0) return failure();  // still ours to discard
  (void)archive.release();                             // zip_close freed it
  return SourceBytes(src.get());
}

bool WorthDeflating(std::string_view content_type) {
  return content_type.starts_with("text/") || content_type == "application/xml" ||
         content_type == "application/json" || content_type == "application/rtf" ||
         content_type == "application/msword" || content_type == "application/vnd.ms-excel" ||
         content_type == "image/tiff";
}

Status WriteZipFile(const std::string& target, const std::vector<ZipFileEntry>& entries) {
  std::unordered_set<std::string_view> names;
  names.reserve(entries.size());
  for (const ZipFileEntry& e : entries) {
    if (!IsSafeZipEntryName(e.name))
      return Invalid("ZIP entry name " + Quoted(e.name) + " is not allowed");
    if (!names.insert(e.name).second) return Invalid("duplicate ZIP entry name " + Quoted(e.name));
  }
  int error_code = 0;
  std::unique_ptr<zip_t, ZipDiscard> archive(
      zip_open(target.c_str(), ZIP_CREATE | ZIP_EXCL, &error_code));
  if (!archive) {
    zip_error_t error;
    zip_error_init_with_code(&error, error_code);
    return MakeError(ErrorCode::kInternal, "could not build the ZIP archive",
                     target + ": " + LibzipMessage(&error));
  }
  auto failure = [&archive, &target] {
    return MakeError(ErrorCode::kInternal, "could not build the ZIP archive",
                     target + ": " + zip_strerror(archive.get()));
  };
  for (const ZipFileEntry& e : entries) {
    // Contents and paths outlive zip_close, where libzip reads them.
    zip_source_t* data =
        e.path.empty() ? zip_source_buffer(archive.get(), e.content.data(), e.content.size(), 0)
                       : zip_source_file(archive.get(), e.path.c_str(), 0, -1);
    if (data == nullptr) return failure();
    const zip_int64_t index = zip_file_add(archive.get(), e.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      return failure();
    }
    if (zip_set_file_compression(archive.get(), static_cast<zip_uint64_t>(index),
                                 e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) < 0 ||
        zip_file_set_mtime(archive.get(), static_cast<zip_uint64_t>(index), kEntryTime, 0) < 0) {
      return failure();
    }
  }
  if (zip_close(archive.get()) < 0) return failure();  // still ours to discard
  (void)archive.release();                             // zip_close freed it
  if (entries.empty()) {
    // libzip writes no file for an archive without entries.
    FILE* f = std::fopen(target.c_str(), "wbx");
    if (f == nullptr) return MakeError(ErrorCode::kInternal, "could not build the ZIP archive");
    const bool ok = std::fwrite(kEmptyArchive, 1, sizeof kEmptyArchive, f) == sizeof kEmptyArchive;
    if (std::fclose(f) != 0 || !ok) {
      return MakeError(ErrorCode::kInternal, "could not build the ZIP archive");
    }
  }
  return Status::Ok();
}

Result<std::vector<ZipEntry>> ReadZip(std::string_view bytes, uint64_t max_total_bytes) {
  // libzip opens an empty buffer as an empty archive; every ZIP holds at least the 22-byte end
  // record.
  if (bytes.size() < sizeof kEmptyArchive) return Invalid("not a valid ZIP archive: too short");
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (src == nullptr) {
    return MakeError(ErrorCode::kInternal, "could not read the ZIP archive", LibzipMessage(&error));
  }
  std::unique_ptr<zip_t, ZipDiscard> archive(
      zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!archive) {
    zip_source_free(src);  // not taken over on failure
    return Invalid("not a valid ZIP archive: " + LibzipMessage(&error));
  }
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  if (count < 0) return Invalid("not a valid ZIP archive");
  if (static_cast<uint64_t>(count) > kMaxEntries) {
    return Invalid("ZIP archive has more than " + std::to_string(kMaxEntries) + " entries");
  }

  // Everything is checked from the central directory before anything is inflated.
  struct Planned {
    zip_uint64_t index;
    uint64_t size;
  };
  std::vector<Planned> plan;
  plan.reserve(static_cast<size_t>(count));
  std::vector<ZipEntry> out;
  out.reserve(static_cast<size_t>(count));
  std::unordered_set<std::string> names;
  uint64_t total = 0;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), i, 0, &st) < 0 || (st.valid & ZIP_STAT_NAME) == 0 ||
        (st.valid & ZIP_STAT_SIZE) == 0) {
      return Invalid("not a valid ZIP archive: " + std::string(zip_strerror(archive.get())));
    }
    std::string_view name = st.name;
    // Directory entries carry nothing; skip them when the path itself is safe.
    if (!name.empty() && name.back() == '/' && st.size == 0 &&
        IsSafeZipEntryName(name.substr(0, name.size() - 1))) {
      continue;
    }
    if (!IsSafeZipEntryName(name))
      return Invalid("ZIP entry name " + Quoted(name) + " is not allowed");
    if (!names.emplace(name).second) return Invalid("duplicate ZIP entry name " + Quoted(name));
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE) {
      return Invalid("ZIP entry " + Quoted(name) + " is encrypted");
    }
    if (st.size > max_total_bytes - total) {
      return Invalid("ZIP archive expands to more than " + std::to_string(max_total_bytes) +
                     " bytes");
    }
    total += st.size;
    plan.push_back({i, st.size});
    out.push_back({std::string(name), {}});
  }

  // Read, trusting the declared sizes only as far as the limit: libzip stops at the declared
  // size and verifies the CRC-32 when the end of the data is reached.
  uint64_t read_total = 0;
  for (size_t k = 0; k < plan.size(); ++k) {
    std::unique_ptr<zip_file_t, ZipFileClose> file(
        zip_fopen_index(archive.get(), plan[k].index, 0));
    if (!file) {
      return Invalid("ZIP entry " + Quoted(out[k].name) +
                     " cannot be read: " + zip_strerror(archive.get()));
    }
    std::string& content = out[k].content;
    content.resize(static_cast<size_t>(plan[k].size));
    size_t done = 0;
    while (true) {
      if (done == content.size()) {
        // Read past the declared size to reach the end of the data (and the CRC check); a
        // lying central directory grows the buffer, still bounded by the limit.
        const uint64_t room = max_total_bytes - read_total;
        content.resize(done + static_cast<size_t>(room >= kReadChunk ? kReadChunk : room + 1));
      }
      const zip_int64_t n = zip_fread(file.get(), content.data() + done, content.size() - done);
      if (n < 0) {
        return Invalid("ZIP entry " + Quoted(out[k].name) +
                       " is corrupt: " + zip_file_strerror(file.get()));
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
      read_total += static_cast<uint64_t>(n);
      if (read_total > max_total_bytes) {
        return Invalid("ZIP archive expands to more than " + std::to_string(max_total_bytes) +
                       " bytes");
      }
    }
    if (done != plan[k].size) {
      return Invalid("ZIP entry " + Quoted(out[k].name) + " is corrupt: size mismatch");
    }
    content.resize(done);
  }
  return out;
}

}  // namespace norreg::mottak
