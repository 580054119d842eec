#include "service/person_search.hpp"

#include <algorithm>
#include <charconv>

#include "common/ids.hpp"
#include "common/time.hpp"
#include "freg/record_codec.hpp"
#include "freg/search_text.hpp"

namespace norreg::service {
namespace {

using freg::SearchTerm;
using freg::SearchTermKind;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<bool> ParseBool(const std::optional<std::string>& value, std::string_view name) {
  if (!value || value->empty()) return false;
  if (*value == "true") return true;
  if (*value == "false") return false;
  return Invalid(std::string(name) + " må være true eller false");
}

Result<std::optional<int>> ParseYear(const std::optional<std::string>& value,
                                     std::string_view name) {
  if (!value || value->empty()) return std::optional<int>();
  if (value->size() != 4 || !AllDigits(*value)) {
    return Invalid(std::string(name) + " må være et årstall med 4 siffer");
  }
  return std::optional<int>(std::stoi(*value));
}

// "YYYYMMDD" (the API's form) or "YYYY-MM-DD" -> "YYYY-MM-DD".
Result<std::string> ParseDate(const std::string& value) {
  std::string date = value;
  if (value.size() == 8 && AllDigits(value)) {
    date = value.substr(0, 4) + "-" + value.substr(4, 2) + "-" + value.substr(6, 2);
  }
  if (!timefmt::IsValidDate(date)) {
    return Invalid("foedselsdato må være en gyldig dato på formen ÅÅÅÅMMDD");
  }
  return date;
}

Status CheckDigits(const std::optional<std::string>& value, size_t n, std::string_view name) {
  if (!value || value->empty()) return Status::Ok();
  if (value->size() != n || !AllDigits(*value)) {
    return Invalid(std::string(name) + " må være " + std::to_string(n) + " siffer");
  }
  return Status::Ok();
}

const std::string& Or(const std::optional<std::string>& value) {
  static const std::string kEmpty;
  return value ? *value : kEmpty;
}

bool Given(const std::optional<std::string>& value) { return value && !value->empty(); }

// The term groups of a query: for each criterion the index can narrow by, its term in every
// scope the criterion may match in (freg::TermScope): current rows, and history too where
// opplysningsgrunnlag=historisk lets earlier names and addresses match (Matches reads the other
// facts on current rows only); living persons, and dead ones with inkluderDoede. Most selective
// first; a term another implies is left out: the name pairs imply their words, postnummer +
// street implies both.
std::vector<std::vector<uint32_t>> PlanTerms(const freg::SearchCriteria& c) {
  std::vector<std::vector<uint32_t>> groups;
  auto add = [&](uint32_t term, bool history_matches) {
    using freg::ScopedTerm;
    using freg::TermScope;
    std::vector<uint32_t>& group = groups.emplace_back(1, term);  // TermScope::kCurrent
    if (c.inkluder_doede) group.push_back(ScopedTerm(term, TermScope::kCurrentDead));
    if (history_matches && c.historisk) {
      group.push_back(ScopedTerm(term, TermScope::kHistory));
      if (c.inkluder_doede) group.push_back(ScopedTerm(term, TermScope::kHistoryDead));
    }
  };
  if (!c.duf.empty()) add(SearchTerm(SearchTermKind::kDuf, c.duf), false);
  if (!c.utenlandsk_id.empty()) {
    add(SearchTerm(SearchTermKind::kUtenlandskId, c.utenlandsk_id), false);
  }
  if (!c.legitimasjonsdokument.empty()) {
    add(SearchTerm(SearchTermKind::kLegitimasjon, c.legitimasjonsdokument), false);
  }
  if (!c.foedselsdato.empty()) add(SearchTerm(SearchTermKind::kBirthDate, c.foedselsdato), false);
  // The words' keys as given, each once: a pair is indexed for two different words of one name,
  // so every two keys of the query make a pair term (first and last first: names' two ends are
  // the rarest pair), and only a query of one key needs a word term.
  std::vector<std::string> keys;
  for (const std::string& w : c.navn) {
    std::string key = freg::PhoneticKey(w);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  if (keys.size() == 1) add(SearchTerm(SearchTermKind::kNameWord, keys.front()), true);
  if (keys.size() >= 2) add(freg::NamePairTerm(keys.front(), keys.back()), true);
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = i + 1; j < keys.size(); ++j) {
      if (i != 0 || j != keys.size() - 1) add(freg::NamePairTerm(keys[i], keys[j]), true);
    }
  }
  const std::string street = freg::StreetPrefix(c.adressenavn);
  if (!street.empty() && !c.postnummer.empty()) {
    add(freg::PostStreetTerm(c.postnummer, street), true);
  } else if (!street.empty()) {
    add(SearchTerm(SearchTermKind::kStreet, street), true);
  } else if (!c.postnummer.empty()) {
    add(SearchTerm(SearchTermKind::kPostnummer, c.postnummer), true);
  }
  if (!c.kommunenummer.empty()) add(SearchTerm(SearchTermKind::kKommune, c.kommunenummer), true);
  return groups;
}

}  // namespace

