// POST /norreg/register/v1/personer — producers add person versions (see register_api.hpp).
#include <spdlog/spdlog.h>

#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/register/register_api.hpp"
#include "http/negotiation.hpp"

namespace norreg::http::register_api {

Result<Response> PostPersons(service::PersonImporter& importer, Request& request) {
  auto content_type = request.Header("content-type").value_or("");
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  if (!EqualsIgnoreCase(media, "application/json") &&
      !EqualsIgnoreCase(media, "application/x-ndjson")) {
    return MakeError(ErrorCode::kUnsupportedMedia,
                     "Content-Type må være application/json eller application/x-ndjson");
  }
  auto documents = service::SplitDocuments(request.body, "forespørselen");
  if (!documents.ok()) return documents.error();
  std::vector<std::string> sources;
  sources.reserve(documents->size());
  for (size_t i = 0; i < documents->size(); ++i) {
    sources.push_back(documents->size() == 1 ? "dokumentet" : "dokument " + std::to_string(i + 1));
  }
  auto summary = importer.Import(*documents, sources);
  if (!summary.ok()) return summary.error();
  const auth::Principal* principal = auth_api::PrincipalOf(request);
  spdlog::info("register_import rid={} org={} client={} documents={} seq={}..{}",
               request.request_id, principal ? principal->consumer_orgnr : "-",
               principal ? principal->client_id : "-", summary->documents, summary->first_seq,
               summary->last_seq);
  return Response::Json("{\"dokumenter\":" + std::to_string(summary->documents) +
                        ",\"nyePersoner\":" + std::to_string(summary->new_persons) +
                        ",\"foersteSekvensnummer\":" + std::to_string(summary->first_seq) +
                        ",\"sisteSekvensnummer\":" + std::to_string(summary->last_seq) + "}");
}

}  // namespace norreg::http::register_api
