#pragma once
// A posting block: ascending person ids of one search term's posting (all of it or one part), as
// the SQLite store keeps them (docs/search.md, "The index"). The first id, then each next id's
// distance to the one before, every number an unsigned LEB128 varint: a term's persons cost one
// to three bytes each instead of a row each.
//
// Decoding checks what it reads (no truncated or overlong number, ids strictly ascending and
// positive), so a damaged block is an error, never a wrong answer. Linear in the block's size.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace norreg::store {

// A block holds at most this many ids (a longer one is split); decoding refuses more.
inline constexpr size_t kMaxBlockIds = 256;

// Appends the block of `ids` (ascending, positive, at most kMaxBlockIds) to `out`.
void EncodePostingBlock(std::span<const int64_t> ids, std::string& out);

// Appends the ids of `block` to `out`. kInternal for a damaged block (`out` then holds what was
// read before the damage).
Status DecodePostingBlock(std::string_view block, std::vector<int64_t>& out);

}  // namespace norreg::store