Result<freg::SearchCriteria> ParseCriteria(const SearchParams& p, bool entydig) {
  for (const auto* v :
       {&p.navn, &p.kjoenn, &p.foedselsdato, &p.foedselsaar_fra_og_med, &p.foedselsaar_til_og_med,
        &p.adressenavn, &p.husnummer, &p.postnummer, &p.kommunenummer, &p.fylkesnummer,
        &p.inkluder_oppholdsadresse, &p.soek_fonetisk, &p.inkluder_doede, &p.opplysningsgrunnlag,
        &p.maks_treff, &p.identifikasjonsnummer, &p.utenlandsk_personidentifikasjon,
        &p.legitimasjonsdokument, &p.utlendingsmyndighetenes_identifikasjonsnummer}) {
    if (v->has_value() && (*v)->size() > kMaxParamBytes) {
      return Invalid("en parameter er lengre enn " + std::to_string(kMaxParamBytes) + " tegn");
    }
  }
  freg::SearchCriteria c;
  c.withhold_confidential = p.withhold_confidential;
  c.navn_ordered = entydig;
  c.husbokstav_exact = entydig;
  if (Given(p.navn)) {
    c.navn = freg::SearchWords(*p.navn);
    if (c.navn.empty()) return Invalid("navn må inneholde minst ett ord");
  }
  auto fonetisk = ParseBool(p.soek_fonetisk, "soekFonetisk");
  if (!fonetisk.ok()) return fonetisk.error();
  c.fonetisk = *fonetisk;
  const std::string& grunnlag = Or(p.opplysningsgrunnlag);
  if (grunnlag == "historisk") {
    c.historisk = true;
  } else if (!grunnlag.empty() && grunnlag != "gjeldende") {
    return Invalid("opplysningsgrunnlag må være gjeldende eller historisk");
  }
  if (Given(p.foedselsdato)) {
    auto date = ParseDate(*p.foedselsdato);
    if (!date.ok()) return date.error();
    c.foedselsdato = *date;
  }
  if (Given(p.adressenavn)) {
    c.adressenavn = freg::NormalizeStreet(*p.adressenavn);
    if (freg::StreetPrefix(c.adressenavn).empty()) {
      return Invalid("adressenavn må ha minst 3 tegn fra begynnelsen av gatenavnet");
    }
  }
  if (Given(p.husnummer)) {
    std::string_view h = *p.husnummer;
    size_t digits = 0;
    while (digits < h.size() && h[digits] >= '0' && h[digits] <= '9') ++digits;
    uint32_t number = 0;
    if (digits == 0 || digits > 5 ||
        std::from_chars(h.data(), h.data() + digits, number).ec != std::errc()) {
      return Invalid("husnummer må være et tall, eventuelt med bokstav (f.eks. 10B)");
    }
    c.husnummer = number;
    c.husbokstav = freg::NormalizeSearchWord(h.substr(digits));
    if (c.husbokstav.size() > 4 || c.husbokstav.size() != h.size() - digits) {
      return Invalid("husnummer må være et tall, eventuelt med bokstav (f.eks. 10B)");
    }
  }
  if (Status s = CheckDigits(p.postnummer, 4, "postnummer"); !s.ok()) return s.error();
  c.postnummer = Or(p.postnummer);
  if (entydig) {
    if (Given(p.identifikasjonsnummer)) {
      if (std::string problem = ids::FnrProblem(*p.identifikasjonsnummer); !problem.empty()) {
        return Invalid("identifikasjonsnummer: " + problem);
      }
    }
    c.utenlandsk_id = freg::NormalizeForeignId(Or(p.utenlandsk_personidentifikasjon));
    c.legitimasjonsdokument = freg::NormalizeForeignId(Or(p.legitimasjonsdokument));
    c.duf = freg::NormalizeForeignId(Or(p.utlendingsmyndighetenes_identifikasjonsnummer));
    c.inkluder_doede = true;  // an identified person is found dead or alive
    return c;
  }
  const std::string& kjoenn = Or(p.kjoenn);
  if (!kjoenn.empty() && kjoenn != "mann" && kjoenn != "kvinne") {
    return Invalid("kjoenn må være mann eller kvinne");
  }
  c.kjoenn = kjoenn;
  auto fra = ParseYear(p.foedselsaar_fra_og_med, "foedselsaarFraOgMed");
  if (!fra.ok()) return fra.error();
  auto til = ParseYear(p.foedselsaar_til_og_med, "foedselsaarTilOgMed");
  if (!til.ok()) return til.error();
  c.foedselsaar_fra = *fra;
  c.foedselsaar_til = *til;
  if (Status s = CheckDigits(p.kommunenummer, 4, "kommunenummer"); !s.ok()) return s.error();
  if (Status s = CheckDigits(p.fylkesnummer, 2, "fylkesnummer"); !s.ok()) return s.error();
  c.kommunenummer = Or(p.kommunenummer);
  c.fylkesnummer = Or(p.fylkesnummer);
  auto opphold = ParseBool(p.inkluder_oppholdsadresse, "inkluderOppholdsadresse");
  if (!opphold.ok()) return opphold.error();
  c.inkluder_oppholdsadresse = *opphold;
  auto doede = ParseBool(p.inkluder_doede, "inkluderDoede");
  if (!doede.ok()) return doede.error();
  c.inkluder_doede = *doede;
  return c;
}

