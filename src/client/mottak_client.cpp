#include "client/mottak_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/escape.hpp"
#include "common/files.hpp"
#include "common/ids.hpp"
#include "common/time.hpp"
#include "mottak/melding.hpp"
#include "mottak/zip.hpp"

namespace norreg::client {
namespace {

namespace json = boost::json;

// SPEC 3.1: the service refuses requests over 35 MB; refuse them before sending.
constexpr uint64_t kMaxUploadBytes = 35ull << 20;
constexpr std::string_view kConfirmRaceFeilkode = "ERROR-00005";

// ApiCaller's error when cancelled while waiting.
bool IsCancelled(const Error& error) {
  return error.code == ErrorCode::kInternal && error.message == "cancelled";
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The Brreg error body's feilkode and beskrivelse ("" when the body is not one).
struct Feil {
  std::string feilkode;
  std::string beskrivelse;
};
Feil ParseFeil(std::string_view body) {
  Feil feil;
  json::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) return feil;
  const json::object& object = value.as_object();
  if (const json::value* v = object.if_contains("feilkode"); v != nullptr && v->is_string()) {
    feil.feilkode = std::string(v->as_string());
  }
  if (const json::value* v = object.if_contains("beskrivelse"); v != nullptr && v->is_string()) {
    feil.beskrivelse = std::string(v->as_string());
  }
  return feil;
}

// ErrorForAnswer for the Brreg API: the message names `what`, the status and {feilkode,
// beskrivelse} (or a 401's WWW-Authenticate error_description).
Error MottakErrorForAnswer(std::string_view what, const HttpResponse& response) {
  const ErrorCode code = ErrorCodeForStatus(response.status);
  std::string message = std::string(what) + " answered HTTP " + std::to_string(response.status);
  Feil feil = ParseFeil(response.body);
  if (!feil.feilkode.empty() || !feil.beskrivelse.empty()) {
    message += ": " + feil.feilkode + " " + feil.beskrivelse;
  } else if (response.status == 401) {
    if (auto header = response.Header("www-authenticate")) {
      const auto at = header->find("error_description=\"");
      if (at != std::string_view::npos) {
        std::string_view rest = header->substr(at + 19);
        message += ": " + std::string(rest.substr(0, rest.find('"')));
      }
    }
  }
  return MakeError(code, std::move(message));
}

// A 500 whose body is ERROR-00005 is the confirm race's answer, not a failure to retry.
bool IsConfirmRace(const HttpResponse& response) {
  return response.status == 500 && ParseFeil(response.body).feilkode == kConfirmRaceFeilkode;
}

// The Brreg mottak API: on the server root, Brreg's error body.
const ApiDialect kMottakDialect{"/", "", &MottakErrorForAnswer, &IsConfirmRace};

// A whole file of at most `limit` bytes; kInvalidInput when it cannot be read or is larger.
Result<std::string> ReadInputFile(const std::string& path, uint64_t limit) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return MakeError(ErrorCode::kInvalidInput, "cannot read " + path + ": not a regular file");
  }
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return MakeError(ErrorCode::kInvalidInput, "cannot read " + path + ": " + ec.message());
  if (size > limit) {
    return MakeError(ErrorCode::kInvalidInput, path + " is " + std::to_string(size) +
                                                   " bytes; an upload may be at most " +
                                                   std::to_string(kMaxUploadBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidInput, "cannot read " + path);
  std::string content(static_cast<size_t>(size), '\0');
  in.read(content.data(), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(in.gcount()) != size) {
    return MakeError(ErrorCode::kInvalidInput, "cannot read " + path + " (changed while read)");
  }
  return content;
}

// A file name fit for a quoted-string parameter: no control characters (CR/LF would break the
// part's headers); '"' and '\' escaped as RFC 7578 quoted-strings allow.
std::string QuotedFileName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += '_';
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  out += '"';
  return out;
}

struct UploadPart {
  std::string_view name;
  std::string filename;
  std::string content_type;
  const std::string* content;
};

std::string NewBoundary() {
  std::string uuid = ids::NewUuid();
  uuid.erase(std::remove(uuid.begin(), uuid.end(), '-'), uuid.end());
  return "norreg-" + uuid;
}

// multipart/form-data (RFC 7578) with a boundary that occurs in no part.
std::string MultipartBody(const std::vector<UploadPart>& parts, std::string& boundary) {
  auto clashes = [&parts](const std::string& candidate) {
    return std::any_of(parts.begin(), parts.end(), [&candidate](const UploadPart& part) {
      return part.content->find(candidate) != std::string::npos;
    });
  };
  do {
    boundary = NewBoundary();
  } while (clashes(boundary));
  size_t size = boundary.size() + 8;
  for (const UploadPart& part : parts) size += part.content->size() + part.filename.size() + 160;
  std::string body;
  body.reserve(size);
  for (const UploadPart& part : parts) {
    body += "--";
    body += boundary;
    body += "\r\nContent-Disposition: form-data; name=\"";
    body += part.name;
    body += "\"; filename=";
    body += QuotedFileName(part.filename);
    body += "\r\nContent-Type: ";
    body += part.content_type;
    body += "\r\n\r\n";
    body += *part.content;
    body += "\r\n";
  }
  body += "--";
  body += boundary;
  body += "--\r\n";
  return body;
}

std::string BaseName(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  return name.empty() ? path : name;
}

Status IoError(const std::string& what, const std::string& path) {
  return MakeError(ErrorCode::kInternal, what + " " + path + " failed: " + std::strerror(errno));
}

// Appends one line to <state_dir>/sent.ndjson and makes it durable.
Status RecordSent(const std::string& state_dir, const SendResult& sent, const std::string& file) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "cannot create " + state_dir + ": " + ec.message());
  }
  std::string line = "{\"meldingId\":";
  AppendJsonString(line, sent.melding_id);
  line += ",\"mottakId\":";
  AppendJsonString(line, sent.mottak_id);
  line += ",\"fil\":";
  AppendJsonString(line, file);
  line += ",\"sendt\":\"";
  timefmt::AppendOslo(line, timefmt::NowMs());
  line += "\"}\n";
  const std::string path = state_dir + "/sent.ndjson";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("open", path);
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = IoError("write", path);
      ::close(fd);
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = IoError("fsync", path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return IoError("close", path);
  if (created) {
    // A new folder's entry must reach the disk too, or the file may vanish with it.
    const std::string parent = std::filesystem::path(state_dir).lexically_normal().string() + "/..";
    const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  const int dir = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

// meldingId -> fil from <state_dir>/sent.ndjson (missing file: empty; a torn or foreign line is
// skipped; a later line for the same id wins).
std::map<std::string, std::string> ReadSent(const std::string& state_dir) {
  std::map<std::string, std::string> sent;
  if (state_dir.empty()) return sent;
  std::ifstream in(state_dir + "/sent.ndjson", std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    json::error_code ec;
    json::value value = json::parse(line, ec);
    if (ec || !value.is_object()) continue;
    const json::object& object = value.as_object();
    const json::value* id = object.if_contains("meldingId");
    const json::value* file = object.if_contains("fil");
    if (id == nullptr || file == nullptr || !id->is_string() || !file->is_string()) continue;
    sent[std::string(id->as_string())] = std::string(file->as_string());
  }
  return sent;
}

Result<SendResult> ParseUploadAnswer(const HttpResponse& response) {
  auto malformed = [&response](std::string_view why) {
    return MakeError(ErrorCode::kInternal,
                     "POST /inbound/upload: unexpected answer (" + std::string(why) + ")",
                     response.body.substr(0, 200));
  };
  json::error_code ec;
  json::value value = json::parse(response.body, ec);
  if (ec || !value.is_object()) return malformed("not a JSON object");
  const json::object& object = value.as_object();
  SendResult result;
  const json::value* id = object.if_contains("mottakId");
  if (id == nullptr || !id->is_string() || !ids::IsUuid(id->as_string())) {
    return malformed("no mottakId");
  }
  result.mottak_id = ToLower(id->as_string());
  if (const json::value* v = object.if_contains("mottattTidspunkt"); v && v->is_string()) {
    result.mottatt_tidspunkt = std::string(v->as_string());
  }
  if (const json::value* v = object.if_contains("antallVedlegg"); v && v->is_int64()) {
    result.antall_vedlegg = static_cast<int>(v->as_int64());
  }
  return result;
}

struct AvailableItem {
  std::string mottak_id;  // lower case, a UUID (so also a safe file name)
};

Result<std::vector<AvailableItem>> ParseAvailable(const HttpResponse& response) {
  json::error_code ec;
  json::value value = json::parse(response.body, ec);
  if (ec || !value.is_array()) {
    return MakeError(ErrorCode::kInternal, "GET /outbound/available: not a JSON array",
                     response.body.substr(0, 200));
  }
  std::vector<AvailableItem> items;
  for (const json::value& element : value.as_array()) {
    const json::object* object = element.if_object();
    const json::value* id = object ? object->if_contains("mottakId") : nullptr;
    if (id == nullptr || !id->is_string() || !ids::IsUuid(id->as_string())) {
      // Never let a server choose a file name that is not a UUID.
      return MakeError(ErrorCode::kInternal,
                       "GET /outbound/available: an entry without a valid mottakId",
                       json::serialize(element).substr(0, 200));
    }
    items.push_back({ToLower(id->as_string())});
  }
  return items;
}

struct VerifiedReply {
  std::string melding_referanse;
  std::string tjenestehandling;
};

Result<VerifiedReply> VerifyReplyZip(const std::string& mottak_id, std::string_view zip) {
  auto entries = mottak::ReadZip(zip);
  if (!entries.ok()) {
    return MakeError(ErrorCode::kInternal,
                     "reply " + mottak_id + " is not a valid ZIP: " + entries.error().message);
  }
  auto henvendelse = std::find_if(entries->begin(), entries->end(), [](const mottak::ZipEntry& e) {
    return e.name == "henvendelse.xml";
  });
  if (henvendelse == entries->end()) {
    return MakeError(ErrorCode::kInternal, "reply " + mottak_id + " holds no henvendelse.xml");
  }
  auto melding = mottak::ParseMelding(henvendelse->content);
  if (!melding.ok()) {
    return MakeError(ErrorCode::kInternal,
                     "reply " + mottak_id +
                         ": henvendelse.xml is not a valid Melding: " + melding.error().message);
  }
  VerifiedReply reply;
  reply.tjenestehandling = melding->tjenestehandling;
  for (const mottak::Referanse& referanse : melding->referanser) {
    if (referanse.referanse_type == "MeldingsReferanse") {
      reply.melding_referanse = referanse.referanse;
      break;
    }
  }
  return reply;
}

}  // namespace

std::optional<std::string> ContentTypeForFile(const std::string& path) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {"csv", "text/csv"},
      {"doc", "application/msword"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"gz", "application/gzip"},
      {"jpeg", "image/jpeg"},
      {"jpg", "image/jpeg"},
      {"json", "application/json"},
      {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"pdf", "application/pdf"},
      {"png", "image/png"},
      {"rtf", "application/rtf"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"txt", "text/plain"},
      {"xls", "application/vnd.ms-excel"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"xml", "application/xml"},
      {"zip", "application/zip"},
  };
  std::string extension = std::filesystem::path(path).filename().extension().string();
  if (extension.size() < 2) return std::nullopt;
  auto found = kTypes.find(ToLower(std::string_view(extension).substr(1)));
  if (found == kTypes.end()) return std::nullopt;
  return found->second;
}

