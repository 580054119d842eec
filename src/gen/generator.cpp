#include "gen/generator.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "common/ids.hpp"
#include "gen/geo.hpp"
#include "gen/names.hpp"
#include "gen/rng.hpp"

namespace norreg::gen {
namespace {

using freg::Hendelsetype;
using freg::Property;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kLoadWindowMs = 30 * kDayMs;
// Birth days (since 1970-01-01) the number allocator covers: 1855-01-04 up to 2040-02-03,
// inside the classic century table (1854-2039).
constexpr int kDayTableStart = -42'000;
constexpr int kDayTableEnd = 25'600;

enum class Sex : uint8_t { kKvinne, kMann };
enum class Life : uint8_t { kBosatt, kDoed, kUtflyttet, kIkkeBosatt, kMidlertidig, kInaktiv };
enum class Sivil : uint8_t { kUoppgitt, kUgift, kGift, kSkilt, kEnke };

std::string_view LifeName(Life l) {
  switch (l) {
    case Life::kBosatt:
      return "bosatt";
    case Life::kDoed:
      return "doed";
    case Life::kUtflyttet:
      return "utflyttet";
    case Life::kIkkeBosatt:
      return "ikkeBosatt";
    case Life::kMidlertidig:
      return "midlertidig";
    case Life::kInaktiv:
      return "inaktiv";
  }
  return "bosatt";
}

std::string_view SivilName(Sivil s) {
  switch (s) {
    case Sivil::kUoppgitt:
      return "uoppgitt";
    case Sivil::kUgift:
      return "ugift";
    case Sivil::kGift:
      return "gift";
    case Sivil::kSkilt:
      return "skilt";
    case Sivil::kEnke:
      return "enkeEllerEnkemann";
  }
  return "uoppgitt";
}

constexpr std::string_view kGradering[] = {"ugradert", "fortrolig", "strengtFortrolig"};

// The (vergeTjenestevirksomhet, vergeTjenesteoppgave) pairs the real register uses for the
// services a guardian may act in (docs/design.md, "Generated guardianships").
struct Tjeneste {
  std::string_view virksomhet, oppgave;
};
constexpr Tjeneste kTjenester[] = {
    {"bank", "representasjonDagligbank"},
    {"bank", "selgeAksjerOgVerdipapirer"},
    {"bank", "taOppLaanKreditter"},
    {"forsikringsselskap", "forvalteForsikringsavtaler"},
    {"helfo", "fastlege"},
    {"helfo", "refusjonForPrivatpersoner"},
    {"husbanken", "bostoette"},
    {"inkassoselskap", "forhandleOgInngaaInkassoavtaler"},
    {"kartverket", "arvPrivatSkifteOgUskifte"},
    {"kartverket", "avtalerOgRettigheter"},
    {"kartverket", "endringAvEiendom"},
    {"kartverket", "kjoepAvEiendom"},
    {"kartverket", "laaneopptak"},
    {"kartverket", "salgAvFastEiendomBorettslagsandel"},
    {"kommune", "byggOgEiendom"},
    {"kommune", "helseOgOmsorg"},
    {"kommune", "skattOgAvgift"},
    {"kredittvurderingsselskap", "kredittsperre"},
    {"namsmannen", "gjeldsordning"},
    {"nav", "arbeid"},
    {"nav", "familie"},
    {"nav", "hjelpemidler"},
    {"nav", "pensjon"},
    {"oevrige", "avslutningAvHusleiekontrakter"},
    {"oevrige", "disponereInntekterTilAaDekkeUtgifter"},
    {"oevrige", "inngaaelseAvHusleiekontrakter"},
    {"oevrige", "kjoepLeieAvVarerOgTjenester"},
    {"oevrige", "salgAvLoesoereAvStoerreVerdi"},
    {"pasientreiser", "refusjonAvPasientreiser"},
    {"skatteetaten", "endrePostadresse"},
    {"skatteetaten", "innkreving"},
    {"skatteetaten", "innkrevingOgTvangsfullbyrdelse"},
    {"skatteetaten", "meldeFlytting"},
    {"skatteetaten", "skatt"},
    {"statensInnkrevingssentral", "gjeldsordningOgBetalingsavtaler"},
    {"tingretten", "begjaereSkifteAvUskiftebo"},
    {"tingretten", "begjaereUskifte"},
    {"tingretten", "privatSkifteAvDoedsbo"},
};
constexpr uint32_t kTjenesteCount = sizeof kTjenester / sizeof kTjenester[0];

// Shares of the load population (bosatt, fødselsnummer) with a guardianship or future power of
// attorney, and among adult guardianships (vergemaaltype voksen) those whose legal capacity is
// restricted or removed.
constexpr double kAdultGuardianship = 0.015;
constexpr double kMinorGuardianship = 0.004;
constexpr double kLegalCapacityOfVoksen = 0.15;
constexpr double kForeignGuardian = 0.08;

// The statsforvalter (embete) of a kommune, by the county part of its number.
std::string_view EmbeteOf(std::string_view kommunenummer) {
  const std::string_view fylke = kommunenummer.substr(0, 2);
  if (fylke == "11") return "Statsforvalteren i Rogaland";
  if (fylke == "15") return "Statsforvalteren i Møre og Romsdal";
  if (fylke == "18") return "Statsforvalteren i Nordland";
  if (fylke == "34") return "Statsforvalteren i Innlandet";
  if (fylke == "39" || fylke == "40") return "Statsforvalteren i Vestfold og Telemark";
  if (fylke == "42") return "Statsforvalteren i Agder";
  if (fylke == "46") return "Statsforvalteren i Vestland";
  if (fylke == "50") return "Statsforvalteren i Trøndelag";
  if (fylke == "55" || fylke == "56") return "Statsforvalteren i Troms og Finnmark";
  return "Statsforvalteren i Østfold, Buskerud, Oslo og Akershus";
}

struct Addr {
  uint16_t kommune = 0;
  uint16_t post = 0;
  uint16_t street = 0;
  uint16_t husnummer = 1;
  char husbokstav = 0;
  uint8_t floor = 1;
  uint8_t unit = 1;
  bool matrikkel = false;
  uint16_t gnr = 0;
  uint16_t bnr = 0;
  int32_t flyttedato = 0;
};

constexpr uint16_t kNorway = 0xffff;

struct Person {
  int32_t birth = 0;  // planned birth day (days since 1970-01-01); drives the simulation
  Sex sex = Sex::kKvinne;
  bool dnr = false;
  Life life = Life::kBosatt;
  Sivil sivil = Sivil::kUgift;
  int32_t household = -1;
  int32_t partner = -1;    // partner living in the same household (married or cohabiting)
  int32_t sivil_ref = -1;  // relatertVedSivilstand
  int32_t sivil_date = 0;
  int32_t mother = -1;
  int32_t father = -1;
  uint16_t born_in = kNorway;     // foreign birth country (index into ForeignCountries)
  uint16_t citizen_of = kNorway;  // foreign citizenship
  uint16_t foedekommune = 0;
  int32_t innflyttet = 0;  // immigration day (foreign-born) or emigration day (utflyttet)
  int32_t died = 0;        // death day of those dead before the load
  std::string_view fornavn, mellomnavn, etternavn;
};

struct Household {
  std::vector<int32_t> members;
  Addr addr;
  uint8_t gradering = 0;
  bool active = true;
  int32_t split_pending = -1;
  std::array<int16_t, 2> birth_rounds{};  // planned future births (rounds), ascending
  uint8_t births_planned = 0;
  uint8_t births_done = 0;
  int32_t mother = -1;
  int32_t father = -1;
  std::string_view etternavn;

  bool PendingBirths() const { return births_done < births_planned; }
};

// Birth-date key of a person for the number allocation.
struct BirthKey {
  int32_t day = 0;
  bool dnr = false;
  bool male = false;  // individnummer parity: odd for men
};

// A person's allocated number: the birth day it encodes and the individnummer.
struct Assigned {
  int32_t day = 0;
  uint16_t iii = 0;
  bool dnr = false;
};

struct ChunkSummary {
  std::vector<uint64_t> round_counts;
  std::vector<BirthKey> births;
};

// Everything the chunks share; immutable while the chunks run.
struct Context {
  const Geography* geo = nullptr;
  GenerateOptions options;
  int rounds = 0;  // event rounds (1..rounds); round 0 is the load
  int32_t load_day = 0;
  std::vector<int32_t> quarter_day;   // [r] first day of round r's quarter (r >= 1)
  std::vector<int64_t> window_start;  // [r] ajourholdstidspunkt window of round r
  std::vector<int64_t> window_len;
  std::vector<uint64_t> round_first;              // [r] first seq of round r (after pass 1)
  std::vector<uint64_t> round_total;              // [r] versions in round r
  std::vector<std::vector<uint64_t>> chunk_base;  // [chunk][r] first seq of the chunk in round r
  std::vector<uint32_t> country_cumulative;
  std::array<double, 131> death_per_quarter{};

