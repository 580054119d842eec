#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "common/ids.hpp"
#include "store/register_store.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::MakePerson;
using testing::TempFolder;

std::string Fnr(int day, int individ) {
  for (int i = individ; i < individ + 50; ++i) {
    if (auto f = ids::MakeSyntheticFnr(1980, 1, day, i, ids::FnrKind::kFoedselsnummer)) return *f;
  }
  return {};
}

Result<std::unique_ptr<RegisterStore>> Open(const TempFolder& dir) {
  return OpenSqliteStore({.data_dir = dir.path()});
}

TEST(SqliteStoreTest, EmptyRegister) {
  TempFolder dir;
  auto store = Open(dir);
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ((*store)->LatestSeq(), 0u);
  EXPECT_EQ((*store)->FindByFnr(Fnr(1, 100)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*store)->FindByVersion(1).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE((*store)->Events(1, 10)->empty());
}

TEST(SqliteStoreTest, DocumentKeyAndDataSurviveReopen) {
  TempFolder dir;
  std::array<uint8_t, 16> key{};
  const std::string a = Fnr(2, 100);
  {
    auto store = Open(dir);
    key = (*store)->DocumentKey();
    std::vector<PersonWrite> persons{MakePerson(a, {1, 3}), MakePerson(Fnr(3, 100), {2})};
    ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  }
  auto store = Open(dir);
  EXPECT_EQ((*store)->DocumentKey(), key);
  EXPECT_EQ((*store)->LatestSeq(), 3u);
  auto person = (*store)->FindByFnr(a);
  ASSERT_TRUE(person.ok());
  EXPECT_EQ(person->latest_seq, 3u);
  EXPECT_EQ(person->record.rows.size(), 2u);
  auto by_version = (*store)->FindByVersion(1);
  ASSERT_TRUE(by_version.ok());
  EXPECT_EQ(by_version->record.fnr, a);
}

TEST(SqliteStoreTest, EventsAscendWithTypes) {
  TempFolder dir;
  auto store = Open(dir);
  std::vector<PersonWrite> persons{MakePerson(Fnr(4, 100), {1, 4}),
                                   MakePerson(Fnr(5, 100), {2, 3})};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  auto events = (*store)->Events(2, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].seq, 2u);
  EXPECT_EQ((*events)[0].type, freg::Hendelsetype::kPersonErOpprettet);
  EXPECT_EQ((*events)[1].type, freg::Hendelsetype::kEndringINavn);
  EXPECT_EQ((*events)[2].fnr, Fnr(4, 100));
  EXPECT_EQ((*store)->Events(3, 1)->size(), 1u);
}

TEST(SqliteStoreTest, EarlierNumbersFindThePerson) {
  TempFolder dir;
  auto store = Open(dir);
  PersonWrite p = MakePerson(Fnr(6, 100), {1});
  p.record.other_ids.push_back(Fnr(7, 100));
  std::vector<PersonWrite> persons{p};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  auto found = (*store)->FindByFnr(Fnr(7, 100));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->record.fnr, Fnr(6, 100));
}

TEST(SqliteStoreTest, BulkInsertIsAllOrNothing) {
  TempFolder dir;
  auto store = Open(dir);
  std::vector<PersonWrite> first{MakePerson(Fnr(8, 100), {1})};
  ASSERT_TRUE((*store)->BulkInsert(first).ok());
  // The second person reuses seq 1: the whole batch must be refused.
  std::vector<PersonWrite> batch{MakePerson(Fnr(9, 100), {2}), MakePerson(Fnr(10, 100), {1})};
  auto s = (*store)->BulkInsert(batch);
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ((*store)->FindByFnr(Fnr(9, 100)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*store)->LatestSeq(), 1u);
  // A number that is already there is refused too.
  std::vector<PersonWrite> again{MakePerson(Fnr(8, 100), {5})};
  EXPECT_EQ((*store)->BulkInsert(again).error().code, ErrorCode::kConflict);
}

TEST(SqliteStoreTest, ApplyChangesAddsVersionsAndRollsBackOnError) {
  TempFolder dir;
  auto store = Open(dir);
  const std::string a = Fnr(11, 100), b = Fnr(12, 100);
  std::vector<PersonWrite> persons{MakePerson(a, {1})};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());

  auto change = [&](size_t, uint64_t next,
                    const std::optional<StoredPerson>& current) -> Result<PersonWrite> {
    PersonWrite w = current ? PersonWrite{current->record, {}} : MakePerson(b, {next});
    if (current) w.versions.push_back({next, freg::Hendelsetype::kEndringINavn, 1});
    return w;
  };
  std::vector<std::string> numbers{a, b};
  auto last = (*store)->ApplyChanges(numbers, change);
  ASSERT_TRUE(last.ok()) << last.error().detail;
  EXPECT_EQ(*last, 3u);
  EXPECT_EQ((*store)->FindByFnr(a)->latest_seq, 2u);
  EXPECT_EQ((*store)->FindByFnr(b)->latest_seq, 3u);

  // A failing change in the middle stores nothing of the batch.
  const std::string c = Fnr(13, 100);
  std::vector<std::string> more{c, a};
  auto failed = (*store)->ApplyChanges(
      more,
      [&](size_t index, uint64_t next, const std::optional<StoredPerson>&) -> Result<PersonWrite> {
        if (index == 1) return MakeError(ErrorCode::kInvalidInput, "ugyldig");
        return MakePerson(c, {next});
      });
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ((*store)->FindByFnr(c).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*store)->LatestSeq(), 3u);
}