namespace {

// The attachments' types (by extension) and contents; `total` starts at the payload's size and
// the whole may not pass kMaxUploadBytes.
Status ReadAttachments(const std::vector<std::string>& attachments, uint64_t total,
                       std::vector<std::string>& types, std::vector<std::string>& contents) {
  for (const std::string& file : attachments) {
    auto type = ContentTypeForFile(file);
    if (!type) {
      return MakeError(ErrorCode::kInvalidInput,
                       file +
                           ": file type not allowed (xml, pdf, doc, docx, xls, xlsx, rtf, jpg, "
                           "jpeg, png, odt, ods, tif, tiff, txt, json, csv, zip, gz)");
    }
    types.push_back(std::move(*type));
  }
  contents.reserve(attachments.size());
  for (const std::string& file : attachments) {
    auto content = ReadInputFile(file, kMaxUploadBytes);
    if (!content.ok()) return content.error();
    total += content->size();
    if (total > kMaxUploadBytes) {
      return MakeError(ErrorCode::kInvalidInput, "the files add up to more than " +
                                                     std::to_string(kMaxUploadBytes) +
                                                     " bytes, the most one request may carry");
    }
    contents.push_back(std::move(*content));
  }
  return Status::Ok();
}

}  // namespace

Result<SendResult> SendMelding(const MottakClientOptions& options, const std::string& melding_path,
                               const std::vector<std::string>& attachments, bool generate_id) {
  auto payload = ReadInputFile(melding_path, kMaxUploadBytes);
  if (!payload.ok()) return payload.error();
  std::vector<std::string> contents;
  std::vector<std::string> types;
  if (Status s = ReadAttachments(attachments, payload->size(), types, contents); !s.ok()) {
    return s.error();
  }
  std::vector<UploadPart> parts;
  parts.reserve(attachments.size() + 1);

  SendResult result;
  auto melding = mottak::ParseMelding(*payload);
  if (generate_id) {
    if (!melding.ok()) {
      return MakeError(ErrorCode::kInvalidInput, melding_path + ": " + melding.error().message);
    }
    std::string id = ids::NewUuid();
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    melding->id = std::move(id);
    auto rendered = mottak::RenderMelding(*melding);
    if (!rendered.ok()) {
      return MakeError(ErrorCode::kInvalidInput, melding_path + ": " + rendered.error().message);
    }
    *payload = std::move(*rendered);
  }
  // Without generate_id an invalid Melding is still sent: the service's answer names the defect.
  if (melding.ok()) result.melding_id = melding->id;

  parts.push_back({"payload", BaseName(melding_path), "application/xml", &*payload});
  for (size_t i = 0; i < attachments.size(); ++i) {
    parts.push_back({"attachments", BaseName(attachments[i]), types[i], &contents[i]});
  }
  std::string boundary;
  const std::string body = MultipartBody(parts, boundary);

  ApiCaller caller(options.base_url, kMottakDialect, options.tokens, options.retry, options.http);
  // A repeated upload of the same Melding id answers the first mottakId, so retries are safe.
  auto response = caller.Call("POST", "/inbound/upload", body,
                              {{"Content-Type", "multipart/form-data; boundary=" + boundary},
                               {"Accept", "application/json"}});
  if (!response.ok()) return response.error();
  if (response->status != 200) return MottakErrorForAnswer("POST /inbound/upload", *response);
  auto answer = ParseUploadAnswer(*response);
  if (!answer.ok()) return answer.error();
  answer->melding_id = result.melding_id;
  if (!options.state_dir.empty()) {
    if (Status s = RecordSent(options.state_dir, *answer, melding_path); !s.ok()) {
      Error error = s.error();
      error.message =
          "sent as mottakId " + answer->mottak_id + ", but not recorded: " + error.message;
      return error;
    }
  }
  return answer;
}

