// GET hendelser/feed?seq=N (1000 events per page; JSON, or Atom for application/atom+xml and
// application/xml; ETag + If-None-Match -> 304) and GET hendelser/siste/sekvensnummer (SPEC 2.4).
// The feed names numbers and document ids, not person data: nothing is recorded in the audit log.
// Its shape is the package's (freg/packages.hpp): full (LagretHendelse, with the event and person
// document ids), thin (LagretTynnHendelse: number, type, time), and thin without the number for
// the packages that never disclose one.
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "common/escape.hpp"
#include "common/time.hpp"
#include "freg/event_document.hpp"
#include "freg/render.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

namespace {

constexpr size_t kFeedPageSize = 1000;
constexpr std::string_view kAtomNamespace = "http://www.w3.org/2005/Atom";
constexpr std::string_view kFeedPath = "/hendelser/feed";
// Entry ids are tag URIs (RFC 4151), as Skatteetaten's own entries use.
constexpr std::string_view kEntryIdPrefix =
    "tag:norreg,2024:folkeregisteret:tilgjengeliggjoering:hendelse:v1:";

// The page's validator. A page is fully determined by the register (its key), the seq asked, the
// representation and the events on it; events are immutable and appended in seq order, so the
// last sekvensnummer and the count identify the events. Strong: bytes are equal when it is.
// An Atom page also depends on the links' base URL (a hash of it is in the tag) and, past the
// end, on the time of the answer: its tag is weak (W/), the events it names being the same.
// The event fields a package's feed shows.
struct FeedFields {
  bool documents = true;   // hendelsesdokument and persondokument
  bool identifier = true;  // folkeregisteridentifikator

