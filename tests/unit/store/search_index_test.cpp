// The person search index on both stores: kept by BulkInsert and ApplyChanges in the write's
// transaction, loaded in one pass between BeginBulkLoad and EndBulkLoad, rebuilt on open when a
// bulk load did not end, and read back by term and by person id.
#include <gtest/gtest.h>

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
      numbers, [&](size_t, uint64_t next, const std::optional<StoredPerson>& current)
                   -> Result<PersonWrite> {
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
  EXPECT_TRUE(Posting(**store, Word("NORDMANN")).empty());  // kept aside meanwhile
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

TEST_P(SearchIndexTest, FindRawByPersonIdsAnswersInOrder) {
  auto store = Open();
  std::vector<PersonWrite> persons{Named(Fnr(10), "OLA", "NORDMANN", 1),
                                   Named(Fnr(11), "KARI", "NORDMANN", 2)};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  const auto ids = Posting(**store, Word("NORDMANN"));
  ASSERT_EQ(ids.size(), 2u);
  std::vector<int64_t> asked{ids[1], 999999, ids[0]};
  std::string buffer;
  std::vector<std::string> seen;
  Status s = (*store)->FindRawByPersonIds(
      asked, buffer, [&](size_t, const Result<RawPerson>& person) -> Status {
        if (!person.ok()) {
          seen.push_back(person.error().code == ErrorCode::kNotFound ? "-" : "?");
          return Status::Ok();
        }
        auto record = freg::DecodeRecord(buffer);
        seen.push_back(record.ok() ? record->fnr : "?");
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(seen, (std::vector<std::string>{Fnr(11), "-", Fnr(10)}));
}

}  // namespace
}  // namespace norreg::store