Result<PublishResult> PublishReply(const MottakClientOptions& options,
                                   const std::string& reply_path,
                                   const std::vector<std::string>& attachments,
                                   const std::string& orgnr) {
  auto xml = ReadInputFile(reply_path, kMaxUploadBytes);
  if (!xml.ok()) return xml.error();
  if (!orgnr.empty()) {
    std::string_view org = orgnr;
    if (org.starts_with("0192:")) org.remove_prefix(5);
    if (!ids::ValidOrgnr(org)) {
      return MakeError(ErrorCode::kInvalidInput, orgnr + " is not an organisation number");
    }
    auto melding = mottak::ParseMelding(*xml);
    if (!melding.ok()) {
      return MakeError(ErrorCode::kInvalidInput, reply_path + ": " + melding.error().message);
    }
    melding->mottaker.id = std::string(org);
    melding->mottaker.id_type = "orgnr";
    auto rendered = mottak::RenderMelding(*melding);
    if (!rendered.ok()) {
      return MakeError(ErrorCode::kInvalidInput, reply_path + ": " + rendered.error().message);
    }
    *xml = std::move(*rendered);
  }
  std::vector<std::string> contents;
  std::vector<std::string> types;
  if (Status s = ReadAttachments(attachments, xml->size(), types, contents); !s.ok()) {
    return s.error();
  }
  std::string body;
  std::string content_type = "application/xml";
  if (attachments.empty()) {
    body = std::move(*xml);
  } else {
    std::vector<UploadPart> parts;
    parts.push_back({"payload", BaseName(reply_path), "application/xml", &*xml});
    for (size_t i = 0; i < attachments.size(); ++i) {
      parts.push_back({"attachments", BaseName(attachments[i]), types[i], &contents[i]});
    }
    std::string boundary;
    body = MultipartBody(parts, boundary);
    content_type = "multipart/form-data; boundary=" + boundary;
  }
  // Not retried: a retry after a lost answer would publish the reply twice.
  RetryPolicy once = options.retry;
  once.max_attempts = 1;
  ApiCaller caller(options.base_url, kMottakDialect, options.tokens, once, options.http);
  constexpr std::string_view kPath = "/norreg/mottak/v1/svar";
  auto response = caller.Call("POST", std::string(kPath), body,
                              {{"Content-Type", content_type}, {"Accept", "application/json"}});
  if (!response.ok()) return response.error();
  if (response->status != 200) return MottakErrorForAnswer("POST " + std::string(kPath), *response);
  json::error_code ec;
  json::value value = json::parse(response->body, ec);
  const json::object* object = ec ? nullptr : value.if_object();
  const json::value* id = object ? object->if_contains("mottakId") : nullptr;
  const json::value* dokument = object ? object->if_contains("dokumentId") : nullptr;
  if (id == nullptr || !id->is_string() || dokument == nullptr || !dokument->is_string()) {
    return MakeError(ErrorCode::kInternal, "POST " + std::string(kPath) + ": unexpected answer",
                     response->body.substr(0, 200));
  }
  return PublishResult{std::string(id->as_string()), std::string(dokument->as_string())};
}