  explicit FeedFields(const freg::Package& package)
      : documents(package.feed == freg::FeedShape::kFull),
        identifier(package.identifiers != freg::Identifiers::kNever) {}
  char Tag() const { return documents ? 'j' : identifier ? 't' : 'n'; }
};

std::string FeedEtag(const FregContext& context, uint64_t seq, uint64_t last, size_t count,
                     bool atom, std::string_view base_url, FeedFields fields) {
  // 8 hex characters of the register's key schedule tell registers apart (a regenerated data
  // folder has a new key) without revealing anything about the sequence.
  std::string register_tag =
      context.feed.cipher().Encode(ids::DocumentKind::kEvent, 0).substr(0, 8);
  uint32_t base_hash = 2166136261u;  // FNV-1a: stable across nodes and restarts
  for (unsigned char c : base_url) base_hash = (base_hash ^ c) * 16777619u;
  char buf[160];
  int n = 0;
  if (atom) {
    n = std::snprintf(buf, sizeof buf, "W/\"%s-%llu-%llu-%zu-a%08x\"", register_tag.c_str(),
                      static_cast<unsigned long long>(seq), static_cast<unsigned long long>(last),
                      count, static_cast<unsigned>(base_hash));
  } else {
    n = std::snprintf(buf, sizeof buf, "\"%s-%llu-%llu-%zu-%c\"", register_tag.c_str(),
                      static_cast<unsigned long long>(seq), static_cast<unsigned long long>(last),
                      count, fields.Tag());
  }
  return std::string(buf, static_cast<size_t>(n));
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 13.1.2: If-None-Match is "*" or a list of entity tags compared weakly.
bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  header = TrimOws(header);
  if (header == "*") return true;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view tag = TrimOws(header.substr(0, comma));
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

void AppendJsonPage(const FregContext& context, const std::vector<store::EventRow>& events,
                    FeedFields fields, std::string& out) {
  out.reserve(events.size() * 260 + 2);
  out += '[';
  for (size_t i = 0; i < events.size(); ++i) {
    const store::EventRow& e = events[i];
    if (i > 0) out += ',';
    out += "{\"sekvensnummer\":";
    out += std::to_string(e.seq);
    out += ",\"hendelse\":{";
    if (fields.identifier) {
      out += "\"folkeregisteridentifikator\":";
      AppendJsonString(out, e.fnr);
      out += ',';
    }
    out += "\"hendelsetype\":\"";
    out += freg::HendelsestypeName(e.type);
    if (fields.documents) {
      out += "\",\"hendelsesdokument\":\"";
      context.feed.cipher().AppendEncoded(out, ids::DocumentKind::kEvent, e.seq);
      out += "\",\"persondokument\":\"";
      context.feed.cipher().AppendEncoded(out, ids::DocumentKind::kPerson, e.seq);
    }
    out += "\",\"ajourholdstidspunkt\":\"";
    timefmt::AppendOslo(out, e.ajourholdstidspunkt);
    out += "\"}}";
  }
  out += ']';
}

void AppendLink(std::string& out, std::string_view feed_url, std::string_view rel, uint64_t seq) {
  out += "<link rel=\"";
  out += rel;
  out += "\" type=\"application/atom+xml\" href=\"";
  AppendXmlEscaped(out, feed_url);
  out += "?seq=";
  out += std::to_string(seq);
  out += "\"/>";
}

void AppendElement(std::string& out, std::string_view name, std::string_view text) {
  out += '<';
  out += name;
  out += '>';
  AppendXmlEscaped(out, text);
  out += "</";
  out += name;
  out += '>';
}

// The page as on the real service: the feed's id is its URL, links are absolute, `first` is
// seq=0, and `updated` is the newest change on the page (past the end: the time of the answer).
void AppendAtomPage(const FregContext& context, std::string_view base_url, uint64_t seq,
                    const std::vector<store::EventRow>& events, FeedFields fields,
                    std::string& out) {
  const std::string feed_url = std::string(base_url) + std::string(kFeedPath);
  out.reserve(events.size() * 900 + 1024);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns=\"";
  out += kAtomNamespace;
  out += "\"><id>";
  AppendXmlEscaped(out, feed_url);
  out += "</id><title>Offentlig hendelsesliste</title><author><name>norreg</name></author>";
  AppendLink(out, feed_url, "self", seq);
  AppendLink(out, feed_url, "first", 0);
  if (events.size() >= kFeedPageSize) AppendLink(out, feed_url, "next", events.back().seq + 1);
  timefmt::EpochMs updated = 0;
  for (const store::EventRow& e : events) updated = std::max(updated, e.ajourholdstidspunkt);
  if (events.empty()) updated = timefmt::NowMs();
  out += "<updated>";
  timefmt::AppendOslo(out, updated);
  out += "</updated>";
  for (const store::EventRow& e : events) {
    const std::string digits = std::to_string(e.seq);
    out += "<entry><title>Hendelse</title><id>";
    out += kEntryIdPrefix;
    out += digits;
    out += "</id><updated>";
    timefmt::AppendOslo(out, e.ajourholdstidspunkt);
    out += "</updated><content type=\"application/xml\"><lagretHendelse xmlns=\"";
    out += freg::kEventXmlNamespace;
    out += "\"><sekvensnummer>";
    out += digits;
    out += "</sekvensnummer><hendelse>";
    if (fields.identifier) AppendElement(out, "folkeregisteridentifikator", e.fnr);
    AppendElement(out, "hendelsetype", freg::HendelsestypeName(e.type));
    if (fields.documents) {
      out += "<hendelsesdokument>";
      context.feed.cipher().AppendEncoded(out, ids::DocumentKind::kEvent, e.seq);
      out += "</hendelsesdokument><persondokument>";
      context.feed.cipher().AppendEncoded(out, ids::DocumentKind::kPerson, e.seq);
      out += "</persondokument>";
    }
    out += "<ajourholdstidspunkt>";
    timefmt::AppendOslo(out, e.ajourholdstidspunkt);
    out += "</ajourholdstidspunkt></hendelse></lagretHendelse></content></entry>";
  }
  out += "</feed>";
}

}  // namespace

Result<Response> GetFeed(FregContext& context, Request& request) {
  auto type = Negotiate(request.Header("accept").value_or(""),
                        {MediaType::kJson, MediaType::kAtom, MediaType::kXml});
  if (!type) {
    return MakeError(ErrorCode::kNotAcceptable,
                     "Oppgitt Accept-header inneholder ikke 'application/atom+xml', "
                     "'application/xml' eller 'application/json'");
  }
  auto seq_text = request.Query("seq");
  uint64_t seq = 0;
  bool valid = seq_text && !seq_text->empty();
  if (valid) {
    const char* end = seq_text->data() + seq_text->size();
    auto [ptr, ec] = std::from_chars(seq_text->data(), end, seq);
    valid = ec == std::errc() && ptr == end;
  }
  if (!valid) {
    // seq=0 is valid: the real service's `first` link is seq=0, which pages from the first event.
    return MakeError(ErrorCode::kInvalidInput,
                     "seq må være et heltall fra og med 0 (sekvensnummer)");
  }
  auto events = context.feed.Events(seq, kFeedPageSize);
  if (!events.ok()) return events.error();

  const bool atom = *type != MediaType::kJson;
  const uint64_t last = events->empty() ? 0 : events->back().seq;
  const std::string base_url =
      atom ? ApiBaseUrl(request, context.package->base_path) : std::string();
  const FeedFields fields(*context.package);
  std::string etag = FeedEtag(context, seq, last, events->size(), atom, base_url, fields);
  Response response;
  if (auto match = request.Header("if-none-match"); match && IfNoneMatchHits(*match, etag)) {
    response.status = 304;
    response.SetHeader("ETag", etag);
    return response;
  }
  if (atom) {
    AppendAtomPage(context, base_url, seq, *events, fields, response.body);
  } else {
    AppendJsonPage(context, *events, fields, response.body);
  }
  response.content_type = MediaTypeName(*type);
  response.SetHeader("ETag", etag);
  return response;
}

Result<Response> GetLatestSeq(FregContext& context, Request& request) {
  auto type = Negotiate(request.Header("accept").value_or(""),
                        {MediaType::kJson, MediaType::kXml, MediaType::kText});
  if (!type) {
    return MakeError(ErrorCode::kNotAcceptable, "Oppgitt Accept-header støttes ikke");
  }
  std::string digits = std::to_string(context.feed.LatestSeq());
  Response response;
  response.content_type = MediaTypeName(*type);
  response.body =
      *type == MediaType::kXml ? "<sekvensnummer>" + digits + "</sekvensnummer>" : digits;
  return response;
}

}  // namespace norreg::http::freg_api