  uint32_t ChunkPersons(uint64_t chunk) const {
    const uint64_t begin = chunk * kChunkPersons;
    return static_cast<uint32_t>(std::min<uint64_t>(kChunkPersons, options.persons - begin));
  }
};

int32_t DaysOf(int year, int month, int day) {
  return static_cast<int32_t>(timefmt::DaysFromCivil(year, month, day));
}

void AppendDigits(std::string& out, int value, int width) {
  char buf[12];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

void AppendDate(std::string& out, int32_t days) {
  int y = 0, m = 0, d = 0;
  timefmt::CivilFromDays(days, y, m, d);
  AppendDigits(out, y, 4);
  out.push_back('-');
  AppendDigits(out, m, 2);
  out.push_back('-');
  AppendDigits(out, d, 2);
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

// Canonical row JSON, keys appended in XSD order by the caller; values come from our own
// tables and numbers, which need no escaping.
class RowWriter {
 public:
  struct Meta {
    std::string_view ajour, kilde, aarsak, gyldig;
  };

  void Begin(const Meta& m) {
    buf_.assign("{\"ajourholdstidspunkt\":\"");
    buf_.append(m.ajour);
    buf_.append("\",\"kilde\":\"");
    buf_.append(m.kilde);
    buf_.append("\",\"aarsak\":\"");
    buf_.append(m.aarsak);
    buf_.append("\",\"gyldighetstidspunkt\":\"");
    buf_.append(m.gyldig);
    buf_.push_back('"');
    comma_ = true;
  }
  void Key(std::string_view key) {
    if (comma_) buf_.push_back(',');
    buf_.push_back('"');
    buf_.append(key);
    buf_.append("\":");
    comma_ = true;
  }
  void Str(std::string_view key, std::string_view value) {
    Key(key);
    buf_.push_back('"');
    buf_.append(value);
    buf_.push_back('"');
  }
  void Date(std::string_view key, int32_t days) {
    Key(key);
    buf_.push_back('"');
    AppendDate(buf_, days);
    buf_.push_back('"');
  }
  void Int(std::string_view key, uint64_t v) {
    Key(key);
    AppendUint(buf_, v);
  }
  void Open(std::string_view key) {
    Key(key);
    buf_.push_back('{');
    comma_ = false;
  }
  void Close() {
    buf_.push_back('}');
    comma_ = true;
  }
  std::string Finish() {
    buf_.push_back('}');
    return buf_;
  }
  std::string& raw() { return buf_; }

 private:
  std::string buf_;
  bool comma_ = false;
};

// The order of freg::SortRows (property, then newest first; stable), without the temporary
// buffer std::stable_sort allocates: a person has a dozen rows, insertion sort is ideal.
void SortRowsSmall(std::vector<freg::Row>& rows) {
  auto less = [](const freg::Row& a, const freg::Row& b) {
    return a.property < b.property || (a.property == b.property && a.from_seq > b.from_seq);
  };
  for (size_t i = 1; i < rows.size(); ++i) {
    if (!less(rows[i], rows[i - 1])) continue;
    freg::Row moving = std::move(rows[i]);
    size_t j = i;
    while (j > 0 && less(moving, rows[j - 1])) {
      rows[j] = std::move(rows[j - 1]);
      --j;
    }
    rows[j] = std::move(moving);
  }
}

// One chunk: plans households and simulates the rounds. Pass 1 (render=false) only counts the
// versions per round and records birth dates; pass 2 (render=true) replays the identical
// simulation (same random stream) and writes the rows with the sekvensnummer found in pass 1.
class ChunkSim {
 public:
  ChunkSim(const Context& ctx, uint64_t chunk, const std::vector<Assigned>* numbers)
      : ctx_(ctx),
        geo_(*ctx.geo),
        chunk_(chunk),
        quota_(ctx.ChunkPersons(chunk)),
        rng_(ctx.options.seed, chunk),
        render_(numbers != nullptr),
        counts_(static_cast<size_t>(ctx.rounds) + 1, 0) {
    persons_.reserve(quota_);
    if (render_) {
      next_seq_ = ctx.chunk_base[chunk];
      out_.resize(quota_);
      fnr_.reserve(quota_);
      for (const Assigned& a : *numbers) {
        int y = 0, m = 0, d = 0;
        timefmt::CivilFromDays(a.day, y, m, d);
        auto fnr = ids::MakeSyntheticFnr(
            y, m, d, a.iii, a.dnr ? ids::FnrKind::kDNummer : ids::FnrKind::kFoedselsnummer);
        fnr_.push_back(fnr ? std::move(*fnr) : std::string(11, '0'));
      }
      numbers_ = numbers;
    }
  }

  Status Run() {
    CreatePopulation();
    for (int r = 1; r <= ctx_.rounds; ++r) SimulateRound(r);
    if (persons_.size() != quota_) {
      return MakeError(ErrorCode::kInternal, "generator: feil antall personer i blokk",
                       "chunk " + std::to_string(chunk_) + ": " + std::to_string(persons_.size()) +
                           " of " + std::to_string(quota_));
    }
    if (render_) {
      for (size_t i = 0; i < out_.size(); ++i) {
        out_[i].record.fnr = fnr_[i];
        SortRowsSmall(out_[i].record.rows);
      }
    }
    return Status::Ok();
  }

  ChunkSummary TakeSummary() {
    ChunkSummary s;
    s.round_counts = std::move(counts_);
    s.births.reserve(persons_.size());
    for (const Person& p : persons_) s.births.push_back({p.birth, p.dnr, p.sex == Sex::kMann});
    return s;
  }

  std::vector<store::PersonWrite> TakeOutput() { return std::move(out_); }

 private:
  // ---------------------------------------------------------------- planning helpers

  int AgeYears(const Person& p, int32_t day) const { return (day - p.birth) * 4 / 1461; }

  std::string_view Pick(std::span<const std::string_view> list) {
    return list[rng_.Below(static_cast<uint32_t>(list.size()))];
  }

  std::string_view GivenName(Sex sex) {
    if (rng_.Chance(0.85)) return Pick(AdjectiveNames());
    return Pick(sex == Sex::kMann ? MaleGivenNames() : FemaleGivenNames());
  }
  std::string_view Surname() {
    return rng_.Chance(0.85) ? Pick(NounNames()) : Pick(OrdinarySurnames());
  }
  std::string_view MiddleName() {
    return rng_.Chance(0.15) ? Pick(AdjectiveNames()) : std::string_view{};
  }

  uint16_t PickCountry() {
    const auto& cum = ctx_.country_cumulative;
    const uint32_t u = rng_.Below(cum.back());
    return static_cast<uint16_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
  }

  Addr NewAddress(int kommune, int32_t flyttedato) {
    Addr a;
    const size_t k = kommune >= 0 ? static_cast<size_t>(kommune)
                                  : geo_.PickKommune(rng_.Next() % geo_.total_weight());
    const Kommune& kom = geo_.kommuner()[k];
    a.kommune = static_cast<uint16_t>(k);
    a.post = static_cast<uint16_t>(rng_.Below(static_cast<uint32_t>(kom.poststeder.size())));
    a.street = static_cast<uint16_t>(rng_.Below(kom.streets));
    a.husnummer = static_cast<uint16_t>(1 + std::min(rng_.Below(120), rng_.Below(120)));
    if (rng_.Chance(0.1)) a.husbokstav = static_cast<char>('A' + rng_.Below(4));
    const bool city = kom.innbyggere > 50'000;
    if (rng_.Chance(city ? 0.6 : 0.2)) {
      a.floor = static_cast<uint8_t>(1 + rng_.Below(7));
      a.unit = static_cast<uint8_t>(1 + rng_.Below(4));
    }
    if (rng_.Chance(kom.innbyggere < 20'000 ? 0.12 : 0.02)) {
      a.matrikkel = true;
      a.gnr = static_cast<uint16_t>(1 + rng_.Below(200));
      a.bnr = static_cast<uint16_t>(1 + rng_.Below(60));
    }
    a.flyttedato = flyttedato;
    return a;
  }

  int32_t NewPerson(int32_t birth, Sex sex, int32_t household) {
    Person p;
    p.birth = birth;
    p.sex = sex;
    p.household = household;
    persons_.push_back(p);
    const size_t index = persons_.size() - 1;
    if (render_ && index < out_.size()) {
      out_[index].record.rows.reserve(16);
      out_[index].versions.reserve(4);
    }
    return static_cast<int32_t>(index);
  }

  Sex RandomSex() { return rng_.Chance(0.5) ? Sex::kMann : Sex::kKvinne; }

  int32_t BirthForAge(int age) {
    return ctx_.load_day - age * 365 - 1 - static_cast<int32_t>(rng_.Below(365));
  }

  // ---------------------------------------------------------------- the initial population

  void CreatePopulation() {
    uint32_t planned = 0;
    while (planned < quota_) planned += CreateHousehold(quota_ - planned);
  }

  // Creates one household using at most `budget` persons (including planned births); returns
  // the number used.
  uint32_t CreateHousehold(uint32_t budget) {
    const double u = rng_.Unit();
    if (u < 0.085) return CreateDnr();
    if (u < 0.115) return CreateDeadBeforeLoad();
    if (u < 0.14) return CreateEmigratedBeforeLoad();
    const double v = rng_.Unit();
    if (budget == 1 || v < 0.42) return CreateSingle();
    if (v < 0.49) return CreateFamily(budget, /*couple=*/false, /*kids=*/true);
    if (v < 0.72) return CreateFamily(budget, /*couple=*/true, /*kids=*/false);
    return CreateFamily(budget, /*couple=*/true, /*kids=*/true);
  }

  int32_t NewHousehold() {
    households_.emplace_back();
    return static_cast<int32_t>(households_.size() - 1);
  }

  void SetImmigrant(Person& p, int32_t earliest) {
    p.born_in = PickCountry();
    p.citizen_of = rng_.Chance(0.4) ? kNorway : p.born_in;
    const int32_t lo = std::max(earliest, ctx_.load_day - 30 * 365);
    p.innflyttet = lo + static_cast<int32_t>(rng_.Below(
                            static_cast<uint32_t>(std::max(1, ctx_.load_day - 30 - lo))));
  }

  uint32_t CreateDnr() {
    const int32_t h = NewHousehold();
    Household& hh = households_[h];
    hh.active = false;  // d-nummer holders have no later events here
    const Sex sex = rng_.Chance(0.6) ? Sex::kMann : Sex::kKvinne;
    const int32_t p = NewPerson(BirthForAge(rng_.Between(19, 64)), sex, h);
    Person& pp = persons_[p];
    pp.dnr = true;
    const double s = rng_.Unit();
    pp.life = s < 0.55 ? Life::kIkkeBosatt : s < 0.8 ? Life::kMidlertidig : Life::kInaktiv;
    pp.sivil = Sivil::kUoppgitt;
    pp.born_in = PickCountry();
    pp.citizen_of = pp.born_in;
    pp.fornavn = GivenName(sex);
    pp.mellomnavn = MiddleName();
    pp.etternavn = Surname();
    const bool has_address = rng_.Chance(0.5);
    if (has_address)
      hh.addr = NewAddress(-1, ctx_.load_day - 1 - static_cast<int32_t>(rng_.Below(3 * 365)));
    hh.members.push_back(p);
    LoadPerson(p, has_address ? 1 : 0);
    return 1;
  }

  uint32_t CreateDeadBeforeLoad() {
    const int32_t h = NewHousehold();
    Household& hh = households_[h];
    hh.active = false;
    const int32_t death = ctx_.load_day - 30 - static_cast<int32_t>(rng_.Below(25 * 365));
    const int age = rng_.Between(55, 99);
    const Sex sex = RandomSex();
    const int32_t p = NewPerson(death - age * 365 - static_cast<int32_t>(rng_.Below(365)), sex, h);
    Person& pp = persons_[p];
    pp.life = Life::kDoed;
    pp.died = death;
    const double s = rng_.Unit();
    pp.sivil = s < 0.45 ? Sivil::kEnke : s < 0.7 ? Sivil::kUgift : Sivil::kSkilt;
    if (pp.sivil != Sivil::kUgift)
      pp.sivil_date = death - 1 - static_cast<int32_t>(rng_.Below(20 * 365));
    pp.foedekommune = static_cast<uint16_t>(geo_.PickKommune(rng_.Next() % geo_.total_weight()));
    pp.fornavn = GivenName(sex);
    pp.mellomnavn = MiddleName();
    pp.etternavn = Surname();
    hh.addr = NewAddress(-1, death - 365 - static_cast<int32_t>(rng_.Below(20 * 365)));
    hh.members.push_back(p);
    LoadPerson(p, 1);
    return 1;
  }

  uint32_t CreateEmigratedBeforeLoad() {
    const int32_t h = NewHousehold();
    Household& hh = households_[h];
    hh.active = false;
    const Sex sex = RandomSex();
    const int age = rng_.Between(22, 75);
    const int32_t p = NewPerson(BirthForAge(age), sex, h);
    Person& pp = persons_[p];
    pp.life = Life::kUtflyttet;
    pp.sivil = rng_.Chance(0.7) ? Sivil::kUgift : Sivil::kSkilt;
    pp.foedekommune = static_cast<uint16_t>(geo_.PickKommune(rng_.Next() % geo_.total_weight()));
    // Left Norway 1..(age-19) years before the load, at least 19 years old.
    const int max_years = std::max(1, std::min(20, age - 19));
    pp.innflyttet = ctx_.load_day - 30 -
                    static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(max_years * 365)));
    pp.citizen_of = PickCountry();  // country moved to
    pp.fornavn = GivenName(sex);
    pp.mellomnavn = MiddleName();
    pp.etternavn = Surname();
    hh.addr = NewAddress(-1, pp.innflyttet - 200 - static_cast<int32_t>(rng_.Below(5 * 365)));
    hh.members.push_back(p);
    LoadPerson(p, 0);
    return 1;
  }

  Sivil SingleSivil(int age) {
    const double s = rng_.Unit();
    if (age < 30) return Sivil::kUgift;
    if (age < 60) return s < 0.55 ? Sivil::kUgift : s < 0.95 ? Sivil::kSkilt : Sivil::kEnke;
    return s < 0.2 ? Sivil::kUgift : s < 0.45 ? Sivil::kSkilt : Sivil::kEnke;
  }

  uint32_t CreateSingle() {
    const int32_t h = NewHousehold();
    const double a = rng_.Unit();
    const int age = a < 0.38  ? rng_.Between(19, 38)
                    : a < 0.7 ? rng_.Between(39, 64)
                              : 65 + static_cast<int>(std::min(rng_.Below(36), rng_.Below(36)));
    const Sex sex = age >= 75 ? (rng_.Chance(0.65) ? Sex::kKvinne : Sex::kMann) : RandomSex();
    const int32_t p = NewPerson(BirthForAge(age), sex, h);
    Person& pp = persons_[p];
    pp.sivil = SingleSivil(age);
    if (pp.sivil != Sivil::kUgift) {
      pp.sivil_date = pp.birth + 25 * 365 +
                      static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(
                          std::max(1, ctx_.load_day - 60 - pp.birth - 25 * 365))));
    }
    const bool immigrant = rng_.Chance(0.14);
    if (immigrant)
      SetImmigrant(pp, pp.birth + 18 * 365);
    else
      pp.foedekommune = static_cast<uint16_t>(geo_.PickKommune(rng_.Next() % geo_.total_weight()));
    pp.fornavn = GivenName(sex);
    pp.mellomnavn = MiddleName();
    pp.etternavn = Surname();
    Household& hh = households_[h];
    hh.etternavn = pp.etternavn;
    hh.members.push_back(p);
    SettleHousehold(h);
    return 1;
  }

