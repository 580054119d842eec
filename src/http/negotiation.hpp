#pragma once
// Content negotiation (SPEC 2.1): Accept with q-values and wildcards, and the Content-Type check
// for request bodies. Pure functions, thread-safe, no allocation beyond the result.
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "common/result.hpp"

namespace norreg::http {

// The media types norreg speaks. Extend here when an API needs another one.
enum class MediaType {
  kJson,               // application/json
  kXml,                // application/xml
  kAtom,               // application/atom+xml
  kText,               // text/plain
  kOctetStream,        // application/octet-stream
  kZip,                // application/zip
  kFormUrlEncoded,     // application/x-www-form-urlencoded
  kMultipartFormData,  // multipart/form-data
};

// "application/json", ... (no parameters).
std::string_view MediaTypeName(MediaType type);

// Picks the media type to answer with. `supported` is in server preference order.
// - missing/empty header -> supported[0];
// - each supported type gets the q of the most specific matching range (type/subtype >
//   type/* > */*; a bare "*" counts as */*; parameters other than q are ignored, matching is
//   case-insensitive); the highest q > 0 wins, ties go to the earlier supported type;
// - nothing acceptable (including a header with no parsable range) -> nullopt: answer 406.
// Malformed ranges and malformed q values are skipped, never fatal.
std::optional<MediaType> Negotiate(std::string_view accept, std::span<const MediaType> supported);
inline std::optional<MediaType> Negotiate(std::string_view accept,
                                          std::initializer_list<MediaType> supported) {
  return Negotiate(accept, std::span<const MediaType>(supported.begin(), supported.size()));
}

// The media type of a Content-Type value ("application/json; charset=UTF-8" -> kJson), or
// nullopt when it is not one of MediaType (or malformed).
std::optional<MediaType> ParseContentType(std::string_view content_type);

// OK when `content_type` is one of `allowed`; else kUnsupportedMedia (415) with a Norwegian
// message naming what was expected. A missing header (empty) is also kUnsupportedMedia.
Result<MediaType> CheckContentType(std::string_view content_type,
                                   std::span<const MediaType> allowed);
inline Result<MediaType> CheckContentType(std::string_view content_type,
                                          std::initializer_list<MediaType> allowed) {
  return CheckContentType(content_type,
                          std::span<const MediaType>(allowed.begin(), allowed.size()));
}

}  // namespace norreg::http