Status PersonSearch::Find(const freg::SearchCriteria& criteria, size_t limit,
                          bool need_address_without_number, std::vector<std::string>& fnrs,
                          std::string* first_record, store::RawPerson* first) {
  fnrs.clear();
  thread_local std::string raw;
  thread_local freg::RecordView view;
  bool stopped = false;  // more than `limit` found: the search stops (not an error)
  auto test = [&](int64_t person_id, uint64_t seq) -> Status {
    if (Status s = view.Parse(raw); !s.ok()) return s;
    if (!Accepts(view, seq, criteria, need_address_without_number)) return Status::Ok();
    fnrs.emplace_back(view.fnr());
    if (fnrs.size() == 1 && first_record != nullptr) {
      *first_record = raw;
      *first = store::RawPerson{person_id, seq};
    }
    if (fnrs.size() <= limit) return Status::Ok();
    stopped = true;
    return MakeError(ErrorCode::kConflict, "enough hits");
  };

  // The index narrows to candidates, read in one snapshot; with no term that narrows, every
  // person is read once, in one snapshot.
  const std::vector<std::vector<uint32_t>> terms = PlanTerms(criteria);
  Result<bool> narrowed = false;
  if (!terms.empty()) {
    narrowed = store_.FindRawBySearchTerms(terms, raw, [&](const store::RawPerson& person) {
      return test(person.person_id, person.latest_seq);
    });
  }
  Status searched;
  if (!narrowed.ok()) {
    searched = narrowed.error();
  } else if (!*narrowed) {
    if (scans_.fetch_add(1) >= max_scans_) {
      --scans_;
      return MakeError(ErrorCode::kRateLimited,
                       "For mange søk uten avgrensende kriterier pågår nå. Avgrens søket med "
                       "navn, fødselsdato, adresse, postnummer eller kommunenummer, eller prøv "
                       "igjen senere.",
                       "every search scan slot is taken");
    }
    struct Slot {
      std::atomic<int>& scans;
      ~Slot() { --scans; }
    } slot{scans_};
    searched = store_.SnapshotScan(store_.LatestSeq(), store::SnapshotRecords::kInclude,
                                   [&](const store::SnapshotEntry& entry) -> Status {
                                     raw.assign(entry.record);
                                     return test(entry.person_id, entry.version_seq);
                                   });
  }
  return stopped ? Status::Ok() : searched;
}

