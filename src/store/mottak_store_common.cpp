#include "store/mottak_store_common.hpp"

#include "common/ids.hpp"

namespace norreg::store::mottak_common {

Error Internal(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

Error NotFound() { return MakeError(ErrorCode::kNotFound, kNotFoundMessage); }

Error Corrupt(std::string_view what, std::string_view id) {
  return Internal("stored content is corrupt: " + std::string(what) + " of " + std::string(id));
}

std::string_view Org(std::string_view orgnr) {
  if (orgnr.starts_with(kOrgPrefix)) orgnr.remove_prefix(kOrgPrefix.size());
  return orgnr;
}

std::string LowerId(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool Intact(std::string_view content, std::string_view stored) {
  auto d = Sha256::Of(content);
  return d.ok() && stored == DigestView(*d);
}

Result<std::vector<Sha256Digest>> FileDigests(const std::vector<MottakFile>& files) {
  std::vector<Sha256Digest> out;
  out.reserve(files.size());
  for (const MottakFile& f : files) {
    if (f.spilled) {
      if (!f.spilled->finished()) return Internal("spill of " + f.name + " is not finished");
      out.push_back(f.spilled->sha256());
      continue;
    }
    auto d = Sha256::Of(f.content);
    if (!d.ok()) return d.error();
    out.push_back(*d);
  }
  return out;
}

OutboundInfo NewOutboundInfo(const OutboundReply& reply, int64_t now_ms) {
  OutboundInfo info;
  info.mottak_id = ids::NewUuid();
  info.dokument_id = ids::NewUuid();
  info.orgnr = Org(reply.orgnr);
  info.tjeneste = reply.tjeneste;
  info.melding_referanse = reply.melding_referanse;
  info.oppdatert_ms = now_ms;
  return info;
}

Result<ReplyDigests> DigestReply(const OutboundReply& reply, int64_t now_ms) {
  ReplyDigests out;
  auto digest = Sha256::Of(reply.henvendelse_xml);
  if (!digest.ok()) return digest.error();
  out.digest = *digest;
  auto file_digests = FileDigests(reply.attachments);
  if (!file_digests.ok()) return file_digests.error();
  out.file_digests = std::move(file_digests).value();
  out.info = NewOutboundInfo(reply, now_ms);
  return out;
}

Result<std::optional<InlineZip>> BuildInlineReplyZip(const OutboundReply& reply) {
  uint64_t input = reply.henvendelse_xml.size();
  for (const MottakFile& f : reply.attachments) {
    if (f.spilled != nullptr) return std::optional<InlineZip>();
    input += f.size();
  }
  if (input > kInlineZipInput) return std::optional<InlineZip>();
  std::vector<mottak::ZipEntry> entries;
  entries.push_back({"henvendelse.xml", reply.henvendelse_xml});
  for (const MottakFile& f : reply.attachments) entries.push_back({f.name, f.content});
  auto bytes = mottak::BuildZip(entries);
  if (!bytes.ok()) return bytes.error();
  auto digest = Sha256::Of(*bytes);
  if (!digest.ok()) return digest.error();
  return std::optional<InlineZip>(InlineZip{std::move(bytes).value(), *digest});
}

Result<std::vector<mottak::ZipFileEntry>> ReplyZipFileEntries(const OutboundReply& reply) {
  std::vector<mottak::ZipFileEntry> entries;
  entries.push_back({"henvendelse.xml", reply.henvendelse_xml, "", true});
  for (const MottakFile& f : reply.attachments) {
    if (f.spilled && !f.spilled->finished()) {
      return Internal("spill of " + f.name + " is not finished");
    }
    entries.push_back({f.name, f.spilled ? std::string() : f.content,
                       f.spilled ? f.spilled->path() : std::string(),
                       mottak::WorthDeflating(f.content_type)});
  }
  return entries;
}

}  // namespace norreg::store::mottak_common
