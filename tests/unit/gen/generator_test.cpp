#include "gen/generator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/ids.hpp"
#include "freg/parts.hpp"
#include "freg/render.hpp"
#include "freg/schema.hpp"

namespace norreg::gen {
namespace {

using freg::Property;

std::vector<store::PersonWrite> Make(uint64_t persons, uint64_t seed, int threads,
                                     uint64_t first_seq = 1) {
  GenerateOptions options;
  options.persons = persons;
  options.seed = seed;
  options.threads = threads;
  options.first_seq = first_seq;
  auto all = GenerateAll(options);
  EXPECT_TRUE(all.ok()) << (all.ok() ? "" : all.error().message + " " + all.error().detail);
  return all.ok() ? std::move(all.value()) : std::vector<store::PersonWrite>{};
}

// One register shared by the read-only tests (generation is the slow part under sanitizers).
const std::vector<store::PersonWrite>& Shared() {
  static const auto persons = Make(30000, 42, 2);
  return persons;
}

boost::json::object Parse(const std::string& json) { return boost::json::parse(json).as_object(); }

std::string Str(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? std::string() : std::string(it->value().as_string());
}

// Rows of `p` of property `prop` current at the person's latest version.
std::vector<boost::json::object> CurrentRows(const store::PersonWrite& p, Property prop) {
  std::vector<boost::json::object> out;
  const uint64_t latest = p.versions.back().seq;
  for (const freg::Row& row : p.record.rows) {
    if (row.property == prop && row.PresentAt(latest) && row.CurrentAt(latest)) {
      out.push_back(Parse(row.json));
    }
  }
  return out;
}

bool SameRegister(const std::vector<store::PersonWrite>& a,
                  const std::vector<store::PersonWrite>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (x.record.fnr != y.record.fnr || x.record.rows.size() != y.record.rows.size() ||
        x.versions.size() != y.versions.size()) {
      return false;
    }
    for (size_t j = 0; j < x.versions.size(); ++j) {
      if (x.versions[j].seq != y.versions[j].seq || x.versions[j].type != y.versions[j].type ||
          x.versions[j].ajourholdstidspunkt != y.versions[j].ajourholdstidspunkt) {
        return false;
      }
    }
    for (size_t j = 0; j < x.record.rows.size(); ++j) {
      const auto& r = x.record.rows[j];
      const auto& s = y.record.rows[j];
      if (r.property != s.property || r.from_seq != s.from_seq ||
          r.current_until != s.current_until || r.removed_at != s.removed_at || r.json != s.json) {
        return false;
      }
    }
  }
  return true;
}

TEST(GeneratorTest, RejectsZeroPersons) {
  GenerateOptions options;
  options.persons = 0;
  auto r = GenerateAll(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
}

TEST(GeneratorTest, ProducesExactlyTheRequestedNumberOfPersons) {
  for (uint64_t n : {1ULL, 2ULL, 7ULL, 100ULL, 8193ULL}) {
    EXPECT_EQ(Make(n, 3, 2).size(), n) << n;
  }
}

TEST(GeneratorTest, SameSeedSameRegisterWhateverTheThreadCount) {
  const auto one = Make(20000, 7, 1);
  const auto three = Make(20000, 7, 3);
  const auto again = Make(20000, 7, 2);
  ASSERT_EQ(one.size(), 20000u);
  EXPECT_TRUE(SameRegister(one, three));
  EXPECT_TRUE(SameRegister(one, again));
}

TEST(GeneratorTest, DifferentSeedDifferentRegister) {
  EXPECT_FALSE(SameRegister(Make(500, 1, 2), Make(500, 2, 2)));
}

TEST(GeneratorTest, BatchesArriveInOrderFromTheCallingThread) {
  GenerateOptions options;
  options.persons = 30000;
  options.seed = 5;
  options.threads = 3;
  const auto caller = std::this_thread::get_id();
  uint64_t last_first_seq = 0;
  size_t batches = 0;
  uint64_t progress_seen = 0;
  Status s = Generate(
      options,
      [&](std::vector<store::PersonWrite>&& batch) -> Status {
        EXPECT_TRUE(std::this_thread::get_id() == caller);
        EXPECT_FALSE(batch.empty());
        // The first load version of each batch ascends.
        uint64_t first = UINT64_MAX;
        for (const auto& p : batch) first = std::min(first, p.versions.front().seq);
        EXPECT_GT(first, last_first_seq);
        last_first_seq = first;
        ++batches;
        return Status::Ok();
      },
      [&](uint64_t done) {
        EXPECT_GT(done, progress_seen);
        progress_seen = done;
      });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(batches, 4u);
  EXPECT_EQ(progress_seen, 30000u);
}

TEST(GeneratorTest, SinkErrorStopsGeneration) {
  GenerateOptions options;
  options.persons = 40000;
  options.threads = 2;
  int calls = 0;
  Status s = Generate(options, [&](std::vector<store::PersonWrite>&&) -> Status {
    ++calls;
    return MakeError(ErrorCode::kConflict, "stopp");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(calls, 1);
}

TEST(GeneratorTest, NumbersAreUniqueValidAndSynthetic) {
  const auto persons = Make(100000, 11, 2);
  ASSERT_EQ(persons.size(), 100000u);
  std::unordered_set<std::string> seen;
  for (const auto& p : persons) {
    ASSERT_TRUE(seen.insert(p.record.fnr).second) << "duplicate " << p.record.fnr;
    auto info = ids::ValidateFnr(p.record.fnr);
    ASSERT_TRUE(info.has_value()) << p.record.fnr;
    EXPECT_TRUE(info->synthetic) << p.record.fnr;
    auto id = CurrentRows(p, Property::kIdentifikasjonsnummer);
    ASSERT_EQ(id.size(), 1u);
    EXPECT_EQ(Str(id[0], "foedselsEllerDNummer"), p.record.fnr);
    EXPECT_EQ(Str(id[0], "identifikatortype"),
              info->kind == ids::FnrKind::kDNummer ? "dNummer" : "foedselsnummer");
    // The number encodes the birth date and sex.
    auto foedsel = CurrentRows(p, Property::kFoedsel);
    ASSERT_EQ(foedsel.size(), 1u);
    char date[11];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", info->year, info->month, info->day);
    EXPECT_EQ(Str(foedsel[0], "foedselsdato"), date);
    auto kjoenn = CurrentRows(p, Property::kKjoenn);
    ASSERT_EQ(kjoenn.size(), 1u);
    EXPECT_EQ(Str(kjoenn[0], "kjoenn") == "mann", info->male) << p.record.fnr;
  }
}

TEST(GeneratorTest, SequenceNumbersAreContiguousAndTimesAscend) {
  const auto persons = Make(20000, 9, 2, /*first_seq=*/1000);
  std::vector<std::pair<uint64_t, int64_t>> all;
  for (const auto& p : persons) {
    ASSERT_FALSE(p.versions.empty());
    for (size_t i = 1; i < p.versions.size(); ++i) {
      EXPECT_LT(p.versions[i - 1].seq, p.versions[i].seq) << p.record.fnr;
    }
    for (const auto& v : p.versions) all.emplace_back(v.seq, v.ajourholdstidspunkt);
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].first, 1000 + i);
    if (i > 0) {
      ASSERT_LT(all[i - 1].second, all[i].second) << "seq " << all[i].first;
    }
  }
  EXPECT_EQ(persons.front().versions.front().type, freg::Hendelsetype::kPersonErOpprettet);
}

TEST(GeneratorTest, RowRangesReferToVersionsOfThePerson) {
  for (const auto& p : Shared()) {
    auto sorted = p.record.rows;
    freg::SortRows(sorted);
    for (size_t i = 0; i < sorted.size(); ++i) {
      ASSERT_EQ(sorted[i].json, p.record.rows[i].json)
          << "rows not in SortRows order: " << p.record.fnr;
    }
    std::set<uint64_t> seqs;
    for (const auto& v : p.versions) seqs.insert(v.seq);
    for (const auto& row : p.record.rows) {
      EXPECT_TRUE(seqs.count(row.from_seq)) << p.record.fnr;
      EXPECT_TRUE(row.current_until == freg::kOpen || seqs.count(row.current_until))
          << p.record.fnr;
      EXPECT_TRUE(row.removed_at == freg::kOpen || seqs.count(row.removed_at)) << p.record.fnr;
      EXPECT_GE(row.current_until, row.from_seq);
    }
    // Every version changed something: some row starts or stops being current there.
    for (uint64_t s : seqs) {
      bool touched = false;
      for (const auto& row : p.record.rows) touched |= row.from_seq == s || row.current_until == s;
      EXPECT_TRUE(touched) << p.record.fnr << " seq " << s;
    }
  }
}

TEST(GeneratorTest, AveragesAboutThreeVersionsPerPerson) {
  size_t versions = 0;
  for (const auto& p : Shared()) versions += p.versions.size();
  const double avg = static_cast<double>(versions) / static_cast<double>(Shared().size());
  EXPECT_GT(avg, 2.0);
  EXPECT_LT(avg, 4.5);
}

TEST(GeneratorTest, FamilyRelationsAgreeInBothDirections) {
  std::unordered_map<std::string, const store::PersonWrite*> by_fnr;
  for (const auto& p : Shared()) by_fnr[p.record.fnr] = &p;
  size_t relations = 0;
  for (const auto& p : Shared()) {
    for (const auto& rel : CurrentRows(p, Property::kFamilierelasjon)) {
      ++relations;
      const std::string other = Str(rel, "relatertPerson");
      auto it = by_fnr.find(other);
      ASSERT_NE(it, by_fnr.end()) << other;
      const std::string their_role = Str(rel, "relatertPersonsRolle");
      const std::string my_role = Str(rel, "minRolleForPerson");
      bool back = false;
      for (const auto& r : CurrentRows(*it->second, Property::kFamilierelasjon)) {
        back |= Str(r, "relatertPerson") == p.record.fnr &&
                Str(r, "relatertPersonsRolle") == my_role &&
                Str(r, "minRolleForPerson") == their_role;
      }
      EXPECT_TRUE(back) << p.record.fnr << " -> " << other;
      if (my_role == "barn") {
        EXPECT_TRUE(their_role == "mor" || their_role == "far");
      }
    }
  }
  EXPECT_GT(relations, Shared().size() / 4);
}

TEST(GeneratorTest, SpouseSivilstandIsSymmetric) {
  std::unordered_map<std::string, const store::PersonWrite*> by_fnr;
  for (const auto& p : Shared()) by_fnr[p.record.fnr] = &p;
  size_t married = 0;
  for (const auto& p : Shared()) {
    auto rows = CurrentRows(p, Property::kSivilstand);
    ASSERT_EQ(rows.size(), 1u) << p.record.fnr;
    if (Str(rows[0], "sivilstand") != "gift") continue;
    ++married;
    const std::string spouse = Str(rows[0], "relatertVedSivilstand");
    auto it = by_fnr.find(spouse);
    ASSERT_NE(it, by_fnr.end()) << p.record.fnr;
    auto theirs = CurrentRows(*it->second, Property::kSivilstand);
    ASSERT_EQ(theirs.size(), 1u);
    EXPECT_EQ(Str(theirs[0], "relatertVedSivilstand"), p.record.fnr);
    if (Str(CurrentRows(p, Property::kStatus)[0], "status") == "doed") {
      // A dead person keeps "gift"; the survivor became enkeEllerEnkemann on the day of death.
      EXPECT_EQ(Str(theirs[0], "sivilstand"), "enkeEllerEnkemann") << p.record.fnr;
      auto doedsfall = CurrentRows(p, Property::kDoedsfall);
      ASSERT_EQ(doedsfall.size(), 1u);
      EXPECT_EQ(Str(theirs[0], "sivilstandsdato"), Str(doedsfall[0], "doedsdato"));
      continue;
    }
    EXPECT_EQ(Str(theirs[0], "sivilstand"), "gift") << p.record.fnr << " / " << spouse;
    EXPECT_EQ(Str(theirs[0], "sivilstandsdato"), Str(rows[0], "sivilstandsdato"));
  }
  EXPECT_GT(married, Shared().size() / 8);
}

TEST(GeneratorTest, StatusDistributionAndHistory) {
  std::map<std::string, size_t> status;
  std::map<freg::Hendelsetype, size_t> events;
  size_t strengt = 0, fortrolig = 0, matrikkel = 0;
  for (const auto& p : Shared()) {
    auto rows = CurrentRows(p, Property::kStatus);
    ASSERT_EQ(rows.size(), 1u) << p.record.fnr;
    ++status[Str(rows[0], "status")];
    for (const auto& v : p.versions) ++events[v.type];
    for (const auto& g : CurrentRows(p, Property::kAdressebeskyttelse)) {
      const std::string level = Str(g, "graderingsnivaa");
      if (level == "strengtFortrolig") {
        ++strengt;
        for (const auto& row : p.record.rows) {
          if (row.property == Property::kBostedsadresse) {
            EXPECT_NE(row.json.find("\"adressegradering\":\"strengtFortrolig\""),
                      std::string::npos);
          }
        }
      }
      if (level == "fortrolig") ++fortrolig;
    }
    for (const auto& row : p.record.rows) {
      matrikkel += row.property == Property::kBostedsadresse &&
                   row.json.find("\"matrikkeladresse\"") != std::string::npos;
    }
  }
  const double n = static_cast<double>(Shared().size());
  EXPECT_GT(status["bosatt"] / n, 0.78);
  EXPECT_LT(status["bosatt"] / n, 0.92);
  EXPECT_GT(status["doed"] / n, 0.02);
  EXPECT_GT(status["utflyttet"] / n, 0.01);
  EXPECT_GT((status["ikkeBosatt"] + status["midlertidig"] + status["inaktiv"]) / n, 0.02);
  EXPECT_GT(status["inaktiv"], 0u);
  EXPECT_GT(strengt, 0u);
  EXPECT_GT(fortrolig, 0u);
  EXPECT_GT(matrikkel, 0u);
  for (auto type :
       {freg::Hendelsetype::kPersonErOpprettet, freg::Hendelsetype::kPersonErDoed,
        freg::Hendelsetype::kPersonErUtflyttet, freg::Hendelsetype::kEndringINavn,
        freg::Hendelsetype::kEndringIBostedsadresse, freg::Hendelsetype::kEndringISivilstand,
        freg::Hendelsetype::kEndringIFamilierelasjon}) {
    EXPECT_GT(events[type], 0u) << freg::HendelsetypeName(type);
  }
}

TEST(GeneratorTest, EveryVersionValidatesAgainstTheSchema) {
  const auto& schema = freg::PersonSchema::Get();
  const auto parts = freg::PartSelection::All();
  std::string out;
  size_t checked = 0;
  const auto& persons = Shared();
  for (size_t i = 0; i < persons.size(); i += 7) {
    const auto& p = persons[i];
    for (const auto& v : p.versions) {
      out.clear();
      freg::RenderPersonJson(p.record, v.seq, parts, out);
      Status s = schema.ValidatePerson(out);
      ASSERT_TRUE(s.ok()) << s.error().message << "\n" << out;
      ++checked;
    }
  }
  EXPECT_GT(checked, 5000u);
}

TEST(GeneratorTest, RowsAreCanonical) {
  // The canonical form the schema would produce is exactly what the generator stores.
  const auto& schema = freg::PersonSchema::Get();
  const auto& persons = Shared();
  for (size_t i = 0; i < persons.size(); i += 101) {
    for (const auto& row : persons[i].record.rows) {
      auto canonical = schema.CanonicalRow(row.property, row.json);
      ASSERT_TRUE(canonical.ok()) << canonical.error().message << "\n" << row.json;
      EXPECT_EQ(*canonical, row.json);
    }
  }
}

// Guardianships, future powers of attorney and legal capacity (the fields added since OAS 1.5):
// realistic shares, real service-area pairs, guardians that are persons of the register (or have
// no Norwegian number), and every such document valid and canonical.
TEST(GeneratorTest, GuardianshipsAndLegalCapacity) {
  const std::set<std::pair<std::string, std::string>> pairs = {
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
      {"tingretten", "privatSkifteAvDoedsbo"}};
  const auto& persons = Shared();
  std::unordered_set<std::string> numbers;
  for (const auto& p : persons) numbers.insert(p.record.fnr);
  const auto& schema = freg::PersonSchema::Get();
  const auto all = freg::PartSelection::All();
  std::map<std::string, size_t> types;
  size_t adults = 0, minors = 0, adult_verge = 0, minor_verge = 0, capacity = 0, fratatt = 0;
  size_t foreign = 0, history = 0;
  std::string out;
  for (const auto& p : persons) {
    const auto status = CurrentRows(p, Property::kStatus);
    const auto foedsel = CurrentRows(p, Property::kFoedsel);
    if (status.empty() || Str(status[0], "status") != "bosatt" || foedsel.empty()) continue;
    // Age at the load (2017-10): born before 1999-10 is an adult.
    const bool adult = Str(foedsel[0], "foedselsdato") < "1999-10-01";
    (adult ? adults : minors) += 1;
    bool has_verge = false, has_capacity = false;
    for (const freg::Row& row : p.record.rows) {
      if (row.property == Property::kBegrensningIRettsligHandleevne ||
          row.property == Property::kFratattRettsligHandleevne) {
        has_capacity = true;
        fratatt += row.property == Property::kFratattRettsligHandleevne;
        EXPECT_EQ(row.from_seq, p.versions.front().seq);
      }
      if (row.property != Property::kVergemaalEllerFremtidsfullmakt) continue;
      if (row.current_until != freg::kOpen) {
        ++history;
        continue;
      }
      has_verge = true;
      const auto v = Parse(row.json);
      const std::string type = Str(v, "vergemaaltype");
      ++types[type];
      EXPECT_EQ(type == "mindreaarig", !adult) << row.json;
      EXPECT_EQ(Str(v, "embete").rfind("Statsforvalteren i ", 0), 0u) << row.json;
      const auto& verge = v.at("verge").as_object();
      if (verge.contains("navnFoedselsdato")) {
        ++foreign;
        EXPECT_FALSE(verge.contains("foedselsEllerDNummer"));
      } else {
        const std::string g = Str(verge, "foedselsEllerDNummer");
        EXPECT_TRUE(numbers.count(g)) << g;
        EXPECT_NE(g, p.record.fnr);
        EXPECT_TRUE(verge.contains("navn"));
      }
      const auto& areas = verge.at("tjenesteomraade").as_array();
      EXPECT_GE(areas.size(), 1u);
      EXPECT_LE(areas.size(), 15u);
      std::set<std::pair<std::string, std::string>> seen;
      for (const auto& a : areas) {
        std::pair<std::string, std::string> pair{Str(a.as_object(), "vergeTjenestevirksomhet"),
                                                 Str(a.as_object(), "vergeTjenesteoppgave")};
        EXPECT_TRUE(pairs.count(pair)) << pair.first << " " << pair.second;
        EXPECT_TRUE(seen.insert(pair).second);
      }
    }
    if (has_capacity) {
      ++capacity;
      EXPECT_TRUE(has_verge) << p.record.fnr;
    }
    if (has_verge) {
      (adult ? adult_verge : minor_verge) += 1;
      for (const auto& version : p.versions) {
        out.clear();
        freg::RenderPersonJson(p.record, version.seq, all, out);
        Status s = schema.ValidatePerson(out);
        ASSERT_TRUE(s.ok()) << s.error().message << "\n" << out;
      }
      for (const freg::Row& row : p.record.rows) {
        auto canonical = schema.CanonicalRow(row.property, row.json);
        ASSERT_TRUE(canonical.ok()) << canonical.error().message;
        EXPECT_EQ(*canonical, row.json);
      }
    }
  }
  ASSERT_GT(adults, 10000u);
  const double adult_share = static_cast<double>(adult_verge) / static_cast<double>(adults);
  const double minor_share = static_cast<double>(minor_verge) / static_cast<double>(minors);
  const double capacity_share = static_cast<double>(capacity) / static_cast<double>(adults);
  EXPECT_GT(adult_share, 0.01);
  EXPECT_LT(adult_share, 0.02);
  EXPECT_GT(minor_share, 0.001);
  EXPECT_LT(minor_share, 0.008);
  EXPECT_GT(capacity_share, 0.0008);
  EXPECT_LT(capacity_share, 0.0035);
  EXPECT_GT(fratatt, 0u);
  EXPECT_LT(fratatt, capacity);
  EXPECT_GT(foreign, 0u);
  EXPECT_GT(history, 0u);
  for (const char* type :
       {"voksen", "midlertidigForVoksen", "mindreaarig", "stadfestetFremtidsfullmakt"}) {
    EXPECT_GT(types[type], 0u) << type;
  }
}

}  // namespace
}  // namespace norreg::gen