bool PersonSearch::Accepts(const freg::RecordView& record, uint64_t seq,
                           const freg::SearchCriteria& criteria, bool need_address_without_number) {
  const freg::SearchMatch m = freg::Matches(record, seq, criteria);
  return m.matched && (!need_address_without_number || m.address_without_husnummer);
}

bool PersonSearch::ReadsEveryPerson(const SearchParams& params) {
  auto criteria = ParseCriteria(params, false);
  return criteria.ok() && PlanTerms(*criteria).empty();
}

Result<std::vector<std::string>> PersonSearch::Soek(const SearchParams& params) {
  auto criteria = ParseCriteria(params, false);
  if (!criteria.ok()) return criteria.error();
  size_t maks = kMaxSearchHits;
  if (Given(params.maks_treff)) {
    const std::string& v = *params.maks_treff;
    size_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > kMaxSearchHits) {
      return Invalid("maksTreff må være et heltall fra 1 til " + std::to_string(kMaxSearchHits));
    }
    maks = n;
  }
  std::vector<std::string> fnrs;
  if (Status s = Find(*criteria, kMaxSearchHits, false, fnrs); !s.ok()) return s.error();
  if (fnrs.size() > kMaxSearchHits) {
    return Invalid("Søket gir flere enn " + std::to_string(kMaxSearchHits) +
                   " treff og må konkretiseres med flere kriterier (eller bruk uttrekk/tilpasset)");
  }
  std::sort(fnrs.begin(), fnrs.end());
  if (fnrs.size() > maks) fnrs.resize(maks);
  return fnrs;
}

Result<EntydigHit> PersonSearch::Entydig(const SearchParams& params, std::string& buffer) {
  auto criteria = ParseCriteria(params, true);
  if (!criteria.ok()) return criteria.error();
  const freg::SearchCriteria& c = *criteria;
  const bool full_name = c.navn.size() >= 2;
  const bool id = Given(params.identifikasjonsnummer);
  const bool foreign = !c.utenlandsk_id.empty() || !c.legitimasjonsdokument.empty();
  const bool by_name = full_name && (id || !c.foedselsdato.empty() || !c.postnummer.empty() ||
                                     !c.adressenavn.empty() || foreign || !c.duf.empty());
  const bool by_birth = !c.foedselsdato.empty() && foreign;
  if (!by_name && !by_birth) {
    return Invalid(
        "Kriteriene gir ikke rett til treff: oppgi navn (minst fornavn og etternavn) sammen med "
        "identifikasjonsnummer, foedselsdato, adressenavn eller postnummer (eller fødselsdato "
        "sammen med utenlandsk personidentifikasjon eller legitimasjonsdokument)");
  }
  // navn + adressenavn alone: without a house number only an address without one identifies.
  const bool address_only = by_name && !by_birth && !id && c.foedselsdato.empty() &&
                            c.postnummer.empty() && !foreign && c.duf.empty();
  const bool need_no_number = address_only && !c.husnummer;

  const Error none = MakeError(ErrorCode::kNotFound, "Fant ingen entydig treff på søkekriteriene");
  if (id) {
    // The number (current or earlier) names the one candidate: test it, no index needed.
    auto person = store_.FindRawByFnr(*params.identifikasjonsnummer, buffer);
    if (!person.ok()) return person.error().code == ErrorCode::kNotFound ? none : person.error();
    thread_local freg::RecordView view;
    if (Status s = view.Parse(buffer); !s.ok()) return s.error();
    if (!Accepts(view, person->latest_seq, c, need_no_number)) return none;
    return EntydigHit{*person};
  }
  std::vector<std::string> fnrs;
  EntydigHit hit;
  if (Status s = Find(c, 1, need_no_number, fnrs, &buffer, &hit.person); !s.ok()) {
    return s.error();
  }
  if (fnrs.size() != 1) return none;
  return hit;
}

}  // namespace norreg::service
