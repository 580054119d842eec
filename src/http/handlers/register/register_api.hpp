#pragma once
// The register's own write API (norreg, not part of the distribution services): producers with the
// scope auth::kRegisterProducerScope post person documents, which become new versions and feed
// events exactly as `norreg import` makes them. Errors in the Folkeregisteret {kode, melding}
// shape.
//
//   POST /norreg/register/v1/personer   body: one Folkeregisterperson, an array, a bulk answer or
//                                        NDJSON (application/json or application/x-ndjson)
//   200 {"dokumenter":N,"nyePersoner":M,"foersteSekvensnummer":A,"sisteSekvensnummer":B}
//   400 naming the document and field when any document is invalid (nothing is stored).
#include <string_view>
#include <vector>

#include "http/dispatcher.hpp"
#include "service/person_import.hpp"

namespace norreg::http::register_api {

inline constexpr std::string_view kBasePath = "/norreg/register/v1";
inline constexpr std::string_view kApi = "register";

Status RegisterApi(Dispatcher& dispatcher, service::PersonImporter& importer,
                   std::vector<BeforeStep> before);

Result<Response> PostPersons(service::PersonImporter& importer, Request& request);

}  // namespace norreg::http::register_api
