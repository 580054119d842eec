#pragma once
// ZIP archives of mottak replies (SPEC 3.2 download: henvendelse.xml plus the attachments), built
// and read with libzip in memory.
//
// Entry names are checked on both sides: relative, '/'-separated, no "." or ".." component, no
// leading '/', no backslash, no drive letter, no NUL or control character, at most 255 bytes,
// unique. A bad name is kInvalidInput naming it; building never writes one and reading never
// returns one (a hostile archive with "../x" is refused whole).
//
// Reading verifies every entry's CRC-32 and refuses archives whose entries would expand past
// `max_total_bytes` (a zip bomb is an error, not memory).
// Thread-safety: free functions, no shared state.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace norreg::mottak {

struct ZipEntry {
  std::string name;
  std::string content;
};

// True when `name` is an acceptable entry name (see above).
bool IsSafeZipEntryName(std::string_view name);

// Builds a ZIP archive (deflate; entries in the given order, all with one fixed time, so equal
// entries give equal bytes). kInvalidInput for a bad or duplicate name; kInternal when libzip
// fails.
Result<std::string> BuildZip(const std::vector<ZipEntry>& entries);

// An entry of WriteZipFile: its bytes in memory (`content`), or in the file `path` when that is
// set (read while the archive is written, never whole).
struct ZipFileEntry {
  std::string name;
  std::string content;
  std::string path;
  bool deflate = true;  // false: stored as they are (formats that are compressed already)
};

// Writes a ZIP archive to the new file `target` (libzip writes a temporary file beside it and
// renames it on success; nothing is fsynced). The same names rule and fixed entry time as
// BuildZip, so equal entries give equal bytes, and equal in-memory deflated entries give the same
// bytes as BuildZip. kInvalidInput for a bad or duplicate name; kInternal when libzip fails.
Status WriteZipFile(const std::string& target, const std::vector<ZipFileEntry>& entries);

// Whether a file of this content type is worth deflating: XML, text, JSON, CSV, RTF, the old
// binary Office formats and TIFF; not PDF, JPEG, PNG, ZIP, GZIP or the zipped Office and
// OpenDocument formats, which are compressed already (deflating them costs CPU for nothing).
bool WorthDeflating(std::string_view content_type);

// Reads every entry of `archive`. kInvalidInput when it is not a ZIP, is corrupt (CRC), holds a
// bad or duplicate name, or expands past `max_total_bytes`.
Result<std::vector<ZipEntry>> ReadZip(std::string_view archive,
                                      uint64_t max_total_bytes = 256ull << 20);

}  // namespace norreg::mottak