TEST(SqliteStoreTest, PreEncodedBatchIsStoredTheSame) {
  TempFolder dir;
  auto store = Open(dir);
  std::vector<PersonWrite> persons{MakePerson(Fnr(15, 100), {1, 2}), MakePerson(Fnr(16, 100), {3})};
  std::vector<std::string> encoded = (*store)->EncodeForBulkInsert(persons);
  ASSERT_EQ(encoded.size(), 2u);
  ASSERT_TRUE((*store)->BulkInsert(persons, &encoded).ok());
  auto found = (*store)->FindByFnr(Fnr(15, 100));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->record.rows.size(), 2u);
  EXPECT_EQ(found->record.rows[0].json, persons[0].record.rows[0].json);
  // An encoding of the wrong length is not trusted: the store encodes the batch itself.
  std::vector<PersonWrite> more{MakePerson(Fnr(17, 100), {4})};
  ASSERT_TRUE((*store)->BulkInsert(more, &encoded).ok());
  EXPECT_EQ((*store)->FindByFnr(Fnr(17, 100))->record.fnr, Fnr(17, 100));
}

TEST(SqliteStoreTest, RawReadsMatchDecodedReads) {
  TempFolder dir;
  auto store = Open(dir);
  std::vector<PersonWrite> persons{MakePerson(Fnr(14, 100), {1, 2})};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  std::string buffer;
  auto raw = (*store)->FindRawByFnr(Fnr(14, 100), buffer);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->latest_seq, 2u);
  EXPECT_FALSE(buffer.empty());
  EXPECT_TRUE((*store)->FindRawByVersion(2, buffer).ok());
  EXPECT_EQ((*store)->FindRawByVersion(99, buffer).error().code, ErrorCode::kNotFound);
}

// Reads inside InReadSnapshot all see the register as it was when the first one ran: a person
// written meanwhile appears only after the snapshot. Nested snapshots run inside the outer one and
// an error of `fn` is its result.
TEST(SqliteStoreTest, ReadSnapshotHidesWritesMadeDuringIt) {
  TempFolder dir;
  auto store = Open(dir);
  std::vector<PersonWrite> first{MakePerson(Fnr(18, 100), {1})};
  ASSERT_TRUE((*store)->BulkInsert(first).ok());
  std::string buffer;
  Status inside = (*store)->InReadSnapshot([&]() -> Status {
    EXPECT_TRUE((*store)->FindRawByFnr(Fnr(18, 100), buffer).ok());
    std::vector<PersonWrite> later{MakePerson(Fnr(19, 100), {2})};
    EXPECT_TRUE((*store)->BulkInsert(later).ok());
    EXPECT_EQ((*store)->FindRawByFnr(Fnr(19, 100), buffer).error().code, ErrorCode::kNotFound);
    EXPECT_EQ((*store)->FindRawByVersion(2, buffer).error().code, ErrorCode::kNotFound);
    return (*store)->InReadSnapshot([&]() -> Status {
      EXPECT_EQ((*store)->LatestSeq(), 1u);
      return MakeError(ErrorCode::kConflict, "from fn");
    });
  });
  EXPECT_EQ(inside.error().code, ErrorCode::kConflict);
  EXPECT_TRUE((*store)->FindRawByFnr(Fnr(19, 100), buffer).ok());
  EXPECT_EQ((*store)->LatestSeq(), 2u);
  EXPECT_TRUE((*store)->InReadSnapshot([] { return Status::Ok(); }).ok());
}

TEST(SqliteStoreTest, DictionaryIsInstalledOnceAndUsedAfterReopen) {
  TempFolder dir;
  std::vector<PersonWrite> persons;
  for (int day = 1; persons.size() < 600; ++day) {
    for (int individ = 0; individ < 500 && persons.size() < 600; individ += 7) {
      auto fnr = ids::MakeSyntheticFnr(1975, 5, day, individ, ids::FnrKind::kFoedselsnummer);
      if (fnr) persons.push_back(MakePerson(*fnr, {persons.size() + 1}));
    }
  }
  {
    auto store = Open(dir);
    std::vector<std::string> samples;
    for (const auto& p : persons) samples.push_back(p.record.rows[0].json + p.record.fnr);
    ASSERT_TRUE((*store)->InstallDictionary(samples).ok());
    EXPECT_EQ((*store)->InstallDictionary(samples).error().code, ErrorCode::kConflict);
    Status inserted = (*store)->BulkInsert(persons);
    ASSERT_TRUE(inserted.ok()) << inserted.error().message << " " << inserted.error().detail;
  }
  auto store = Open(dir);
  auto found = (*store)->FindByFnr(persons[300].record.fnr);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->record.rows[0].json, persons[300].record.rows[0].json);
}

TEST(SqliteStoreTest, RefusesARegisterFromANewerVersion) {
  TempFolder dir;
  { ASSERT_TRUE(Open(dir).ok()); }
  sqlite3* db = nullptr;
  sqlite3_open((dir.path() + "/register.db").c_str(), &db);
  sqlite3_exec(db, "UPDATE schema_version SET version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto store = Open(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("nyere"), std::string::npos);
}

}  // namespace
}  // namespace norreg::store