Result<PollSummary> PollMailbox(const MottakClientOptions& options, const PollOptions& poll,
                                const std::function<void(const PolledReply&)>& on_reply) {
  if (poll.out_dir.empty()) return MakeError(ErrorCode::kInvalidInput, "no output folder");
  std::error_code ec;
  std::filesystem::create_directories(poll.out_dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "cannot create " + poll.out_dir + ": " + ec.message());
  }
  ApiCaller caller(options.base_url, kMottakDialect, options.tokens, options.retry, options.http,
                   nullptr, poll.cancel);
  PollSummary summary;
  std::string available_target = "/outbound/available";
  if (!poll.tjeneste.empty()) available_target += "?tjeneste=" + FormUrlEncode(poll.tjeneste);
  const HttpHeaders json_accept = {{"Accept", "application/json"}};
  const HttpHeaders zip_accept = {{"Accept", "application/octet-stream, application/zip"}};

  // A cancellation is a clean stop: what was written but not confirmed is fetched again later.
  auto finish = [&summary, &caller](const Error& error) -> Result<PollSummary> {
    if (caller.cancelled() && IsCancelled(error)) return summary;
    return error;
  };

  while (true) {
    ++summary.rounds;
    const std::map<std::string, std::string> sent = ReadSent(options.state_dir);
    std::set<std::string> seen;
    std::optional<Error> refused;  // the first reply that could not be accepted this round
    // The listing may be capped: list again until it holds nothing new.
    while (true) {
      auto listed = caller.Call("GET", available_target, {}, json_accept);
      if (!listed.ok()) return finish(listed.error());
      if (listed->status != 200) {
        return MottakErrorForAnswer("GET " + available_target, *listed);
      }
      auto items = ParseAvailable(*listed);
      if (!items.ok()) return items.error();
      bool any_new = false;
      for (const AvailableItem& item : *items) {
        if (!seen.insert(item.mottak_id).second) continue;
        any_new = true;
        const std::string query = "?mottakId=" + item.mottak_id;
        auto download = caller.Call("GET", "/outbound/download" + query, {}, zip_accept);
        if (!download.ok()) return finish(download.error());
        if (download->status == 404) continue;  // gone since it was listed (retention)
        if (download->status != 200) {
          return MottakErrorForAnswer("GET /outbound/download" + query, *download);
        }
        auto verified = VerifyReplyZip(item.mottak_id, download->body);
        if (!verified.ok()) {
          // Never write or confirm a reply that is not one; the others go on.
          if (!refused) refused = verified.error();
          continue;
        }
        PolledReply reply;
        reply.mottak_id = item.mottak_id;
        reply.path = poll.out_dir + "/" + item.mottak_id + ".zip";
        if (Status s = WriteFileAtomically(reply.path, download->body, 0644); !s.ok()) {
          return s.error();
        }
        ++summary.written;
        if (poll.stop_after_writes > 0 && summary.written >= poll.stop_after_writes) {
          return summary;  // as if killed between the write and the confirm
        }
        auto confirm = caller.Call("PUT", "/outbound/confirm" + query, {}, json_accept);
        if (!confirm.ok()) return finish(confirm.error());
        const bool raced =
            confirm->status == 500 && ParseFeil(confirm->body).feilkode == kConfirmRaceFeilkode;
        if (confirm->status != 200 && !raced) {
          return MottakErrorForAnswer("PUT /outbound/confirm" + query, *confirm);
        }
        ++summary.confirmed;
        reply.melding_referanse = std::move(verified->melding_referanse);
        reply.tjenestehandling = std::move(verified->tjenestehandling);
        if (!reply.melding_referanse.empty()) {
          if (auto found = sent.find(reply.melding_referanse); found != sent.end()) {
            reply.answers_file = found->second;
          }
        }
        if (on_reply) on_reply(reply);
      }
      if (!any_new || caller.cancelled()) break;
    }
    if (refused) return *refused;
    if (poll.once || caller.cancelled()) return summary;
    if (!caller.SleepFor(poll.interval)) return summary;
  }
}

}  // namespace norreg::client
