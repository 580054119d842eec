#include "client/soek.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <unordered_map>

namespace norreg::client {
namespace {

constexpr std::string_view kBulkPath =
    "personer/bulkoppslag?part=navn&part=foedsel&part=bostedsadresse&part=status";
constexpr size_t kMaxChunk = 1000;

void AddParam(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  if (!out.empty()) out += '&';
  out += name;
  out += '=';
  out += FormUrlEncode(value);
}
void AddParam(std::string& out, std::string_view name, const std::optional<int>& value) {
  if (value) AddParam(out, name, std::to_string(*value));
}
void AddParam(std::string& out, std::string_view name, const std::optional<bool>& value) {
  if (value) AddParam(out, name, std::string_view(*value ? "true" : "false"));
}

using simdjson::dom::object;

// The current row of a history list (erGjeldende true), else its first object.
std::optional<object> CurrentRow(object person, std::string_view part) {
  simdjson::dom::array rows;
  if (person[part].get_array().get(rows)) return std::nullopt;
  std::optional<object> first;
  for (simdjson::dom::element element : rows) {
    object row;
    if (element.get_object().get(row)) continue;
    if (!first) first = row;
    bool current = false;
    if (!row["erGjeldende"].get_bool().get(current) && current) return row;
  }
  return first;
}

std::optional<object> Child(object parent, std::string_view key) {
  object child;
  if (parent[key].get_object().get(child)) return std::nullopt;
  return child;
}

// A string or integer field as text; "" when absent or of another type.
std::string Text(object o, std::string_view key) {
  simdjson::dom::element element;
  if (o[key].get(element)) return {};
  std::string_view text;
  if (!element.get_string().get(text)) return std::string(text);
  int64_t number = 0;
  if (!element.get_int64().get(number)) return std::to_string(number);
  return {};
}

void Join(std::string& out, std::string_view part, std::string_view separator = " ") {
  if (part.empty()) return;
  if (!out.empty()) out += separator;
  out += part;
}

std::string Poststed(object address) {
  auto poststed = Child(address, "poststed");
  if (!poststed) return {};
  std::string out = Text(*poststed, "postnummer");
  Join(out, Text(*poststed, "poststedsnavn"));
  return out;
}

std::string Bostedsadresse(object row) {
  std::string out;
  if (auto veg = Child(row, "vegadresse")) {
    out = Text(*veg, "adressenavn");
    if (auto nummer = Child(*veg, "adressenummer")) {
      Join(out, Text(*nummer, "husnummer") + Text(*nummer, "husbokstav"));
    }
    Join(out, Poststed(*veg), ", ");
  } else if (auto matrikkel = Child(row, "matrikkeladresse")) {
    out = Text(*matrikkel, "adressetilleggsnavn");
    if (out.empty()) {
      if (auto nummer = Child(*matrikkel, "matrikkelnummer")) {
        const std::string gnr = Text(*nummer, "gaardsnummer");
        const std::string bnr = Text(*nummer, "bruksnummer");
        if (!gnr.empty()) out = "gnr. " + gnr;
        if (!bnr.empty()) Join(out, "bnr. " + bnr);
      }
    }
    Join(out, Poststed(*matrikkel), ", ");
  } else if (auto ukjent = Child(row, "ukjentBosted")) {
    out = "ukjent bosted";
    const std::string kommune = Text(*ukjent, "bostedskommune");
    if (!kommune.empty()) out += " (" + kommune + ")";
  }
  return out;
}

// Characters on screen: UTF-8 lead bytes (continuation bytes are not counted).
size_t Width(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// The value as printed: control characters (which could steer a terminal) become '?', an empty
// value "-".
std::string Cell(std::string_view value) {
  if (value.empty()) return "-";
  std::string out(value);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return out;
}

}  // namespace

std::string SoekQueryString(const SoekQuery& q) {
  std::string out;
  AddParam(out, "navn", q.navn);
  AddParam(out, "kjoenn", q.kjoenn);
  AddParam(out, "foedselsdato", q.foedselsdato);
  AddParam(out, "foedselsaarFraOgMed", q.foedselsaar_fra_og_med);
  AddParam(out, "foedselsaarTilOgMed", q.foedselsaar_til_og_med);
  AddParam(out, "adressenavn", q.adressenavn);
  AddParam(out, "husnummer", q.husnummer);
  AddParam(out, "postnummer", q.postnummer);
  AddParam(out, "kommunenummer", q.kommunenummer);
  AddParam(out, "fylkesnummer", q.fylkesnummer);
  AddParam(out, "inkluderOppholdsadresse", q.inkluder_oppholdsadresse);
  AddParam(out, "soekFonetisk", q.soek_fonetisk);
  AddParam(out, "inkluderDoede", q.inkluder_doede);
  AddParam(out, "opplysningsgrunnlag", q.opplysningsgrunnlag);
  AddParam(out, "maksTreff", q.maks_treff);
  return out;
}

Result<SoekAnswer> Soek(FregCaller& caller, const SoekQuery& query) {
  const std::string query_string = SoekQueryString(query);
  std::string path = "personer/soek";
  if (!query_string.empty()) path += "?" + query_string;
  auto response = caller.Call("GET", path);
  if (!response.ok()) return response.error();
  if (response->status != 200) return ErrorForAnswer("GET personer/soek", *response);

  SoekAnswer answer;
  answer.raw = std::move(response->body);
  const auto malformed = [] {
    return MakeError(ErrorCode::kInternal,
                     "GET personer/soek: the answer is not {\"foedselsEllerDNummer\":[…]}");
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(answer.raw.data(), answer.raw.size(), true).get(root)) return malformed();
  simdjson::dom::array numbers;
  if (root["foedselsEllerDNummer"].get_array().get(numbers)) return malformed();
  for (simdjson::dom::element element : numbers) {
    std::string_view number;
    if (element.get_string().get(number)) return malformed();
    answer.numbers.emplace_back(number);
  }
  return answer;
}

Result<SoekRow> SoekRowFromDocument(std::string_view number, std::string_view document) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  object person;
  if (parser.parse(document.data(), document.size(), true).get(root) ||
      root.get_object().get(person)) {
    return MakeError(ErrorCode::kInternal,
                     "the person document of " + std::string(number) + " is not a JSON object");
  }
  SoekRow row;
  row.number = std::string(number);
  if (auto navn = CurrentRow(person, "navn")) {
    Join(row.navn, Text(*navn, "fornavn"));
    Join(row.navn, Text(*navn, "mellomnavn"));
    Join(row.navn, Text(*navn, "etternavn"));
  }
  if (auto foedsel = CurrentRow(person, "foedsel")) {
    row.foedselsdato = Text(*foedsel, "foedselsdato");
    if (row.foedselsdato.empty()) row.foedselsdato = Text(*foedsel, "foedselsaar");
  }
  if (auto status = CurrentRow(person, "status")) row.status = Text(*status, "status");
  if (auto adresse = CurrentRow(person, "bostedsadresse")) {
    row.bostedsadresse = Bostedsadresse(*adresse);
  }
  return row;
}

Result<std::vector<SoekRow>> FetchSoekRows(FregCaller& caller,
                                           const std::vector<std::string>& numbers,
                                           size_t chunk_size) {
  chunk_size = std::clamp<size_t>(chunk_size, 1, kMaxChunk);
  std::vector<SoekRow> rows;
  rows.reserve(numbers.size());
  for (size_t begin = 0; begin < numbers.size(); begin += chunk_size) {
    const size_t end = std::min(numbers.size(), begin + chunk_size);
    auto body = IdListBody("foedselsEllerDNummer", numbers, begin, end);
    if (!body.ok()) return body.error();
    auto response = caller.Call("POST", kBulkPath, *body, {{"Content-Type", "application/json"}});
    if (!response.ok()) return response.error();
    if (response->status != 200) {
      return ErrorForAnswer("POST personer/bulkoppslag", *response);
    }
    auto persons = ParseBulkAnswer(response->body);
    if (!persons.ok()) return persons.error();
    std::unordered_map<std::string_view, std::string_view> documents;
    for (const BulkPerson& person : *persons) documents.emplace(person.key, person.document);
    for (size_t k = begin; k < end; ++k) {
      const auto found = documents.find(numbers[k]);
      if (found == documents.end()) {
        SoekRow missing;
        missing.number = numbers[k];
        missing.found = false;
        rows.push_back(std::move(missing));
        continue;
      }
      auto row = SoekRowFromDocument(numbers[k], found->second);
      if (!row.ok()) return row.error();
      rows.push_back(std::move(*row));
    }
  }
  return rows;
}

std::string FormatSoekTable(const std::vector<SoekRow>& rows) {
  constexpr size_t kColumns = 5;
  using Line = std::array<std::string, kColumns>;
  std::vector<Line> lines;
  lines.reserve(rows.size() + 1);
  lines.push_back({"Fødselsnummer", "Navn", "Fødselsdato", "Status", "Bostedsadresse"});
  for (const SoekRow& row : rows) {
    if (!row.found) {
      lines.push_back({Cell(row.number), "(ingen dokument)", "-", "-", "-"});
    } else {
      lines.push_back({Cell(row.number), Cell(row.navn), Cell(row.foedselsdato), Cell(row.status),
                       Cell(row.bostedsadresse)});
    }
  }
  std::array<size_t, kColumns> widths{};
  for (const Line& line : lines) {
    for (size_t c = 0; c < kColumns; ++c) widths[c] = std::max(widths[c], Width(line[c]));
  }
  std::string out;
  if (!rows.empty()) {
    for (const Line& line : lines) {
      for (size_t c = 0; c < kColumns; ++c) {
        out += line[c];
        if (c + 1 < kColumns) out.append(widths[c] - Width(line[c]) + 2, ' ');
      }
      out += '\n';
    }
  }
  out += std::to_string(rows.size()) + " treff\n";
  return out;
}

Result<std::string> SoekReport(FregCaller& caller, const SoekQuery& query, bool json) {
  auto answer = Soek(caller, query);
  if (!answer.ok()) return answer.error();
  if (json) {
    std::string out = std::move(answer->raw);
    if (!out.ends_with('\n')) out += '\n';
    return out;
  }
  auto rows = FetchSoekRows(caller, answer->numbers);
  if (!rows.ok()) return rows.error();
  return FormatSoekTable(*rows);
}

}  // namespace norreg::client