  uint32_t CreateFamily(uint32_t budget, bool couple, bool kids) {
    const int32_t h = NewHousehold();
    int woman_age = 0;
    if (kids) {
      woman_age = rng_.Between(27, 57);
    } else {
      woman_age = rng_.Chance(0.4) ? rng_.Between(20, 34) : rng_.Between(50, 92);
    }
    const bool immigrant = rng_.Chance(0.14);
    const std::string_view surname = Surname();
    households_[h].etternavn = surname;
    uint32_t used = 0;

    const Sex single_sex = couple ? Sex::kKvinne : (rng_.Chance(0.8) ? Sex::kKvinne : Sex::kMann);
    const int32_t w = NewPerson(BirthForAge(woman_age), single_sex, h);
    ++used;
    int32_t m = -1;
    if (couple) {
      const int man_age = std::max(18, woman_age + rng_.Between(-2, 6));
      m = NewPerson(BirthForAge(man_age), Sex::kMann, h);
      ++used;
    }
    for (int32_t p : {w, m}) {
      if (p < 0) continue;
      Person& pp = persons_[p];
      if (immigrant)
        SetImmigrant(pp, pp.birth + 18 * 365);
      else
        pp.foedekommune =
            static_cast<uint16_t>(geo_.PickKommune(rng_.Next() % geo_.total_weight()));
      pp.fornavn = GivenName(pp.sex);
      pp.mellomnavn = MiddleName();
      pp.etternavn = (p == m || !couple || rng_.Chance(0.5)) ? surname : Surname();
      households_[h].members.push_back(p);
    }
    if (couple) {
      Person& pw = persons_[w];
      Person& pm = persons_[m];
      pw.partner = m;
      pm.partner = w;
      if (rng_.Chance(0.68)) {
        const int32_t earliest = std::max(pw.birth, pm.birth) + 20 * 365;
        const int32_t span = std::max(1, ctx_.load_day - 60 - earliest);
        const int32_t date =
            earliest + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(span)));
        pw.sivil = pm.sivil = Sivil::kGift;
        pw.sivil_ref = m;
        pm.sivil_ref = w;
        pw.sivil_date = pm.sivil_date = date;
      } else {
        pw.sivil = pm.sivil = Sivil::kUgift;
      }
    } else {
      Person& pw = persons_[w];
      pw.sivil = SingleSivil(woman_age);
      if (pw.sivil != Sivil::kUgift)
        pw.sivil_date = ctx_.load_day - 60 - static_cast<int32_t>(rng_.Below(10 * 365));
    }
    households_[h].mother = persons_[w].sex == Sex::kKvinne ? w : -1;
    households_[h].father = couple ? m : (persons_[w].sex == Sex::kMann ? w : -1);

