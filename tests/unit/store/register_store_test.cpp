// RegisterStore on both stores (SQLite, and PostgreSQL when NORREG_TEST_PG is set): lookups,
// events, writes that are all-or-nothing, snapshots, the dictionary and the schema version.
#include "store/register_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "common/ids.hpp"
#include "freg/record_codec.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::MakePerson;
using testing::StoreTest;

std::string Fnr(int day, int individ) {
  for (int i = individ; i < individ + 50; ++i) {
    if (auto f = ids::MakeSyntheticFnr(1980, 1, day, i, ids::FnrKind::kFoedselsnummer)) return *f;
  }
  return {};
}

class RegisterStoreTest : public StoreTest {};
NORREG_STORE_TEST_SUITE(RegisterStoreTest);

TEST_P(RegisterStoreTest, EmptyRegister) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ((*store)->LatestSeq(), 0u);
  EXPECT_EQ((*store)->FindByFnr(Fnr(1, 100)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*store)->FindByVersion(1).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE((*store)->Events(1, 10)->empty());
}

TEST_P(RegisterStoreTest, DocumentKeyAndDataSurviveReopen) {
  std::array<uint8_t, 16> key{};
  const std::string a = Fnr(2, 100);
  {
    auto store = Open();
    key = (*store)->DocumentKey();
    std::vector<PersonWrite> persons{MakePerson(a, {1, 3}), MakePerson(Fnr(3, 100), {2})};
    ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  }
  auto store = Open();
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

TEST_P(RegisterStoreTest, EventsAscendWithTypes) {
  auto store = Open();
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

TEST_P(RegisterStoreTest, EarlierNumbersFindThePerson) {
  auto store = Open();
  PersonWrite p = MakePerson(Fnr(6, 100), {1});
  p.record.other_ids.push_back(Fnr(7, 100));
  std::vector<PersonWrite> persons{p};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  auto found = (*store)->FindByFnr(Fnr(7, 100));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->record.fnr, Fnr(6, 100));
}

// The bulk lookups answer every entry in order, as the single lookups would, and stop at the
// visitor's first error.
TEST_P(RegisterStoreTest, BulkLookupsAnswerEveryEntryInOrder) {
  auto store = Open();
  PersonWrite a = MakePerson(Fnr(8, 100), {1, 3});
  a.record.other_ids.push_back(Fnr(9, 100));
  PersonWrite b = MakePerson(Fnr(10, 100), {2});
  std::vector<PersonWrite> persons{a, b};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  const std::vector<std::string> fnrs = {Fnr(10, 100), "not a number", Fnr(11, 100),
                                         Fnr(9, 100),  Fnr(10, 100),   ""};
  std::string buffer;
  std::vector<std::pair<size_t, std::string>> seen;  // index, person's fnr or "-"
  ASSERT_TRUE((*store)
                  ->FindRawByFnrs(fnrs, buffer,
                                  [&](size_t i, const Result<RawPerson>& person) -> Status {
                                    if (!person.ok()) {
                                      EXPECT_EQ(person.error().code, ErrorCode::kNotFound);
                                      seen.emplace_back(i, "-");
                                      return Status::Ok();
                                    }
                                    freg::RecordView view;
                                    EXPECT_TRUE(view.Parse(buffer).ok());
                                    seen.emplace_back(i, std::string(view.fnr()));
                                    return Status::Ok();
                                  })
                  .ok());
  const std::vector<std::pair<size_t, std::string>> expected = {
      {0, Fnr(10, 100)}, {1, "-"}, {2, "-"}, {3, Fnr(8, 100)}, {4, Fnr(10, 100)}, {5, "-"}};
  EXPECT_EQ(seen, expected);

  const std::vector<uint64_t> seqs = {3, 0, 99, 2, 1};
  std::vector<std::pair<size_t, int64_t>> by_version;  // index, person_id or -1
  ASSERT_TRUE((*store)
                  ->FindRawByVersions(seqs, buffer,
                                      [&](size_t i, const Result<RawPerson>& person) -> Status {
                                        by_version.emplace_back(
                                            i, person.ok() ? person->person_id : -1);
                                        return Status::Ok();
                                      })
                  .ok());
  const int64_t id_a = (*store)->FindByFnr(Fnr(8, 100))->person_id;
  const int64_t id_b = (*store)->FindByFnr(Fnr(10, 100))->person_id;
  const std::vector<std::pair<size_t, int64_t>> expected_versions = {
      {0, id_a}, {1, -1}, {2, -1}, {3, id_b}, {4, id_a}};
  EXPECT_EQ(by_version, expected_versions);

  // The visitor's error ends the lookups and is the answer.
  size_t calls = 0;
  Status stopped = (*store)->FindRawByFnrs(fnrs, buffer, [&](size_t, const Result<RawPerson>&) {
    ++calls;
    return Status(MakeError(ErrorCode::kConflict, "stop"));
  });
  EXPECT_EQ(stopped.error().code, ErrorCode::kConflict);
  EXPECT_EQ(calls, 1u);
  EXPECT_TRUE(
      (*store)
          ->FindRawByFnrs({}, buffer, [](size_t, const Result<RawPerson>&) { return Status::Ok(); })
          .ok());
}

TEST_P(RegisterStoreTest, BulkInsertIsAllOrNothing) {
  auto store = Open();
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

TEST_P(RegisterStoreTest, ApplyChangesAddsVersionsAndRollsBackOnError) {
  auto store = Open();
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

TEST_P(RegisterStoreTest, PreEncodedBatchIsStoredTheSame) {
  auto store = Open();
  std::vector<PersonWrite> persons{MakePerson(Fnr(15, 100), {1, 2}), MakePerson(Fnr(16, 100), {3})};
  EncodedPersons encoded = (*store)->EncodeForBulkInsert(persons);
  ASSERT_EQ(encoded.blobs.size(), 2u);
  ASSERT_EQ(encoded.terms.size(), 2u);
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

TEST_P(RegisterStoreTest, RawReadsMatchDecodedReads) {
  auto store = Open();
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
TEST_P(RegisterStoreTest, ReadSnapshotHidesWritesMadeDuringIt) {
  auto store = Open();
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

TEST_P(RegisterStoreTest, DictionaryIsInstalledOnceAndUsedAfterReopen) {
  std::vector<PersonWrite> persons;
  for (int day = 1; persons.size() < 600; ++day) {
    for (int individ = 0; individ < 500 && persons.size() < 600; individ += 7) {
      auto fnr = ids::MakeSyntheticFnr(1975, 5, day, individ, ids::FnrKind::kFoedselsnummer);
      if (fnr) persons.push_back(MakePerson(*fnr, {persons.size() + 1}));
    }
  }
  {
    auto store = Open();
    std::vector<std::string> samples;
    for (const auto& p : persons) samples.push_back(p.record.rows[0].json + p.record.fnr);
    ASSERT_TRUE((*store)->InstallDictionary(samples).ok());
    EXPECT_EQ((*store)->InstallDictionary(samples).error().code, ErrorCode::kConflict);
    Status inserted = (*store)->BulkInsert(persons);
    ASSERT_TRUE(inserted.ok()) << inserted.error().message << " " << inserted.error().detail;
  }
  auto store = Open();
  auto found = (*store)->FindByFnr(persons[300].record.fnr);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->record.rows[0].json, persons[300].record.rows[0].json);
}

TEST_P(RegisterStoreTest, RefusesARegisterFromANewerVersion) {
  { ASSERT_TRUE(Open().ok()); }
  test_register().ExecSql("UPDATE schema_version SET version=99");
  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("nyere"), std::string::npos);
}

TEST_P(RegisterStoreTest, EventsAtTheEdges) {
  auto store = Open();
  std::vector<PersonWrite> persons{MakePerson(Fnr(20, 100), {1, 2}), MakePerson(Fnr(21, 100), {3})};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  EXPECT_EQ((*store)->Events(0, std::numeric_limits<size_t>::max())->size(), 3u);
  EXPECT_TRUE((*store)->Events(1, 0)->empty());
  EXPECT_TRUE((*store)->Events(4, 10)->empty());
  EXPECT_TRUE((*store)->Events(std::numeric_limits<uint64_t>::max(), 10)->empty());
  EXPECT_EQ((*store)->FindByVersion(std::numeric_limits<uint64_t>::max()).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ((*store)->FindByFnr("not a number").error().code, ErrorCode::kNotFound);
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok()) << stats.error().detail;
  EXPECT_EQ(stats->persons, 2u);
  EXPECT_EQ(stats->versions, 3u);
  EXPECT_EQ(stats->latest_seq, 3u);
  EXPECT_GT(stats->bytes_on_disk, 0u);
  // The size alone (what `norreg generate` prints), without counting rows: the same figure.
  auto bytes = (*store)->BytesOnDisk();
  ASSERT_TRUE(bytes.ok()) << bytes.error().detail;
  EXPECT_EQ(*bytes, stats->bytes_on_disk);
}

// Everything a reader can see of a register.
struct Observed {
  RegisterStats stats;
  std::vector<std::tuple<uint64_t, int64_t, std::string, int, int64_t>> events;
  std::map<std::string, std::pair<int64_t, std::string>> persons;  // number -> (id, raw record)
  std::vector<std::pair<int64_t, uint64_t>> snapshot;              // at the latest seq
  bool operator==(const Observed& o) const {
    return stats.persons == o.stats.persons && stats.versions == o.stats.versions &&
           stats.latest_seq == o.stats.latest_seq && events == o.events && persons == o.persons &&
           snapshot == o.snapshot;
  }
};

Observed Observe(RegisterStore& store, const std::vector<std::string>& numbers) {
  Observed o;
  o.stats = store.Stats().value();
  const auto events = store.Events(0, 1000);
  EXPECT_TRUE(events.ok());
  for (const EventRow& e : events.value()) {
    o.events.emplace_back(e.seq, e.person_id, e.fnr, static_cast<int>(e.type),
                          e.ajourholdstidspunkt);
  }
  for (const std::string& number : numbers) {
    std::string raw;
    if (auto found = store.FindRawByFnr(number, raw); found.ok()) {
      o.persons[number] = {found->person_id, raw};
    }
  }
  EXPECT_TRUE(store
                  .SnapshotScan(o.stats.latest_seq, SnapshotRecords::kSkip,
                                [&](const SnapshotEntry& e) {
                                  o.snapshot.emplace_back(e.person_id, e.version_seq);
                                  return Status::Ok();
                                })
                  .ok());
  return o;
}

// Every refused write (a taken number or sekvensnummer, a duplicate inside the batch, a bad
// number, a person without versions, a failing change) leaves the register exactly as it was, and
// the next good write continues the sequence without a gap.
TEST_P(RegisterStoreTest, RefusedWritesLeaveTheRegisterUnchanged) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  RegisterStore& s = **store;
  const std::string a = Fnr(22, 100), b = Fnr(23, 100), earlier = Fnr(24, 100);
  const std::string fresh = Fnr(25, 100), fresh2 = Fnr(26, 100);
  PersonWrite with_earlier = MakePerson(b, {2});
  with_earlier.record.other_ids.push_back(earlier);
  std::vector<PersonWrite> first{MakePerson(a, {1, 3}), with_earlier};
  ASSERT_TRUE(s.BulkInsert(first).ok());
  const std::vector<std::string> numbers{a, b, earlier, fresh, fresh2};
  const Observed before = Observe(s, numbers);
  ASSERT_EQ(before.persons.size(), 3u);

  auto bulk = [&](std::vector<PersonWrite> batch) { return s.BulkInsert(batch).error().code; };
  EXPECT_EQ(bulk({MakePerson(fresh, {4}), MakePerson(a, {5})}), ErrorCode::kConflict);
  EXPECT_EQ(s.BulkInsert(std::vector<PersonWrite>{MakePerson(earlier, {4})}).error().message,
            "nummeret finnes allerede i registeret");
  EXPECT_EQ(bulk({MakePerson(fresh, {3})}), ErrorCode::kConflict);
  EXPECT_EQ(
      s.BulkInsert(std::vector<PersonWrite>{MakePerson(fresh, {4, 5}), MakePerson(fresh2, {3})})
          .error()
          .message,
      "sekvensnummer 3 er allerede brukt");
  EXPECT_EQ(bulk({MakePerson(fresh, {4}), MakePerson(fresh2, {4})}), ErrorCode::kConflict);
  EXPECT_EQ(
      s.BulkInsert(std::vector<PersonWrite>{MakePerson(fresh, {4, 6}), MakePerson(fresh2, {6})})
          .error()
          .message,
      "sekvensnummer 6 er allerede brukt");
  EXPECT_EQ(bulk({MakePerson(fresh, {4}), MakePerson(fresh, {5})}), ErrorCode::kConflict);
  EXPECT_EQ(bulk({MakePerson(fresh, {4}), MakePerson("123", {5})}), ErrorCode::kInvalidInput);
  PersonWrite bad_other = MakePerson(fresh, {4});
  bad_other.record.other_ids.push_back("0101");
  EXPECT_EQ(bulk({bad_other}), ErrorCode::kInvalidInput);
  EXPECT_EQ(bulk({MakePerson(fresh, {4}), PersonWrite{}}), ErrorCode::kInvalidInput);
  EXPECT_EQ(Observe(s, numbers), before);

  std::vector<std::string> changes{fresh, a};
  auto failing =
      s.ApplyChanges(changes,
                     [&](size_t index, uint64_t next,
                         const std::optional<StoredPerson>& current) -> Result<PersonWrite> {
                       if (index == 1) {
                         EXPECT_TRUE(current.has_value());
                         return MakeError(ErrorCode::kInvalidInput, "ugyldig");
                       }
                       return MakePerson(fresh, {next});
                     });
  EXPECT_EQ(failing.error().code, ErrorCode::kInvalidInput);
  std::vector<std::string> one{a};
  auto bad_number = s.ApplyChanges(
      one, [&](size_t, uint64_t next, const std::optional<StoredPerson>&) -> Result<PersonWrite> {
        return MakePerson("1234", {next});
      });
  EXPECT_EQ(bad_number.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(s.InstallDictionary({"too", "few"}).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(Observe(s, numbers), before);

  // The sequence goes on where it was: nothing was given out by the refused writes.
  std::vector<PersonWrite> next{MakePerson(fresh, {4})};
  ASSERT_TRUE(s.BulkInsert(next).ok());
  auto last = s.ApplyChanges(
      one,
      [&](size_t, uint64_t seq, const std::optional<StoredPerson>& current) -> Result<PersonWrite> {
        PersonWrite w{current->record, {}};
        w.versions.push_back({seq, freg::Hendelsetype::kEndringINavn, 1});
        return w;
      });
  ASSERT_TRUE(last.ok()) << last.error().detail;
  EXPECT_EQ(*last, 5u);
  auto events = s.Events(0, 100);
  ASSERT_EQ(events->size(), 5u);
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, i + 1);
}

// Distinct synthetic numbers, as many as asked for.
std::vector<std::string> DistinctFnrs(size_t count) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (int day = 1; day <= 28 && out.size() < count; ++day) {
    for (int individ = 0; individ < 500 && out.size() < count; ++individ) {
      auto f = ids::MakeSyntheticFnr(1985, 6, day, individ, ids::FnrKind::kFoedselsnummer);
      if (f && seen.insert(*f).second) out.push_back(*f);
    }
  }
  return out;
}

// The generator's batches interleave their numbers (each chunk holds versions of every round): a
// batch may leave gaps that a later one fills; writes after the load continue after the highest.
TEST_P(RegisterStoreTest, BulkInsertBatchesMayInterleaveTheirSeqs) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  RegisterStore& s = **store;
  const auto fnrs = DistinctFnrs(5);
  std::vector<PersonWrite> first{MakePerson(fnrs[0], {1, 5}), MakePerson(fnrs[1], {2})};
  ASSERT_TRUE(s.BulkInsert(first).ok());
  EXPECT_EQ(s.LatestSeq(), 5u);
  std::vector<PersonWrite> second{MakePerson(fnrs[2], {3, 6}), MakePerson(fnrs[3], {4})};
  Status filled = s.BulkInsert(second);
  ASSERT_TRUE(filled.ok()) << filled.error().detail;
  EXPECT_EQ(s.LatestSeq(), 6u);
  auto events = s.Events(1, 100);
  ASSERT_EQ(events->size(), 6u);
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, i + 1);
  EXPECT_EQ(s.FindByVersion(4)->record.fnr, fnrs[3]);
  std::vector<PersonWrite> taken{MakePerson(fnrs[4], {4})};
  EXPECT_EQ(s.BulkInsert(taken).error().message, "sekvensnummer 4 er allerede brukt");
  std::vector<std::string> change{fnrs[1]};
  auto last = s.ApplyChanges(
      change,
      [](size_t, uint64_t next, const std::optional<StoredPerson>& current) -> Result<PersonWrite> {
        PersonWrite w{current->record, {}};
        w.versions.push_back({next, freg::Hendelsetype::kEndringINavn, 1});
        return w;
      });
  ASSERT_TRUE(last.ok()) << last.error().detail;
  EXPECT_EQ(*last, 7u);
}

// Several store instances (separate connections, as separate processes or server nodes have)
// write at once: ApplyChanges batches that add persons and change one shared person, and bulk
// inserts that take LatestSeq()+1 and retry when another writer took it first. The sekvensnummer
// given out tile 1..N exactly: gap-free, strictly increasing, each once.
TEST_P(RegisterStoreTest, ConcurrentWritersGetGapFreeIncreasingSeqs) {
  constexpr int kWriters = 3, kRounds = 12, kBulkRounds = 12;
  const auto fnrs = DistinctFnrs(1 + kWriters * kRounds + kBulkRounds);
  ASSERT_EQ(fnrs.size(), size_t{1 + kWriters * kRounds + kBulkRounds});
  std::vector<std::unique_ptr<RegisterStore>> stores;
  for (int i = 0; i < kWriters + 1; ++i) {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.error().detail;
    stores.push_back(std::move(store).value());
  }
  const std::string& shared = fnrs[0];
  std::vector<PersonWrite> seed{MakePerson(shared, {1})};
  ASSERT_TRUE(stores[0]->BulkInsert(seed).ok());

  std::mutex mutex;
  std::vector<std::pair<uint64_t, uint64_t>> ranges{{1, 1}};  // [first, last] of each write
  std::barrier start(kWriters + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int r = 0; r < kRounds; ++r) {
        std::vector<std::string> batch{fnrs[static_cast<size_t>(1 + w * kRounds + r)], shared};
        uint64_t first = 0;
        auto last = stores[static_cast<size_t>(w)]->ApplyChanges(
            batch,
            [&](size_t index, uint64_t next,
                const std::optional<StoredPerson>& current) -> Result<PersonWrite> {
              if (index == 0) first = next;
              if (!current) return MakePerson(batch[index], {next});
              PersonWrite p{current->record, {}};
              p.versions.push_back({next, freg::Hendelsetype::kEndringINavn, 1});
              return p;
            });
        ASSERT_TRUE(last.ok()) << last.error().message << " " << last.error().detail;
        EXPECT_EQ(*last, first + 1);
        std::lock_guard lock(mutex);
        ranges.emplace_back(first, *last);
      }
    });
  }
  threads.emplace_back([&] {
    RegisterStore& store = *stores.back();
    start.arrive_and_wait();
    for (int r = 0; r < kBulkRounds; ++r) {
      const std::string& number = fnrs[static_cast<size_t>(1 + kWriters * kRounds + r)];
      for (int attempt = 0;; ++attempt) {
        ASSERT_LT(attempt, 1000);
        const uint64_t seq = store.LatestSeq() + 1;
        std::vector<PersonWrite> one{MakePerson(number, {seq})};
        Status s = store.BulkInsert(one);
        if (s.ok()) {
          std::lock_guard lock(mutex);
          ranges.emplace_back(seq, seq);
          break;
        }
        ASSERT_EQ(s.error().code, ErrorCode::kConflict) << s.error().detail;
      }
    }
  });
  for (auto& t : threads) t.join();

  const uint64_t total = 1 + 2 * kWriters * kRounds + kBulkRounds;
  std::sort(ranges.begin(), ranges.end());
  uint64_t expected = 1;
  for (const auto& [first, last] : ranges) {
    EXPECT_EQ(first, expected);
    expected = last + 1;
  }
  EXPECT_EQ(expected, total + 1);
  for (auto& store : stores) EXPECT_EQ(store->LatestSeq(), total);
  auto events = stores[1]->Events(0, 10 * total);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), total);
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, i + 1);
  auto person = stores[2]->FindByFnr(shared);
  ASSERT_TRUE(person.ok());
  EXPECT_EQ(person->latest_seq, [&] {
    uint64_t latest = 0;
    for (const EventRow& e : *events) {
      if (e.fnr == shared) latest = e.seq;
    }
    return latest;
  }());
  size_t visited = 0;
  ASSERT_TRUE(stores[0]
                  ->SnapshotScan(total, SnapshotRecords::kSkip,
                                 [&](const SnapshotEntry&) {
                                   ++visited;
                                   return Status::Ok();
                                 })
                  .ok());
  EXPECT_EQ(visited, fnrs.size());
}

