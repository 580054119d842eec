// libFuzzer target for person search's outside input: the query parameters of personer/soek and
// personer/entydigsoek (service::ParseCriteria, both rule sets) and stored rows of any shape (the
// terms and the exact match read rows with freg::RowScanner). The input is cut at newlines into
// parameter values; the first value is also used as the JSON of a navn and an address row. A
// crash, a sanitizer report or a parameter error other than kInvalidInput is a failure.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "freg/person_search.hpp"
#include "freg/record_codec.hpp"
#include "service/person_search.hpp"

namespace {

using norreg::freg::Property;

norreg::freg::PersonRecord RecordWith(std::string_view row_json) {
  norreg::freg::PersonRecord r;
  r.fnr = "13108138812";
  for (Property p : {Property::kStatus, Property::kBostedsadresse, Property::kOppholdsadresse,
                     Property::kKjoenn, Property::kFoedsel, Property::kNavn,
                     Property::kLegitimasjonsdokument}) {
    norreg::freg::Row row;
    row.property = p;
    row.from_seq = 1;
    row.json = std::string(row_json);
    r.rows.push_back(std::move(row));
  }
  norreg::freg::SortRows(r.rows);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> values;
  size_t start = 0;
  while (start <= text.size() && values.size() < 19) {
    const size_t end = std::min(text.find('\n', start), text.size());
    values.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  values.resize(19);
  norreg::service::SearchParams p;
  std::optional<std::string>* fields[] = {
      &p.navn, &p.kjoenn, &p.foedselsdato, &p.foedselsaar_fra_og_med, &p.foedselsaar_til_og_med,
      &p.adressenavn, &p.husnummer, &p.postnummer, &p.kommunenummer, &p.fylkesnummer,
      &p.inkluder_oppholdsadresse, &p.soek_fonetisk, &p.inkluder_doede, &p.opplysningsgrunnlag,
      &p.maks_treff, &p.identifikasjonsnummer, &p.utenlandsk_personidentifikasjon,
      &p.legitimasjonsdokument, &p.utlendingsmyndighetenes_identifikasjonsnummer};
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].empty()) *fields[i] = values[i];
  }
  const norreg::freg::PersonRecord record = RecordWith(values[0]);
  std::string encoded;
  norreg::freg::EncodeRecord(record, encoded);
  norreg::freg::RecordView view;
  if (!view.Parse(encoded).ok()) std::abort();
  (void)norreg::freg::SearchTermsOf(view, 1);
  for (bool entydig : {false, true}) {
    auto criteria = norreg::service::ParseCriteria(p, entydig);
    if (!criteria.ok()) {
      if (criteria.error().code != norreg::ErrorCode::kInvalidInput) std::abort();
      continue;
    }
    (void)norreg::freg::Matches(view, 1, *criteria);
  }
  return 0;
}
