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

}  // namespace norreg::store::mottak_common