// SQLite readers that map register.db (`sqlite_mmap_mb`) answer what plain reads answer, and see
// the writes made after the mapping was taken (the WAL is read beside the map).
TEST(SqliteMappedReadsTest, AnswerAsPlainReadsAndSeeLaterWrites) {
  testing::TempFolder dir;
  auto store = OpenSqliteStore({.data_dir = dir.path(), .mmap_bytes = 64 << 20});
  ASSERT_TRUE(store.ok()) << store.error().detail;
  std::vector<PersonWrite> persons;
  for (int day = 1; day <= 20; ++day) {
    persons.push_back(MakePerson(Fnr(day, 100), {static_cast<uint64_t>(day)}));
  }
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  for (int day = 1; day <= 20; ++day) {
    auto found = (*store)->FindByFnr(Fnr(day, 100));
    ASSERT_TRUE(found.ok()) << day;
    EXPECT_EQ(found->record.fnr, Fnr(day, 100));
    EXPECT_EQ(found->latest_seq, static_cast<uint64_t>(day));
  }
  // A later write is seen by the mapped readers.
  const std::vector<std::string> numbers{Fnr(3, 100)};
  auto last = (*store)->ApplyChanges(
      numbers, [&](size_t, uint64_t next, const std::optional<StoredPerson>& current) {
        PersonWrite w{current->record, {}};
        w.versions.push_back({next, freg::Hendelsetype::kEndringINavn, 1});
        return Result<PersonWrite>(std::move(w));
      });
  ASSERT_TRUE(last.ok()) << last.error().detail;
  EXPECT_EQ((*store)->FindByFnr(Fnr(3, 100))->latest_seq, *last);
  store->reset();

  // Reopened without the mapping: the same answers.
  auto plain = OpenSqliteStore({.data_dir = dir.path()});
  ASSERT_TRUE(plain.ok()) << plain.error().detail;
  EXPECT_EQ((*plain)->FindByFnr(Fnr(3, 100))->latest_seq, *last);
  EXPECT_EQ((*plain)->FindByFnr(Fnr(20, 100))->latest_seq, 20u);
}

}  // namespace
}  // namespace norreg::store
