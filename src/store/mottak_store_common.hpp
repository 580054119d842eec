#pragma once
// What both MottakStore implementations (SQLite, PostgreSQL) share: the client messages of their
// errors, how they spell organisations and ids, and the digests they keep beside stored content.
// Only the two stores include this.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "mottak/zip.hpp"
#include "store/blob_file.hpp"
#include "store/mottak_store.hpp"

namespace norreg::store::mottak_common {

inline constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";
inline constexpr const char* kNotFoundMessage = "Fant ingen melding med denne mottakId";
inline constexpr const char* kConflictMessage = "Simultaneous attempt to confirm same file";
inline constexpr std::string_view kOrgPrefix = "0192:";

// kInternal with the generic client message; `detail` is for the log only.
Error Internal(std::string detail);
// kNotFound with Brreg's message for an unknown mottakId.
Error NotFound();
// kInternal naming what of which message no longer matches its stored digest.
Error Corrupt(std::string_view what, std::string_view id);
// The organisation number without its "0192:" prefix.
std::string_view Org(std::string_view orgnr);
// UUIDs are case-insensitive (RFC 4122); they are stored in lower case.
std::string LowerId(std::string_view id);
// True when `content` still has the digest stored beside it (false also when hashing fails).
bool Intact(std::string_view content, std::string_view stored);
// Each file's digest: computed for content in memory, the spill's own for a spilled file (which
// must be finished).
Result<std::vector<Sha256Digest>> FileDigests(const std::vector<MottakFile>& files);
// A new reply's listing entry: fresh mottakId and dokumentId, the reply's organisation (without
// prefix), service and reference, published at `now_ms` (version 0).
OutboundInfo NewOutboundInfo(const OutboundReply& reply, int64_t now_ms);
// What both stores work out for a reply before its transaction: its ids (NewOutboundInfo) and the
// digests of henvendelse.xml and of each attachment.
struct ReplyDigests {
  OutboundInfo info;
  Sha256Digest digest{};
  std::vector<Sha256Digest> file_digests;
};
Result<ReplyDigests> DigestReply(const OutboundReply& reply, int64_t now_ms);

// Replies whose ZIP inputs (henvendelse + attachments) are at most this many bytes, all in
// memory, get their ZIP built in memory and kept inline; larger ones are built as a file.
inline constexpr uint64_t kInlineZipInput = 256 * 1024;
struct InlineZip {
  std::string bytes;
  Sha256Digest sha256{};
};
// The reply's ZIP built in memory, or nullopt when it is to be built as a file (an attachment
// is spilled, or the inputs exceed kInlineZipInput).
Result<std::optional<InlineZip>> BuildInlineReplyZip(const OutboundReply& reply);
// The entries of the reply's ZIP for mottak::WriteZipFile (spilled attachments by path);
// kInternal for a spill that is not finished.
Result<std::vector<mottak::ZipFileEntry>> ReplyZipFileEntries(const OutboundReply& reply);

}  // namespace norreg::store::mottak_common
