// The person search index on both stores: kept by BulkInsert and ApplyChanges in the write's
// transaction, loaded in one pass between BeginBulkLoad and EndBulkLoad, rebuilt on open when a
// bulk load did not end, and read back by term and by terms with the records.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/ids.hpp"
#include "freg/person_search.hpp"
#include "freg/record_codec.hpp"
#include "freg/search_text.hpp"
#include "store/register_store.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::StoreTest;

std::string Fnr(int day) {
  for (int i = 200; i < 250; ++i) {
    if (auto f = ids::MakeSyntheticFnr(1975, 6, day, i, ids::FnrKind::kFoedselsnummer)) return *f;
  }
  return {};
}

// A person named `fornavn etternavn`, created at `seq`.
PersonWrite Named(const std::string& fnr, std::string_view fornavn, std::string_view etternavn,
                  uint64_t seq) {
  PersonWrite p;
  p.record.fnr = fnr;
  p.versions.push_back({seq, freg::Hendelsetype::kPersonErOpprettet, 1'600'000'000'000});
  freg::Row row;
  row.property = freg::Property::kNavn;
  row.from_seq = seq;
  row.json = R"({"fornavn":")" + std::string(fornavn) + R"(","etternavn":")" +
             std::string(etternavn) + R"("})";
  p.record.rows.push_back(row);
  return p;
}

uint32_t Word(std::string_view word) {
  return freg::SearchTerm(freg::SearchTermKind::kNameWord, freg::PhoneticKey(word));
}

// Each term a group of its own: a person must have every one.
std::vector<std::vector<uint32_t>> Every(std::initializer_list<uint32_t> terms) {
  std::vector<std::vector<uint32_t>> groups;
  for (uint32_t t : terms) groups.push_back({t});
  return groups;
}

class SearchIndexTest : public StoreTest {
 protected:
  std::vector<int64_t> Posting(RegisterStore& store, uint32_t term, size_t limit = 100) {
    std::vector<int64_t> out;
    Status s = store.SearchPosting(term, limit, out);
    EXPECT_TRUE(s.ok()) << s.error().detail;
    return out;
  }
};
NORREG_STORE_TEST_SUITE(SearchIndexTest);

TEST_P(SearchIndexTest, BulkInsertIndexesInTheSameWrite) {
  auto store = Open();
  std::vector<PersonWrite> persons{Named(Fnr(1), "OLA", "NORDMANN", 1),
                                   Named(Fnr(2), "KARI", "NORDMANN", 2)};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  const auto both = Posting(**store, Word("NORDMANN"));
  ASSERT_EQ(both.size(), 2u);
  EXPECT_LT(both[0], both[1]);
  EXPECT_EQ(Posting(**store, Word("OLA")).size(), 1u);
  EXPECT_EQ(Posting(**store, Word("NORDMANN"), 1).size(), 1u);  // the limit holds
  EXPECT_TRUE(Posting(**store, Word("PER")).empty());
}

TEST_P(SearchIndexTest, ApplyChangesMovesThePersonsTerms) {
  auto store = Open();
  const std::string a = Fnr(3);
  std::vector<PersonWrite> persons{Named(a, "OLA", "NORDMANN", 1)};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  // A correction: the old name row disappears, a new one takes its place.
  std::vector<std::string> numbers{a};
  auto written = (*store)->ApplyChanges(
      numbers,
      [&](size_t, uint64_t next,
          const std::optional<StoredPerson>& current) -> Result<PersonWrite> {
        PersonWrite w{current->record, {{next, freg::Hendelsetype::kEndringINavn, 2}}};
        w.record.rows[0].removed_at = next;
        w.record.rows[0].current_until = next;
        PersonWrite fresh = Named(a, "PER", "NORDMANN", next);
        w.record.rows.insert(w.record.rows.begin(), fresh.record.rows[0]);
        return w;
      });
  ASSERT_TRUE(written.ok()) << written.error().detail;
  EXPECT_TRUE(Posting(**store, Word("OLA")).empty());
  EXPECT_EQ(Posting(**store, Word("PER")).size(), 1u);
  EXPECT_EQ(Posting(**store, Word("NORDMANN")).size(), 1u);

  // A failed write changes nothing in the index.
  std::vector<std::string> two{Fnr(4), a};
  auto failed = (*store)->ApplyChanges(
      two, [&](size_t i, uint64_t next, const std::optional<StoredPerson>&) -> Result<PersonWrite> {
        if (i == 1) return MakeError(ErrorCode::kInvalidInput, "ugyldig");
        return Named(Fnr(4), "ASLAK", "NORDMANN", next);
      });
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(Posting(**store, Word("ASLAK")).empty());
}