    if (kids) {
      const double c = rng_.Unit();
      int n = couple ? (c < 0.35   ? 1
                        : c < 0.78 ? 2
                        : c < 0.95 ? 3
                                   : 4)
                     : (c < 0.55  ? 1
                        : c < 0.9 ? 2
                                  : 3);
      // Siblings 1-5 years apart, counted down from the eldest or up from the youngest (half
      // each), which spreads the children evenly over ages 0-22.
      const int max_age = std::min(woman_age - 20, 22);
      const bool from_youngest = rng_.Chance(0.5);
      int age = rng_.Between(0, max_age);
      for (int i = 0; i < n && used < budget && age >= 0 && age <= max_age; ++i) {
        const int32_t k = NewPerson(BirthForAge(age), RandomSex(), h);
        ++used;
        Person& pk = persons_[k];
        pk.mother = households_[h].mother;
        pk.father = households_[h].father;
        pk.sivil = Sivil::kUgift;
        const Person& parent = persons_[w];
        if (parent.born_in != kNorway && pk.birth < parent.innflyttet) {
          pk.born_in = parent.born_in;
          pk.citizen_of = parent.citizen_of;
          pk.innflyttet = parent.innflyttet;
        } else {
          pk.foedekommune =
              static_cast<uint16_t>(geo_.PickKommune(rng_.Next() % geo_.total_weight()));
        }
        pk.fornavn = GivenName(pk.sex);
        pk.mellomnavn = MiddleName();
        pk.etternavn = surname;
        households_[h].members.push_back(k);
        age += from_youngest ? rng_.Between(1, 5) : -rng_.Between(1, 5);
      }
    }
    // Future births for couples with a woman of child-bearing age.
    Household& hh = households_[h];
    if (couple && woman_age >= 20 && woman_age <= 40 && used < budget) {
      const double b = rng_.Unit();
      int n = b < 0.55 ? 0 : b < 0.85 ? 1 : 2;
      n = std::min<int>(n, static_cast<int>(budget - used));
      // Last round in which she is at most 44.
      int last = 0;
      for (int r = 1; r <= ctx_.rounds; ++r) {
        if ((ctx_.quarter_day[r] - persons_[w].birth) * 4 / 1461 <= 44) last = r;
      }
      if (n > 0 && last >= 1) {
        const int first = rng_.Between(1, last);
        hh.birth_rounds[0] = static_cast<int16_t>(first);
        hh.births_planned = 1;
        const int second = first + rng_.Between(4, 12);
        if (n > 1 && second <= last) {
          hh.birth_rounds[1] = static_cast<int16_t>(second);
          hh.births_planned = 2;
        }
        used += hh.births_planned;
      }
    }
    SettleHousehold(h);
    return used;
  }

  // Address, protection and the load versions of a bosatt household's members.
  void SettleHousehold(int32_t h) {
    Household& hh = households_[h];
    const int32_t flytte =
        ctx_.load_day - 1 -
        static_cast<int32_t>(std::min(rng_.Below(15 * 365), rng_.Below(15 * 365)));
    hh.addr = NewAddress(-1, flytte);
    const double g = rng_.Unit();
    hh.gradering = g < 0.0035 ? 1 : g < 0.005 ? 2 : 0;
    for (int32_t p : hh.members) LoadPerson(p, 1);
  }

  // ---------------------------------------------------------------- rounds

  void SimulateRound(int r) {
    const size_t n = households_.size();
    for (size_t h = 0; h < n; ++h) {
      if (!households_[h].active) continue;
      const int32_t day = ctx_.quarter_day[r] - rng_.Between(1, 80);
      SimulateHousehold(static_cast<int32_t>(h), r, day);
    }
  }

  void SimulateHousehold(int32_t h, int r, int32_t day) {
    Household& hh = households_[h];
    if (hh.PendingBirths() && hh.birth_rounds[hh.births_done] == r) {
      ++hh.births_done;
      Birth(h, r, day);
      return;
    }
    if (hh.split_pending >= 0) {
      const int32_t p = hh.split_pending;
      hh.split_pending = -1;
      MoveOut(h, p, r, day);
      return;
    }
    if (hh.members.empty()) {
      hh.active = false;
      return;
    }
    const bool pending = hh.PendingBirths();
    // Deaths.
    if (!pending) {
      for (int32_t p : hh.members) {
        const int age = std::min(130, AgeYears(persons_[p], day));
        if (age >= 18 && rng_.Chance(ctx_.death_per_quarter[static_cast<size_t>(age)])) {
          Death(h, p, r, day);
          return;
        }
      }
    }
    const int32_t first = hh.members.front();
    const int32_t partner = persons_[first].partner;
    if (partner >= 0) {
      const Sivil s = persons_[first].sivil;
      if (s != Sivil::kGift && rng_.Chance(0.012)) {
        Marry(first, partner, r, day);
        return;
      }
      if (s == Sivil::kGift && !pending && rng_.Chance(0.0035)) {
        Divorce(h, first, partner, r, day);
        return;
      }
    }
    // A grown child leaves home.
    for (int32_t p : hh.members) {
      const Person& pp = persons_[p];
      if (hh.members.size() > 1 && (pp.mother >= 0 || pp.father >= 0) && pp.partner < 0 &&
          AgeYears(pp, day) >= 19 && (pp.mother == hh.mother || pp.father == hh.father) &&
          rng_.Chance(0.05)) {
        MoveOut(h, p, r, day);
        return;
      }
    }
    if (rng_.Chance(hh.members.size() == 1 ? 0.07 : 0.04)) {
      MoveHousehold(h, r, day);
      return;
    }
    // Naturalisation of a foreign citizen.
    for (int32_t p : hh.members) {
      if (persons_[p].citizen_of != kNorway && AgeYears(persons_[p], day) >= 18 &&
          rng_.Chance(0.012)) {
        Naturalise(p, r, day);
        return;
      }
    }
    if (rng_.Chance(0.005)) {
      ChangeName(h, r, day);
      return;
    }
    if (!pending && rng_.Chance(0.0015)) {
      Emigrate(h, r, day);
      return;
    }
  }

  void Birth(int32_t h, int r, int32_t day) {
    Household& hh = households_[h];
    const int32_t k = NewPerson(day, RandomSex(), h);
    Person& pk = persons_[k];
    pk.mother = hh.mother;
    pk.father = hh.father;
    pk.sivil = Sivil::kUgift;
    pk.foedekommune = hh.addr.kommune;
    pk.fornavn = GivenName(pk.sex);
    pk.mellomnavn = MiddleName();
    pk.etternavn = hh.etternavn;
    hh.members.push_back(k);
    if (!render_) {
      Touch(k, r, Hendelsetype::kPersonErOpprettet);
      for (int32_t parent : {hh.mother, hh.father}) {
        if (parent >= 0) Touch(parent, r, Hendelsetype::kEndringIFamilierelasjon);
      }
      return;
    }
    SetEventMeta(day);
    const uint64_t seq = Touch(k, r, Hendelsetype::kPersonErOpprettet);
    const Addr addr = WithFlyttedato(hh.addr, day);
    PersonRows(k, seq, Meta("skatteetaten", "Fødsel"), &addr, hh.gradering);
    for (int32_t parent : {hh.mother, hh.father}) {
      if (parent >= 0) {
        RelationRow(k, seq, Meta("skatteetaten", "Fødsel"), parent,
                    parent == hh.mother ? "mor" : "far", "barn");
      }
    }
    for (int32_t parent : {hh.mother, hh.father}) {
      if (parent < 0) continue;
      const uint64_t pseq = Touch(parent, r, Hendelsetype::kEndringIFamilierelasjon);
      RelationRow(parent, pseq, Meta("skatteetaten", "Fødsel"), k, "barn",
                  parent == hh.mother ? "mor" : "far");
    }
  }

  void Death(int32_t h, int32_t p, int r, int32_t day) {
    Household& hh = households_[h];
    Person& pp = persons_[p];
    pp.life = Life::kDoed;
    std::erase(hh.members, p);
    if (hh.members.empty()) hh.active = false;
    const int32_t q = pp.partner;
    pp.partner = -1;
    const uint64_t seq = Touch(p, r, Hendelsetype::kPersonErDoed);
    if (render_) {
      SetEventMeta(day);
      const auto meta = Meta("skatteetaten", "Dødsfall");
      StatusRow(p, seq, meta, Life::kDoed);
      writer_.Begin(meta);
      writer_.Date("doedsdato", day);
      AddRow(p, Property::kDoedsfall, seq);
    }
    if (q >= 0) {
      Person& pq = persons_[q];
      pq.partner = -1;
      if (pq.sivil == Sivil::kGift) {
        pq.sivil = Sivil::kEnke;
        pq.sivil_ref = p;
        pq.sivil_date = day;
        const uint64_t qseq = Touch(q, r, Hendelsetype::kEndringISivilstand);
        if (render_) SivilRow(q, qseq, Meta("skatteetaten", "Dødsfall"));
      }
    }
  }

  void Marry(int32_t a, int32_t b, int r, int32_t day) {
    if (render_) SetEventMeta(day);
    for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
      Person& px = persons_[x];
      px.sivil = Sivil::kGift;
      px.sivil_ref = y;
      px.sivil_date = day;
      const uint64_t seq = Touch(x, r, Hendelsetype::kEndringISivilstand);
      if (render_) SivilRow(x, seq, Meta("skatteetaten", "Vigsel"));
    }
  }

  void Divorce(int32_t h, int32_t a, int32_t b, int r, int32_t day) {
    if (render_) SetEventMeta(day);
    for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
      Person& px = persons_[x];
      px.sivil = Sivil::kSkilt;
      px.sivil_ref = y;
      px.sivil_date = day;
      px.partner = -1;
      const uint64_t seq = Touch(x, r, Hendelsetype::kEndringISivilstand);
      if (render_) SivilRow(x, seq, Meta("skatteetaten", "Skilsmisse"));
    }
    // The man (or the second adult) moves out next quarter.
    households_[h].split_pending = persons_[a].sex == Sex::kMann ? a : b;
  }

  void MoveOut(int32_t h, int32_t p, int r, int32_t day) {
    std::erase(households_[h].members, p);
    if (households_[h].members.empty()) households_[h].active = false;
    const int same = rng_.Chance(0.6) ? households_[h].addr.kommune : -1;
    const Addr addr = NewAddress(same, day);
    const int32_t n = NewHousehold();
    Household& hn = households_[n];
    hn.addr = addr;
    hn.gradering = households_[h].gradering;
    hn.etternavn = persons_[p].etternavn;
    hn.members.push_back(p);
    persons_[p].household = n;
    if (render_) SetEventMeta(day);
    const uint64_t seq = Touch(p, r, Hendelsetype::kEndringIBostedsadresse);
    if (render_)
      BostedRow(p, seq, Meta("skatteetaten", "Flytting innenlands"), hn.addr, hn.gradering);
  }

  void MoveHousehold(int32_t h, int r, int32_t day) {
    Household& hh = households_[h];
    const int same = rng_.Chance(0.65) ? hh.addr.kommune : -1;
    hh.addr = NewAddress(same, day);
    if (render_) SetEventMeta(day);
    for (int32_t p : hh.members) {
      const uint64_t seq = Touch(p, r, Hendelsetype::kEndringIBostedsadresse);
      if (render_)
        BostedRow(p, seq, Meta("skatteetaten", "Flytting innenlands"), hh.addr, hh.gradering);
    }
  }

  void ChangeName(int32_t h, int r, int32_t day) {
    const Household& hh = households_[h];
    const int32_t p = hh.members[rng_.Below(static_cast<uint32_t>(hh.members.size()))];
    Person& pp = persons_[p];
    if (rng_.Chance(0.5))
      pp.etternavn = Surname();
    else
      pp.fornavn = GivenName(pp.sex);
    pp.mellomnavn = MiddleName();
    const uint64_t seq = Touch(p, r, Hendelsetype::kEndringINavn);
    if (render_) {
      SetEventMeta(day);
      NavnRow(p, seq, Meta("skatteetaten", "Navneendring"));
    }
  }

  void Naturalise(int32_t p, int r, int32_t day) {
    const bool keeps_old = rng_.Chance(0.5);  // dual citizenship is allowed since 2020
    persons_[p].citizen_of = kNorway;
    const uint64_t seq = Touch(p, r, Hendelsetype::kEndringIStatsborgerskap);
    if (!render_) return;
    SetEventMeta(day);
    if (!keeps_old) CloseCurrent(p, Property::kStatsborgerskap, seq);
    writer_.Begin(Meta("skatteetaten", "Statsborgerskap"));
    writer_.Str("statsborgerskap", "NOR");
    writer_.Date("ervervsdato", day);
    AddRow(p, Property::kStatsborgerskap, seq);
  }

  void Emigrate(int32_t h, int r, int32_t day) {
    Household& hh = households_[h];
    hh.active = false;
    const uint16_t country = PickCountry();
    if (render_) SetEventMeta(day);
    for (int32_t p : hh.members) {
      Person& pp = persons_[p];
      pp.life = Life::kUtflyttet;
      const uint64_t seq = Touch(p, r, Hendelsetype::kPersonErUtflyttet);
      if (!render_) continue;
      const auto meta = Meta("skatteetaten", "Utflytting");
      StatusRow(p, seq, meta, Life::kUtflyttet);
      UtflyttingRow(p, seq, meta, country);
      CloseCurrent(p, Property::kBostedsadresse, seq);
    }
    hh.members.clear();
  }

  // ---------------------------------------------------------------- versions and rows

  uint64_t Touch(int32_t p, int r, Hendelsetype type) {
    ++counts_[static_cast<size_t>(r)];
    if (!render_) return 0;
    const uint64_t seq = next_seq_[static_cast<size_t>(r)]++;
    const uint64_t offset = seq - ctx_.round_first[static_cast<size_t>(r)];
    const int64_t t = ctx_.window_start[static_cast<size_t>(r)] +
                      static_cast<int64_t>(
                          offset * static_cast<uint64_t>(ctx_.window_len[static_cast<size_t>(r)]) /
                          std::max<uint64_t>(1, ctx_.round_total[static_cast<size_t>(r)]));
    out_[static_cast<size_t>(p)].versions.push_back({seq, type, t});
    ajour_.clear();
    timefmt::AppendOslo(ajour_, t);
    if (r == 0) gyldig_ = ajour_;
    return seq;
  }

  void SetEventMeta(int32_t day) {
    gyldig_.clear();
    timefmt::AppendOslo(gyldig_, static_cast<int64_t>(day) * kDayMs - 3'600'000);
  }

  RowWriter::Meta Meta(std::string_view kilde, std::string_view aarsak) const {
    return {ajour_, kilde, aarsak, gyldig_};
  }

  void AddRow(int32_t p, Property prop, uint64_t seq, bool current = true) {
    freg::Row row;
    row.property = prop;
    row.from_seq = seq;
    row.current_until = current ? freg::kOpen : seq;
    row.json = writer_.Finish();
    auto& rows = out_[static_cast<size_t>(p)].record.rows;
    rows.push_back(std::move(row));
  }

  // Ends the current rows of `prop` (they become history at `seq`).
  void CloseCurrent(int32_t p, Property prop, uint64_t seq) {
    for (freg::Row& row : out_[static_cast<size_t>(p)].record.rows) {
      if (row.property == prop && row.current_until == freg::kOpen && row.from_seq < seq)
        row.current_until = seq;
    }
  }

  void StatusRow(int32_t p, uint64_t seq, const RowWriter::Meta& meta, Life life) {
    CloseCurrent(p, Property::kStatus, seq);
    writer_.Begin(meta);
    writer_.Str("status", LifeName(life));
    AddRow(p, Property::kStatus, seq);
  }

  void SivilRow(int32_t p, uint64_t seq, const RowWriter::Meta& meta) {
    CloseCurrent(p, Property::kSivilstand, seq);
    const Person& pp = persons_[p];
    writer_.Begin(meta);
    writer_.Str("sivilstand", SivilName(pp.sivil));
    if (pp.sivil != Sivil::kUgift && pp.sivil != Sivil::kUoppgitt && pp.sivil_date != 0) {
      writer_.Date("sivilstandsdato", pp.sivil_date);
    }
    if (pp.sivil_ref >= 0)
      writer_.Str("relatertVedSivilstand", fnr_[static_cast<size_t>(pp.sivil_ref)]);
    AddRow(p, Property::kSivilstand, seq);
  }

  void RelationRow(int32_t p, uint64_t seq, const RowWriter::Meta& meta, int32_t other,
                   std::string_view other_role, std::string_view my_role) {
    writer_.Begin(meta);
    writer_.Str("relatertPerson", fnr_[static_cast<size_t>(other)]);
    writer_.Str("relatertPersonsRolle", other_role);
    writer_.Str("minRolleForPerson", my_role);
    AddRow(p, Property::kFamilierelasjon, seq);
  }

  void NavnRow(int32_t p, uint64_t seq, const RowWriter::Meta& meta) {
    CloseCurrent(p, Property::kNavn, seq);
    const Person& pp = persons_[p];
    writer_.Begin(meta);
    writer_.Str("fornavn", pp.fornavn);
    if (!pp.mellomnavn.empty()) writer_.Str("mellomnavn", pp.mellomnavn);
    writer_.Str("etternavn", pp.etternavn);
    const size_t len = pp.etternavn.size() + 1 + pp.fornavn.size() +
                       (pp.mellomnavn.empty() ? 0 : pp.mellomnavn.size() + 1);
    if (len <= 30) {
      writer_.Key("forkortetNavn");
      std::string& raw = writer_.raw();
      raw.push_back('"');
      raw.append(pp.etternavn);
      raw.push_back(' ');
      raw.append(pp.fornavn);
      if (!pp.mellomnavn.empty()) {
        raw.push_back(' ');
        raw.append(pp.mellomnavn);
      }
      raw.push_back('"');
    }
    AddRow(p, Property::kNavn, seq);
  }

  void UtflyttingRow(int32_t p, uint64_t seq, const RowWriter::Meta& meta, uint16_t country) {
    const Country& c = ForeignCountries()[country];
    writer_.Begin(meta);
    writer_.Str("tilflyttingsland", c.alpha3);
    if (Mix(ctx_.options.seed, static_cast<uint64_t>(p) ^ (chunk_ << 20)) & 1) {
      writer_.Str("tilflyttingsstedIUtlandet", c.city);
    }
    AddRow(p, Property::kUtflytting, seq);
  }

  static Addr WithFlyttedato(Addr a, int32_t day) {
    a.flyttedato = std::max(a.flyttedato, day);
    return a;
  }

  // The address object (vegadresse or matrikkeladresse) of `a`.
  void AddressObject(const Addr& a) {
    const Kommune& k = geo_.kommuner()[a.kommune];
    const Poststed& post = k.poststeder[a.post];
    std::string& raw = writer_.raw();
    auto bruksenhet = [&] {
      writer_.Key("bruksenhetsnummer");
      raw.append("\"H");
      AppendDigits(raw, a.floor, 2);
      AppendDigits(raw, a.unit, 2);
      raw.push_back('"');
      writer_.Str("bruksenhetstype", "bolig");
    };
    auto poststed = [&] {
      writer_.Open("poststed");
      writer_.Str("poststedsnavn", post.navn);
      writer_.Str("postnummer", post.postnummer);
      writer_.Close();
    };
    if (a.matrikkel) {
      writer_.Open("matrikkeladresse");
      bruksenhet();
      writer_.Open("matrikkelnummer");
      writer_.Str("kommunenummer", k.nummer);
      writer_.Int("gaardsnummer", a.gnr);
      writer_.Int("bruksnummer", a.bnr);
      writer_.Close();
      poststed();
      writer_.Close();
      return;
    }
    writer_.Open("vegadresse");
    writer_.Str("kommunenummer", k.nummer);
    bruksenhet();
    writer_.Str("adressenavn", geo_.StreetName(a.kommune, a.street));
    writer_.Open("adressenummer");
    writer_.Key("husnummer");
    raw.push_back('"');
    AppendUint(raw, a.husnummer);
    raw.push_back('"');
    if (a.husbokstav != 0) {
      writer_.Key("husbokstav");
      raw.push_back('"');
      raw.push_back(a.husbokstav);
      raw.push_back('"');
    }
    writer_.Close();
    writer_.Key("adressekode");
    raw.push_back('"');
    AppendUint(raw, geo_.Adressekode(a.kommune, a.street));
    raw.push_back('"');
    poststed();
    writer_.Close();
  }

  void BostedRow(int32_t p, uint64_t seq, const RowWriter::Meta& meta, const Addr& a,
                 uint8_t gradering, bool current = true) {
    CloseCurrent(p, Property::kBostedsadresse, seq);
    writer_.Begin(meta);
    AddressObject(a);
    writer_.Str("adressegradering", kGradering[gradering]);
    writer_.Date("flyttedato", a.flyttedato);
    writer_.Int("grunnkrets", 101 + a.street % 40);
    writer_.Int("stemmekrets", 1 + a.street % 12);
    writer_.Int("skolekrets", 1 + a.street % 9);
    writer_.Int("kirkekrets", 1 + a.street % 5);
    AddRow(p, Property::kBostedsadresse, seq, current);
  }

  // Load (round 0) of person `p` with `has_address` != 0 when their household address applies.
  void LoadPerson(int32_t p, int has_address) {
    const uint64_t seq = Touch(p, 0, Hendelsetype::kPersonErOpprettet);
    if (!render_) return;
    const Household& hh = households_[persons_[p].household];
    const Addr addr = WithFlyttedato(hh.addr, persons_[p].birth);
    const RowWriter::Meta meta = Meta("Synutopia", "Grunnbefolkning");
    PersonRows(p, seq, meta, has_address ? &addr : nullptr, hh.gradering);
    if (has_address) GuardianshipRows(p, seq, meta, hh.addr);
  }

  // Guardianship (vergemaalEllerFremtidsfullmakt) and legal capacity rows of a person at the
  // load. A stateless hash of the person decides and its own stream draws, so the chunk's random
  // stream (and with it everything else generated) is the same as without these rows.
  void GuardianshipRows(int32_t p, uint64_t seq, const RowWriter::Meta& meta, const Addr& addr) {
    const Person& pp = persons_[p];
    if (pp.life != Life::kBosatt || pp.dnr) return;
    const uint64_t hash =
        Mix(ctx_.options.seed ^ 0x7e77e, (chunk_ << 24) ^ static_cast<uint64_t>(p));
    const double u = static_cast<double>(hash >> 11) * 0x1.0p-53;
    const bool adult = AgeYears(pp, ctx_.load_day) >= 18;
    if (u >= (adult ? kAdultGuardianship : kMinorGuardianship)) return;
    Rng local(hash);
    std::string_view type = "mindreaarig";
    std::string_view omfang = "personligeOgOekonomiskeInteresser";
    if (adult) {
      const double t = local.Unit();
      type = t < 0.68 ? "voksen" : t < 0.80 ? "midlertidigForVoksen" : "stadfestetFremtidsfullmakt";
      const double o = local.Unit();
      omfang = type == "midlertidigForVoksen" ? "oekonomiskeInteresser"
               : o < 0.5                      ? "personligeOgOekonomiskeInteresser"
               : o < 0.85                     ? "oekonomiskeInteresser"
                                              : "personligeInteresser";
    }
    // The guardian: another adult resident of the register where one is found, otherwise (and
    // for some adults anyway) a person without a Norwegian number.
    int32_t guardian = -1;
    if (!(adult && local.Chance(kForeignGuardian))) {
      for (int attempt = 0; attempt < 32 && guardian < 0; ++attempt) {
        const auto g = static_cast<int32_t>(local.Below(static_cast<uint32_t>(persons_.size())));
        const Person& pg = persons_[g];
        if (g != p && pg.life == Life::kBosatt && !pg.dnr && AgeYears(pg, ctx_.load_day) >= 20) {
          guardian = g;
        }
      }
    }
    // 1-15 service areas, distinct, in table order (selection sampling).
    std::array<uint8_t, 15> areas{};
    uint32_t area_count = 0;
    uint32_t need = 1 + local.Below(15);
    for (uint32_t i = 0; i < kTjenesteCount && need > 0; ++i) {
      if (local.Below(kTjenesteCount - i) < need) {
        areas[area_count++] = static_cast<uint8_t>(i);
        --need;
      }
    }
    const std::string_view embete = EmbeteOf(geo_.kommuner()[addr.kommune].nummer);
    // The foreign guardian's identity (drawn whether used or not: a fixed number of draws).
    const Sex foreign_sex = local.Chance(0.5) ? Sex::kMann : Sex::kKvinne;
    const std::span<const std::string_view> given =
        foreign_sex == Sex::kMann ? MaleGivenNames() : FemaleGivenNames();
    const std::string_view foreign_fornavn =
        given[local.Below(static_cast<uint32_t>(given.size()))];
    const std::string_view foreign_etternavn =
        OrdinarySurnames()[local.Below(static_cast<uint32_t>(OrdinarySurnames().size()))];
    const int32_t foreign_birth =
        ctx_.load_day - 365 * 30 - static_cast<int32_t>(local.Below(365 * 45));
    const std::span<const Country> countries = ForeignCountries();
    const std::string_view foreign_country =
        countries[local.Below(static_cast<uint32_t>(countries.size()))].alpha3;

    auto row = [&](std::string_view vergemaaltype, std::string_view row_omfang,
                   uint32_t areas_shown, bool current) {
      writer_.Begin(meta);
      writer_.Str("vergemaaltype", vergemaaltype);
      writer_.Str("embete", embete);
      writer_.Open("verge");
      if (guardian >= 0) {
        const Person& pg = persons_[guardian];
        writer_.Open("navn");
        writer_.Str("fornavn", pg.fornavn);
        if (!pg.mellomnavn.empty()) writer_.Str("mellomnavn", pg.mellomnavn);
        writer_.Str("etternavn", pg.etternavn);
        writer_.Close();
        writer_.Str("foedselsEllerDNummer", fnr_[static_cast<size_t>(guardian)]);
      } else {
        writer_.Open("navnFoedselsdato");
        writer_.Open("personnavn");
        writer_.Str("fornavn", foreign_fornavn);
        writer_.Str("etternavn", foreign_etternavn);
        writer_.Close();
        writer_.Date("foedselsdato", foreign_birth);
        writer_.Key("statsborgerskap");
        std::string& raw = writer_.raw();
        raw.append("[\"").append(foreign_country).append("\"]");
        writer_.Str("kjoenn", foreign_sex == Sex::kMann ? "mann" : "kvinne");
        writer_.Close();
      }
      writer_.Str("omfang", row_omfang);
      writer_.Key("omfangetErInnenPersonligOmraade");
      writer_.raw().append(row_omfang == "oekonomiskeInteresser" ? "false" : "true");
      writer_.Key("tjenesteomraade");
      std::string& raw = writer_.raw();
      raw.push_back('[');
      for (uint32_t i = 0; i < areas_shown; ++i) {
        if (i > 0) raw.push_back(',');
        const Tjeneste& t = kTjenester[areas[i]];
        raw.append("{\"vergeTjenestevirksomhet\":\"").append(t.virksomhet);
        raw.append("\",\"vergeTjenesteoppgave\":\"").append(t.oppgave).append("\"}");
      }
      raw.push_back(']');
      writer_.Close();
      AddRow(p, Property::kVergemaalEllerFremtidsfullmakt, seq, current);
    };
    row(type, omfang, area_count, true);
    // Some permanent guardianships were temporary first: that row is history.
    const bool was_temporary = local.Chance(0.2);
    if (type == "voksen" && was_temporary) {
      row("midlertidigForVoksen", "oekonomiskeInteresser", std::min<uint32_t>(area_count, 2),
          false);
    }
    const double capacity = local.Unit();
    if (type == "voksen" && capacity < kLegalCapacityOfVoksen) {
      writer_.Begin(meta);
      AddRow(p,
             capacity < kLegalCapacityOfVoksen / 4 ? Property::kFratattRettsligHandleevne
                                                   : Property::kBegrensningIRettsligHandleevne,
             seq);
    }
  }

  // All rows of a new person (load or birth). `addr` is the bosted (or, for d-nummer holders,
  // opphold) address, if any.
  void PersonRows(int32_t p, uint64_t seq, const RowWriter::Meta& meta, const Addr* addr,
                  uint8_t gradering) {
    const Person& pp = persons_[p];
    const Assigned& number = (*numbers_)[static_cast<size_t>(p)];
    const uint64_t hash = Mix(ctx_.options.seed ^ 0xfe6, (chunk_ << 24) ^ static_cast<uint64_t>(p));

    writer_.Begin(meta);
    writer_.Str("status", "iBruk");
    writer_.Str("foedselsEllerDNummer", fnr_[static_cast<size_t>(p)]);
    writer_.Str("identifikatortype", pp.dnr ? "dNummer" : "foedselsnummer");
    AddRow(p, Property::kIdentifikasjonsnummer, seq);

    writer_.Begin(meta);
    writer_.Str("identitetsgrunnlagstatus",
                pp.dnr ? ((hash & 2) ? "kontrollert" : "ikkeKontrollert") : "ingenStatus");
    AddRow(p, Property::kIdentitetsgrunnlag, seq);

    writer_.Begin(meta);
    writer_.Str("status", LifeName(pp.life));
    AddRow(p, Property::kStatus, seq);

    if (pp.life == Life::kDoed) {
      writer_.Begin(meta);
      writer_.Date("doedsdato", pp.died);
      AddRow(p, Property::kDoedsfall, seq);
    }

    SivilRow(p, seq, meta);  // nothing to close at the person's first version

    // Relations inside the household at the load: child <-> parents.
    if (pp.mother >= 0 || pp.father >= 0) {
      if (meta.aarsak == std::string_view("Grunnbefolkning")) {
        for (int32_t parent : {pp.mother, pp.father}) {
          if (parent < 0) continue;
          const bool is_mother = parent == pp.mother;
          RelationRow(p, seq, meta, parent, is_mother ? "mor" : "far", "barn");
        }
      }
    }
    if (meta.aarsak == std::string_view("Grunnbefolkning")) {
      const Household& hh = households_[pp.household];
      for (int32_t k : hh.members) {
        const Person& pk = persons_[k];
        if (pk.mother == p) RelationRow(p, seq, meta, k, "barn", "mor");
        if (pk.father == p) RelationRow(p, seq, meta, k, "barn", "far");
      }
    }

    if (addr != nullptr && !pp.dnr) {
      BostedRow(p, seq, meta, *addr, gradering, pp.life != Life::kUtflyttet);
    } else if (pp.life == Life::kUtflyttet) {
      const Household& hh = households_[pp.household];
      BostedRow(p, seq, meta, hh.addr, 0, /*current=*/false);
    }
    if (addr != nullptr && pp.dnr) {
      writer_.Begin(meta);
      AddressObject(*addr);
      writer_.Str("adressegradering", "ugradert");
      writer_.Date("oppholdsadressedato", addr->flyttedato);
      AddRow(p, Property::kOppholdsadresse, seq);
    }
    if (gradering != 0 && pp.life == Life::kBosatt) {
      writer_.Begin(meta);
      writer_.Str("graderingsnivaa", kGradering[gradering]);
      AddRow(p, Property::kAdressebeskyttelse, seq);
    }
    if (pp.born_in != kNorway && !pp.dnr && pp.life == Life::kBosatt) {
      std::string when;
      timefmt::AppendOslo(when, static_cast<int64_t>(pp.innflyttet) * kDayMs + 10 * 3'600'000);
      writer_.Begin({meta.ajour, meta.kilde, "Innvandring", when});
      writer_.Str("fraflyttingsland", ForeignCountries()[pp.born_in].alpha3);
      AddRow(p, Property::kInnflytting, seq);
    }
    if (pp.life == Life::kUtflyttet) {
      std::string when;
      timefmt::AppendOslo(when, static_cast<int64_t>(pp.innflyttet) * kDayMs + 10 * 3'600'000);
      const Country& c = ForeignCountries()[pp.citizen_of == kNorway ? 0 : pp.citizen_of];
      writer_.Begin({meta.ajour, meta.kilde, "Utflytting", when});
      writer_.Str("tilflyttingsland", c.alpha3);
      if (hash & 4) writer_.Str("tilflyttingsstedIUtlandet", c.city);
      AddRow(p, Property::kUtflytting, seq);
    }

    writer_.Begin(meta);
    writer_.Str("kjoenn", pp.sex == Sex::kMann ? "mann" : "kvinne");
    AddRow(p, Property::kKjoenn, seq);

    writer_.Begin(meta);
    const bool foreign_citizen = pp.citizen_of != kNorway && pp.life != Life::kUtflyttet;
    writer_.Str("statsborgerskap",
                foreign_citizen ? ForeignCountries()[pp.citizen_of].alpha3 : "NOR");
    AddRow(p, Property::kStatsborgerskap, seq);

    writer_.Begin(meta);
    writer_.Date("foedselsdato", number.day);
    int y = 0, m = 0, d = 0;
    timefmt::CivilFromDays(number.day, y, m, d);
    writer_.Key("foedselsaar");
    writer_.raw().push_back('"');
    AppendDigits(writer_.raw(), y, 4);
    writer_.raw().push_back('"');
    if (pp.born_in == kNorway && !pp.dnr) {
      writer_.Str("foedekommuneINorge", geo_.kommuner()[pp.foedekommune].nummer);
      writer_.Str("foedeland", "NOR");
    } else {
      writer_.Str("foedeland", ForeignCountries()[pp.born_in == kNorway ? 0 : pp.born_in].alpha3);
    }
    AddRow(p, Property::kFoedsel, seq);

    NavnRow(p, seq, meta);
  }

  const Context& ctx_;
  const Geography& geo_;
  const uint64_t chunk_;
  const uint32_t quota_;
  Rng rng_;
  const bool render_;
  std::vector<uint64_t> counts_;
  std::vector<Person> persons_;
  std::vector<Household> households_;

  // Pass 2 only.
  const std::vector<Assigned>* numbers_ = nullptr;
  std::vector<uint64_t> next_seq_;
  std::vector<std::string> fnr_;
  std::vector<store::PersonWrite> out_;
  RowWriter writer_;
  std::string ajour_;
  std::string gyldig_;
};

