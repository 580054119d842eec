#pragma once
// Person search of Folkeregisteret (docs/search.md): `personer/soek` (a list of numbers) and
// `personer/entydigsoek` (exactly one person), over the store's search index.
//
// How a search runs: the query's parameters are validated into freg::SearchCriteria; the index
// terms every matching person has are listed most selective first (identifiers, birth date, name
// pairs, postnummer + street, kommune), each as a group of its scopes (freg::TermScope: the
// current or also the history rows, living or also dead persons), and the store reads the persons
// that have a term of every group (RegisterStore::FindRawBySearchTerms, in one snapshot); each
// is then tested exactly on its record (freg::Matches). A query no term can narrow (only kjoenn,
// years or fylke, say) reads every person once (SnapshotScan). Both stop as soon as there are
// more hits than the limit.
//
// Thread-safe: holds only a reference to the store.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "freg/person_search.hpp"
#include "freg/record_codec.hpp"
#include "store/register_store.hpp"

namespace norreg::service {

inline constexpr size_t kMaxSearchHits = 10'000;  // more hits: the search must be narrowed
inline constexpr size_t kMaxParamBytes = 200;     // any longer parameter value is refused

// The query parameters as given (nullopt: absent). Both searches take the same names; entydig
// søk ignores those it does not define (kjoenn, years, kommune, fylke, maksTreff, …) and soek the
// identifiers.
struct SearchParams {
  std::optional<std::string> navn, kjoenn, foedselsdato, foedselsaar_fra_og_med,
      foedselsaar_til_og_med, adressenavn, husnummer, postnummer, kommunenummer, fylkesnummer,
      inkluder_oppholdsadresse, soek_fonetisk, inkluder_doede, opplysningsgrunnlag, maks_treff;
  std::optional<std::string> identifikasjonsnummer, utenlandsk_personidentifikasjon,
      legitimasjonsdokument, utlendingsmyndighetenes_identifikasjonsnummer;
  // The caller's package has no confidential data (freg::Confidential::kNone): addresses of
  // fortrolig persons never match (those of strengtFortrolig persons never do).
  bool withhold_confidential = false;
};

// The person entydig søk found: its record is in the caller's buffer.
struct EntydigHit {
  store::RawPerson person;
};

class PersonSearch {
 public:
  // Searches that no index term narrows read every person; at most this many run at once (per
  // node), so that they cannot take every thread (docs/limits.md).
  static constexpr int kMaxScans = 2;

  explicit PersonSearch(store::RegisterStore& store, int max_scans = kMaxScans)
      : store_(store), max_scans_(max_scans) {}

  // personer/soek: the numbers (foedselsEllerDNummer) of every person matching, ascending, at
  // most maksTreff of them (default and maximum kMaxSearchHits). Errors: kInvalidInput for a bad
  // parameter (the message names it) and for a search matching more than kMaxSearchHits persons
  // (the message tells the consumer to narrow it); kRateLimited for a search that reads every
  // person while kMaxScans others do; kInternal from the store.
  Result<std::vector<std::string>> Soek(const SearchParams& params);
  // Whether Soek of `params` reads every person: no index term narrows its criteria (valid
  // ones; a SQLite register may still read every person when each term is very broad).
  static bool ReadsEveryPerson(const SearchParams& params);

  // personer/entydigsoek: the one person the criteria identify, its record decompressed into
  // `buffer`. Errors: kInvalidInput for a bad parameter or criteria short of every combination
  // that gives a right to a hit; kNotFound when no person or more than one matches.
  Result<EntydigHit> Entydig(const SearchParams& params, std::string& buffer);

 private:
  // The numbers of the persons matching `criteria` into `fnrs`, at most `limit` + 1 (so the
  // caller sees "more than limit"). With `first_record`, the first match's record and its
  // RawPerson are kept in `*first_record` and `*first`. `need_address_without_number` keeps only
  // persons matched by an address without a number (see Accepts).
  Status Find(const freg::SearchCriteria& criteria, size_t limit, bool need_address_without_number,
              std::vector<std::string>& fnrs, std::string* first_record = nullptr,
              store::RawPerson* first = nullptr);
  // The exact test of one record, with entydig søk's rule that navn + adressenavn alone
  // (`need_address_without_number`) identifies only through an address without a number.
  static bool Accepts(const freg::RecordView& record, uint64_t seq,
                      const freg::SearchCriteria& criteria, bool need_address_without_number);

  store::RegisterStore& store_;
  const int max_scans_;
  std::atomic<int> scans_{0};  // whole-register reads running
};

// Validates `params` into criteria (exposed for tests). `entydig` selects entydig søk's rules
// (navn in order: first word in fornavn, last in etternavn; exact house letter).
Result<freg::SearchCriteria> ParseCriteria(const SearchParams& params, bool entydig);

}  // namespace norreg::service