TEST_P(SearchIndexTest, BulkLoadIsIndexedAtItsEnd) {
  auto store = Open();
  ASSERT_TRUE((*store)->BeginBulkLoad().ok());
  std::vector<PersonWrite> first{Named(Fnr(5), "OLA", "NORDMANN", 1)};
  std::vector<PersonWrite> second{Named(Fnr(6), "KARI", "NORDMANN", 2)};
  ASSERT_TRUE((*store)->BulkInsert(first).ok());
  ASSERT_TRUE((*store)->BulkInsert(second).ok());
  ASSERT_TRUE((*store)->EndBulkLoad().ok());
  EXPECT_EQ(Posting(**store, Word("NORDMANN")).size(), 2u);
  // Writes after the load index at once again.
  std::vector<PersonWrite> third{Named(Fnr(7), "PER", "NORDMANN", 3)};
  ASSERT_TRUE((*store)->BulkInsert(third).ok());
  EXPECT_EQ(Posting(**store, Word("NORDMANN")).size(), 3u);
}

TEST_P(SearchIndexTest, ABulkLoadThatDidNotEndIsRebuiltOnOpen) {
  {
    auto store = Open();
    ASSERT_TRUE((*store)->BeginBulkLoad().ok());
    std::vector<PersonWrite> persons{Named(Fnr(8), "OLA", "NORDMANN", 1),
                                     Named(Fnr(9), "KARI", "NORDMANN", 2)};
    ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  }  // "crashed" before EndBulkLoad
  auto store = Open();
  EXPECT_EQ(Posting(**store, Word("NORDMANN")).size(), 2u);
  EXPECT_EQ(Posting(**store, Word("KARI")).size(), 1u);
}

// A register from before the current index layout (SQLite: a row per (term, person), schema 2;
// PostgreSQL: the same as a table, schema 4) is migrated and indexed again when it opens.
TEST_P(SearchIndexTest, ARegisterWithTheOldIndexLayoutIsIndexedAgainOnOpen) {
  {
    auto store = Open();
    std::vector<PersonWrite> persons{Named(Fnr(13), "OLA", "NORDMANN", 1),
                                     Named(Fnr(14), "KARI", "NORDMANN", 2)};
    ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  }
  if (GetParam() == testing::Backend::kSqlite) {
    test_register().ExecSql(
        "DROP TABLE search_postings; DROP TABLE search_terms_load;"
        "CREATE TABLE search_terms(term INTEGER NOT NULL, person_id INTEGER NOT NULL,"
        " PRIMARY KEY(term, person_id)) WITHOUT ROWID;"
        "CREATE TABLE search_terms_load(term INTEGER NOT NULL, person_id INTEGER NOT NULL);"
        "UPDATE schema_version SET version = 2");
  } else {
    test_register().ExecSql(
        "DROP INDEX persons_search; ALTER TABLE persons DROP COLUMN search_terms;"
        "CREATE TABLE search_terms(term integer NOT NULL, person_id bigint NOT NULL,"
        " PRIMARY KEY (term, person_id));"
        "CREATE TABLE search_terms_load(term integer NOT NULL, person_id bigint NOT NULL);"
        "UPDATE schema_version SET version = 4");
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(Posting(**store, Word("NORDMANN")).size(), 2u);
  EXPECT_EQ(Posting(**store, Word("KARI")).size(), 1u);
}

TEST_P(SearchIndexTest, FindRawBySearchTermsVisitsThePersonsWithEveryTerm) {
  auto store = Open();
  std::vector<PersonWrite> persons{Named(Fnr(10), "OLA", "NORDMANN", 1),
                                   Named(Fnr(11), "KARI", "NORDMANN", 2),
                                   Named(Fnr(12), "KARI", "OLSEN", 3)};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  auto find = [&](std::initializer_list<uint32_t> terms) {
    std::string buffer;
    std::vector<std::string> seen;
    auto narrowed = (*store)->FindRawBySearchTerms(Every(terms), buffer, [&](const RawPerson&) {
      auto record = freg::DecodeRecord(buffer);
      seen.push_back(record.ok() ? record->fnr : "?");
      return Status::Ok();
    });
    EXPECT_TRUE(narrowed.ok() && *narrowed) << (narrowed.ok() ? "" : narrowed.error().detail);
    std::sort(seen.begin(), seen.end());
    return seen;
  };
  EXPECT_EQ(find({Word("NORDMANN")}), (std::vector<std::string>{Fnr(10), Fnr(11)}));
  EXPECT_EQ(find({Word("KARI"), Word("NORDMANN")}), (std::vector<std::string>{Fnr(11)}));
  EXPECT_EQ(find({Word("NORDMANN"), Word("OLSEN")}), (std::vector<std::string>{}));
  EXPECT_EQ(find({Word("PER")}), (std::vector<std::string>{}));
  const uint32_t pair = freg::NamePairTerm(freg::PhoneticKey("KARI"), freg::PhoneticKey("OLSEN"));
  EXPECT_EQ(find({pair, Word("KARI")}), (std::vector<std::string>{Fnr(12)}));

  // The first non-OK status of the visitor stops the search and is returned.
  std::string buffer;
  int visits = 0;
  auto stopped = (*store)->FindRawBySearchTerms(Every({Word("NORDMANN")}), buffer,
                                                [&](const RawPerson&) -> Status {
                                                  ++visits;
                                                  return MakeError(ErrorCode::kConflict, "nok");
                                                });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, ErrorCode::kConflict);
  EXPECT_EQ(visits, 1);
}

