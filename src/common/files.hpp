#pragma once
// Small whole-file helpers for configuration, keys and caches (never for the register's data).
// Thread-safe; each call stands alone.
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace norreg {

// Writes `content` to `path` atomically: a temp file beside it (unique per process and call)
// created with `mode` exactly (umask ignored), fsync, rename over `path`, fsync of the folder.
// kInternal (detail names the path and errno text) on failure; `path` is then unchanged.
Status WriteFileAtomically(const std::string& path, std::string_view content, unsigned mode);

// The whole file; kNotFound when it does not exist, kTooLarge when it exceeds 16 MiB (every file
// read this way is small), kInternal when it cannot be read.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace norreg