// Hands out individnummer per (kind, birth day) in chunk/person order: unique over the register.
class NumberAllocator {
 public:
  NumberAllocator() : next_(4 * static_cast<size_t>(kDayTableEnd - kDayTableStart), 0) {}

  std::optional<Assigned> Allocate(const BirthKey& key) {
    // The planned day, then alternately later and earlier days: a full day spills over to its
    // neighbours instead of cascading in one direction.
    for (int32_t step = 0; step < 3000; ++step) {
      const int32_t day = key.day + ((step & 1) ? -(step + 1) / 2 : step / 2);
      if (day < kDayTableStart || day >= kDayTableEnd) continue;
      int y = 0, m = 0, d = 0;
      timefmt::CivilFromDays(day, y, m, d);
      const auto& candidates = Candidates(y, key.male);
      uint16_t& next = next_[static_cast<size_t>(day - kDayTableStart) * 4 + (key.dnr ? 2 : 0) +
                             (key.male ? 1 : 0)];
      while (next < candidates.size()) {
        const int iii = candidates[next++];
        if (ids::MakeSyntheticFnr(
                y, m, d, iii, key.dnr ? ids::FnrKind::kDNummer : ids::FnrKind::kFoedselsnummer)) {
          return Assigned{day, static_cast<uint16_t>(iii), key.dnr};
        }
      }
    }
    return std::nullopt;
  }

