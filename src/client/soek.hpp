#pragma once
// Person search ("soek") from the consumer side, as `norreg soek` uses it:
//   GET personer/soek?navn=…&…            -> {"foedselsEllerDNummer":["…", …]}
//   POST personer/bulkoppslag?part=navn&part=foedsel&part=bostedsadresse&part=status
//        {"foedselsEllerDNummer":[…]}, at most 1000 numbers per call
//   -> one table row per hit: number, name, date of birth, status, bostedsadresse.
// The search criteria and their wire names are described in docs/search.md.
//
// Thread-safety: the functions use the caller they are given (one per thread); the pure helpers
// are thread-safe.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/uttrekk.hpp"
#include "common/result.hpp"

namespace norreg::client {

// The criteria of one search. Empty strings and nullopt are not sent; the server checks the
// values (the client only encodes them).
struct SoekQuery {
  std::string navn;          // one or more words of the name
  std::string kjoenn;        // kvinne | mann
  std::string foedselsdato;  // YYYYMMDD
  std::optional<int> foedselsaar_fra_og_med;
  std::optional<int> foedselsaar_til_og_med;
  std::string adressenavn;
  std::string husnummer;
  std::string postnummer;
  std::string kommunenummer;
  std::string fylkesnummer;
  std::optional<bool> inkluder_oppholdsadresse;
  std::optional<bool> soek_fonetisk;
  std::optional<bool> inkluder_doede;
  std::string opplysningsgrunnlag;  // gjeldende | historisk
  std::optional<int> maks_treff;    // the server allows at most 10 000
};

// The query string without '?': "navn=OLA%20NORDMANN&kjoenn=mann…", parameters in the order of
// SoekQuery, names as on the wire, values percent-encoded as UTF-8 (FormUrlEncode), booleans as
// true/false.
std::string SoekQueryString(const SoekQuery& query);

// The answer of GET personer/soek.
struct SoekAnswer {
  std::vector<std::string> numbers;  // foedselsEllerDNummer, in the server's order
  std::string raw;                   // the answer body as it came
};

// Runs the search. Errors: the caller's (token, transport after retries); a non-200 answer as
// ErrorForAnswer (its message carries the server's kode and melding; 400 is kInvalidInput);
// kInternal when a 200 answer is not {"foedselsEllerDNummer":[strings]}.
Result<SoekAnswer> Soek(FregCaller& caller, const SoekQuery& query);

// One line of the result table. Empty fields print as "-".
struct SoekRow {
  std::string number;
  std::string navn;            // "fornavn mellomnavn etternavn" of the current name
  std::string foedselsdato;    // as in the document (YYYY-MM-DD), else the foedselsaar
  std::string status;          // the current personstatus, e.g. bosatt
  std::string bostedsadresse;  // "STORGATA 1 A, 0150 OSLO" / matrikkel / ukjent bosted
  bool found = true;           // false when the bulk lookup gave no document for the number
};

// The row for `number` out of a person document with (at least) the parts navn, foedsel,
// bostedsadresse and status. For each part the current row (erGjeldende true) is used, else the
// first. Fields missing from the document stay empty. kInternal when `document` is not a JSON
// object.
Result<SoekRow> SoekRowFromDocument(std::string_view number, std::string_view document);

// Looks the numbers up in chunks of `chunk_size` (1..1000) and returns one row per number, in the
// order given (numbers without a document get found = false). Errors: the caller's, ErrorForAnswer
// for a non-200 answer, kInternal for a malformed answer.
Result<std::vector<SoekRow>> FetchSoekRows(FregCaller& caller,
                                           const std::vector<std::string>& numbers,
                                           size_t chunk_size = 1000);

// The rows as an aligned table: a header line, one line per row (columns padded to the widest
// value, counted in characters, not bytes), and a last line "N treff".
std::string FormatSoekTable(const std::vector<SoekRow>& rows);

// What `norreg soek` prints: with `json` the raw search answer (and a newline), else the search
// followed by the lookups, as FormatSoekTable. Errors as Soek and FetchSoekRows.
Result<std::string> SoekReport(FregCaller& caller, const SoekQuery& query, bool json);

}  // namespace norreg::client