// Many persons sharing a term and few sharing another: the store narrows either way (posting
// intersection or checks per candidate) to exactly the persons with both.
TEST_P(SearchIndexTest, FindRawBySearchTermsNarrowsABroadTermByARareOne) {
  auto store = Open();
  std::vector<PersonWrite> persons;
  for (int day = 1; day <= 28; ++day) {
    for (int i = 200; i < 210; ++i) {
      auto fnr = ids::MakeSyntheticFnr(1980, 3, day, i, ids::FnrKind::kFoedselsnummer);
      if (!fnr) continue;
      const bool rare = persons.size() % 37 == 0;
      persons.push_back(Named(*fnr, rare ? "SIGVALD" : "OLA", "HANSEN", persons.size() + 1));
    }
  }
  ASSERT_GT(persons.size(), 200u);
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  size_t rare = 0;
  for (const auto& p : persons) rare += p.record.rows[0].json.find("SIGVALD") != std::string::npos;
  for (const auto& terms :
       {Every({Word("HANSEN"), Word("SIGVALD")}), Every({Word("SIGVALD"), Word("HANSEN")})}) {
    std::string buffer;
    size_t seen = 0;
    auto narrowed = (*store)->FindRawBySearchTerms(terms, buffer, [&](const RawPerson&) {
      auto record = freg::DecodeRecord(buffer);
      EXPECT_TRUE(record.ok() && record->rows[0].json.find("SIGVALD") != std::string::npos);
      ++seen;
      return Status::Ok();
    });
    ASSERT_TRUE(narrowed.ok());
    EXPECT_EQ(seen, rare);
  }
}