 private:
  // Individnummer that give back `year` (classic century table) and encode the sex (odd for
  // men), in hand-out order.
  static const std::vector<int>& Candidates(int year, bool male) {
    static const std::array<std::vector<int>, 8> lists = [] {
      std::array<std::vector<int>, 8> l;
      auto add = [&](int list, int from, int to) {
        for (int i = from; i <= to; ++i) l[static_cast<size_t>(list * 2 + i % 2)].push_back(i);
      };
      add(0, 500, 749);  // 1854-1899
      add(1, 0, 499);    // 1900-1939
      add(2, 0, 499);    // 1940-1999
      add(2, 900, 999);
      add(3, 500, 999);  // 2000-2039
      return l;
    }();
    static const std::vector<int> none;
    const size_t parity = male ? 1 : 0;
    if (year >= 1854 && year <= 1899) return lists[0 + parity];
    if (year >= 1900 && year <= 1939) return lists[2 + parity];
    if (year >= 1940 && year <= 1999) return lists[4 + parity];
    if (year >= 2000 && year <= 2039) return lists[6 + parity];
    return none;
  }

  std::vector<uint16_t> next_;
};

Result<Context> MakeContext(const GenerateOptions& options) {
  if (options.persons == 0)
    return MakeError(ErrorCode::kInvalidInput, "antall personer må være minst 1");
  const Result<Geography>& geo = Geography::Embedded();
  if (!geo.ok())
    return MakeError(ErrorCode::kInternal, "generator: ugyldig geografi", geo.error().message);
  Context ctx;
  ctx.geo = &geo.value();
  ctx.options = options;
  ctx.load_day = static_cast<int32_t>(options.load_time / kDayMs);
  // Round 0: the load.
  ctx.quarter_day.push_back(ctx.load_day);
  ctx.window_start.push_back(options.load_time);
  ctx.window_len.push_back(kLoadWindowMs);
  for (int q = 0;; ++q) {
    const int32_t start = DaysOf(2018 + q / 4, 1 + 3 * (q % 4), 1);
    const int32_t next = DaysOf(2018 + (q + 1) / 4, 1 + 3 * ((q + 1) % 4), 1);
    const int64_t start_ms = static_cast<int64_t>(start) * kDayMs - 3'600'000;
    if (start_ms >= options.history_end) break;
    const int64_t end_ms =
        std::min<int64_t>(static_cast<int64_t>(next) * kDayMs - 3'600'000, options.history_end);
    ctx.quarter_day.push_back(start);
    ctx.window_start.push_back(start_ms);
    ctx.window_len.push_back(end_ms - start_ms);
  }
  ctx.rounds = static_cast<int>(ctx.quarter_day.size()) - 1;
  if (ctx.rounds < 1)
    return MakeError(ErrorCode::kInvalidInput, "historikken må slutte etter 2018-01-01");
  if (options.load_time + kLoadWindowMs > ctx.window_start[1]) {
    return MakeError(ErrorCode::kInvalidInput, "grunnbefolkningen må lastes før 2017-12-02");
  }
  uint32_t total = 0;
  for (const Country& c : ForeignCountries()) {
    total += static_cast<uint32_t>(c.weight);
    ctx.country_cumulative.push_back(total);
  }
  for (size_t age = 0; age < ctx.death_per_quarter.size(); ++age) {
    const double annual =
        std::min(0.6, 0.00017 * std::exp(0.095 * (static_cast<double>(age) - 20.0)));
    ctx.death_per_quarter[age] = annual / 4.0;
  }
  return ctx;
}