// A group matches a person by any of its terms: a name in the scopes a search chooses — living
// persons' current names, dead persons', earlier names — and only there; with a broad group to
// intersect with, and with one to check per candidate.
TEST_P(SearchIndexTest, FindRawBySearchTermsTakesAnyTermOfAGroup) {
  using freg::ScopedTerm;
  using freg::TermScope;
  auto store = Open();
  std::vector<PersonWrite> persons;
  for (int day = 1; day <= 28; ++day) {
    for (int i = 400; i < 410; ++i) {
      auto fnr = ids::MakeSyntheticFnr(1960, 7, day, i, ids::FnrKind::kFoedselsnummer);
      if (fnr) persons.push_back(Named(*fnr, "OLA", "HANSEN", persons.size() + 1));
    }
  }
  ASSERT_GT(persons.size(), 200u);
  // Three of them named NORDMANN: one living, one dead, one only in an earlier name.
  const uint64_t later = persons.size() + 1;
  auto name = [](PersonWrite& p, std::string_view etternavn) {
    p.record.rows[0].json = R"({"fornavn":"OLA","etternavn":")" + std::string(etternavn) + "\"}";
  };
  name(persons[10], "NORDMANN");
  name(persons[20], "NORDMANN");
  freg::Row status;
  status.property = freg::Property::kStatus;
  status.from_seq = persons[20].versions.front().seq;
  status.json = R"({"status":"doed"})";
  persons[20].record.rows.push_back(status);
  freg::SortRows(persons[20].record.rows);
  name(persons[30], "NORDMANN");
  persons[30].record.rows[0].current_until = later;
  freg::Row renamed = persons[30].record.rows[0];
  renamed.from_seq = later;
  renamed.current_until = freg::kOpen;
  renamed.json = R"({"fornavn":"OLA","etternavn":"BERG"})";
  persons[30].record.rows.push_back(renamed);
  persons[30].versions.push_back({later, freg::Hendelsetype::kEndringINavn, 1'600'000'000'000});
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());

  const uint32_t nordmann = Word("NORDMANN"), hansen = Word("HANSEN");
  auto find = [&](std::vector<std::vector<uint32_t>> groups) {
    std::string buffer;
    std::vector<std::string> seen;
    auto narrowed = (*store)->FindRawBySearchTerms(groups, buffer, [&](const RawPerson&) {
      auto record = freg::DecodeRecord(buffer);
      seen.push_back(record.ok() ? record->fnr : "?");
      return Status::Ok();
    });
    EXPECT_TRUE(narrowed.ok() && *narrowed);
    std::sort(seen.begin(), seen.end());
    return seen;
  };
  auto fnrs = [&](std::initializer_list<size_t> indexes) {
    std::vector<std::string> out;
    for (size_t i : indexes) out.push_back(persons[i].record.fnr);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(find({{nordmann}}), fnrs({10}));
  EXPECT_EQ(find({{nordmann, ScopedTerm(nordmann, TermScope::kCurrentDead)}}), fnrs({10, 20}));
  EXPECT_EQ(find({{nordmann, ScopedTerm(nordmann, TermScope::kHistory)}}), fnrs({10, 30}));
  EXPECT_EQ(find({{nordmann, ScopedTerm(nordmann, TermScope::kCurrentDead),
                   ScopedTerm(nordmann, TermScope::kHistory),
                   ScopedTerm(nordmann, TermScope::kHistoryDead)}}),
            fnrs({10, 20, 30}));
  // A broad group (HANSEN, living or dead) after a rare one, and before it.
  const std::vector<uint32_t> any_hansen{hansen, ScopedTerm(hansen, TermScope::kCurrentDead)};
  const std::vector<uint32_t> any_nordmann{nordmann, ScopedTerm(nordmann, TermScope::kHistory)};
  EXPECT_EQ(find({any_nordmann, any_hansen}), fnrs({}));
  EXPECT_EQ(
      find({any_hansen, {Word("OLA"), ScopedTerm(Word("OLA"), TermScope::kCurrentDead)}}).size(),
      persons.size() - 3);  // the three NORDMANNs (one now BERG) are no HANSENs
  EXPECT_EQ(find({any_hansen, {ScopedTerm(Word("OLA"), TermScope::kCurrentDead)}}), fnrs({}));
  // A group of several terms after few candidates is read and intersected (not a seek per term
  // and candidate); after many, too, when its posting is short enough.
  EXPECT_EQ(find({{ScopedTerm(Word("OLA"), TermScope::kCurrentDead)},
                  {nordmann, ScopedTerm(nordmann, TermScope::kCurrentDead)}}),
            fnrs({20}));
  EXPECT_EQ(find({{Word("OLA"), ScopedTerm(Word("OLA"), TermScope::kCurrentDead)}, any_nordmann}),
            fnrs({10, 30}));
}

// More candidates than a store answers in one piece (PostgreSQL reads them through a cursor past
// 1 024): every one is visited once, and stopping midway stops the search.
TEST_P(SearchIndexTest, FindRawBySearchTermsVisitsAManyPersonTermOnce) {
  auto store = Open();
  std::vector<PersonWrite> persons;
  for (int year = 1940; year < 2000 && persons.size() < 1500; ++year) {
    for (int day = 1; day <= 28 && persons.size() < 1500; ++day) {
      for (int i = 300; i < 310; ++i) {
        auto fnr = ids::MakeSyntheticFnr(year, 5, day, i, ids::FnrKind::kFoedselsnummer);
        if (!fnr) continue;
        persons.push_back(Named(*fnr, "OLA", "HANSEN", persons.size() + 1));
        break;
      }
    }
  }
  ASSERT_EQ(persons.size(), 1500u);
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  std::string buffer;
  std::set<int64_t> seen;
  size_t visits = 0;
  auto all =
      (*store)->FindRawBySearchTerms(Every({Word("HANSEN")}), buffer, [&](const RawPerson& person) {
        seen.insert(person.person_id);
        ++visits;
        return Status::Ok();
      });
  ASSERT_TRUE(all.ok()) << all.error().detail;
  EXPECT_EQ(visits, 1500u);
  EXPECT_EQ(seen.size(), 1500u);
  visits = 0;
  auto stopped = (*store)->FindRawBySearchTerms(
      Every({Word("HANSEN")}), buffer, [&](const RawPerson&) -> Status {
        return ++visits == 1200 ? Status(MakeError(ErrorCode::kConflict, "nok")) : Status::Ok();
      });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(visits, 1200u);
  // The store is still usable afterwards (the cursor's transaction did not stay open).
  EXPECT_EQ(Posting(**store, Word("OLA"), 2000).size(), 1500u);
}

}  // namespace
}  // namespace norreg::store