// Runs `work(i)` for i in [0, n) on `threads` threads; returns the first error.
Status ParallelFor(uint64_t n, int threads, const std::function<Status(uint64_t)>& work) {
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  auto run = [&] {
    while (!failed.load()) {
      const uint64_t i = next.fetch_add(1);
      if (i >= n) return;
      Status s = work(i);
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (!failed.exchange(true)) first_error = s;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  return first_error;
}

}  // namespace

Status Generate(const GenerateOptions& options,
                const std::function<Status(std::vector<store::PersonWrite>&&)>& sink,
                const std::function<void(uint64_t done)>& progress) {
  auto made = MakeContext(options);
  if (!made.ok()) return made.error();
  Context& ctx = made.value();
  const int threads = std::max(1, options.threads);
  const uint64_t chunks = (options.persons + kChunkPersons - 1) / kChunkPersons;

  // Pass 1: plan every chunk, count versions per round, collect birth dates.
  std::vector<ChunkSummary> summaries(chunks);
  Status s = ParallelFor(chunks, threads, [&](uint64_t c) -> Status {
    ChunkSim sim(ctx, c, nullptr);
    if (Status r = sim.Run(); !r.ok()) return r;
    summaries[c] = sim.TakeSummary();
    return Status::Ok();
  });
  if (!s.ok()) return s;

  // Sekvensnummer: round by round, chunk by chunk.
  const size_t rounds = static_cast<size_t>(ctx.rounds) + 1;
  ctx.round_first.assign(rounds, 0);
  ctx.round_total.assign(rounds, 0);
  ctx.chunk_base.assign(chunks, std::vector<uint64_t>(rounds, 0));
  uint64_t seq = options.first_seq;
  for (size_t r = 0; r < rounds; ++r) {
    ctx.round_first[r] = seq;
    for (uint64_t c = 0; c < chunks; ++c) {
      ctx.chunk_base[c][r] = seq;
      seq += summaries[c].round_counts[r];
      ctx.round_total[r] += summaries[c].round_counts[r];
    }
  }

  // Numbers: one sequential pass in chunk/person order.
  std::vector<std::vector<Assigned>> numbers(chunks);
  {
    NumberAllocator allocator;
    for (uint64_t c = 0; c < chunks; ++c) {
      numbers[c].reserve(summaries[c].births.size());
      for (const BirthKey& key : summaries[c].births) {
        auto a = allocator.Allocate(key);
        if (!a) {
          return MakeError(ErrorCode::kInternal, "generator: tomt for fødselsnummer",
                           "no free individnummer near day " + std::to_string(key.day));
        }
        numbers[c].push_back(*a);
      }
      summaries[c].births = {};
    }
  }

  // Pass 2: render the chunks in parallel, deliver them in order from this thread.
  const uint64_t window = static_cast<uint64_t>(threads) * 2;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<std::vector<store::PersonWrite>>> ready(chunks);
  uint64_t delivered = 0;
  bool stop = false;
  Status worker_error;
  std::atomic<uint64_t> next{0};
  auto worker = [&] {
    while (true) {
      const uint64_t c = next.fetch_add(1);
      if (c >= chunks) return;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || c < delivered + window; });
        if (stop) return;
      }
      ChunkSim sim(ctx, c, &numbers[c]);
      Status r = sim.Run();
      std::lock_guard lock(mu);
      if (!r.ok()) {
        if (!stop) worker_error = r;
        stop = true;
      } else {
        ready[c] = sim.TakeOutput();
        numbers[c] = {};
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  Status result;
  uint64_t done = 0;
  for (uint64_t c = 0; c < chunks; ++c) {
    std::vector<store::PersonWrite> batch;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stop || ready[c].has_value(); });
      if (!ready[c].has_value()) {
        result = worker_error;
        break;
      }
      batch = std::move(*ready[c]);
      ready[c].reset();
    }
    done += batch.size();
    Status r = sink(std::move(batch));
    {
      std::lock_guard lock(mu);
      ++delivered;
      if (!r.ok()) {
        stop = true;
        result = r;
      }
      cv.notify_all();
    }
    if (!r.ok()) break;
    if (progress) progress(done);
  }
  {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  }
  for (auto& t : pool) t.join();
  return result;
}

Result<std::vector<store::PersonWrite>> GenerateAll(const GenerateOptions& options) {
  std::vector<store::PersonWrite> all;
  Status s = Generate(options, [&](std::vector<store::PersonWrite>&& batch) -> Status {
    for (auto& p : batch) all.push_back(std::move(p));
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  return all;
}

}  // namespace norreg::gen
