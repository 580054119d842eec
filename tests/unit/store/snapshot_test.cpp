// RegisterStore::SnapshotScan: every person's version as of a sekvensnummer, compared with a
// brute-force computation over the persons that were written. On both stores (SQLite, and
// PostgreSQL when NORREG_TEST_PG is set).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "common/ids.hpp"
#include "freg/record_codec.hpp"
#include "store/register_store.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::MakePerson;
using testing::StoreTest;

class SnapshotScanTest : public StoreTest {};
NORREG_STORE_TEST_SUITE(SnapshotScanTest);

// The i-th synthetic fødselsnummer (distinct for i < ~10 000).
std::string Fnr(int i) {
  for (int individ = (i / 28) * 7 % 500; individ < 1000; ++individ) {
    if (auto f = ids::MakeSyntheticFnr(1950 + i % 40, 1 + i % 12, 1 + i % 28, individ,
                                       ids::FnrKind::kFoedselsnummer)) {
      return *f;
    }
  }
  return {};
}

// `count` persons whose versions are spread randomly over 1..total (deterministic).
std::vector<PersonWrite> MakeRegister(int count, uint64_t* total) {
  std::mt19937_64 rng(42);
  std::vector<std::vector<uint64_t>> seqs(static_cast<size_t>(count));
  // Every person gets a first version, in person order, then random later versions.
  uint64_t seq = 0;
  for (auto& s : seqs) s.push_back(++seq);
  for (int i = 0; i < count * 2; ++i) seqs[rng() % seqs.size()].push_back(++seq);
  *total = seq;
  std::vector<PersonWrite> persons;
  for (int i = 0; i < count; ++i)
    persons.push_back(MakePerson(Fnr(i), seqs[static_cast<size_t>(i)]));
  return persons;
}

struct Seen {
  uint64_t version_seq;
  std::string fnr;
  size_t record_size;
};

std::map<int64_t, Seen> Scan(RegisterStore& store, uint64_t seq, SnapshotRecords records,
                             std::vector<int64_t>* order = nullptr) {
  std::map<int64_t, Seen> seen;
  Status s = store.SnapshotScan(seq, records, [&](const SnapshotEntry& e) -> Status {
    seen[e.person_id] = {e.version_seq, std::string(e.fnr), e.record.size()};
    if (order) order->push_back(e.person_id);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.error().detail;
  return seen;
}

// Brute force: person index -> newest version seq <= n.
std::map<std::string, uint64_t> Expected(const std::vector<PersonWrite>& persons, uint64_t n) {
  std::map<std::string, uint64_t> out;
  for (const auto& p : persons) {
    for (const auto& v : p.versions) {
      if (v.seq <= n) out[p.record.fnr] = v.seq;
    }
  }
  return out;
}

TEST_P(SnapshotScanTest, EmptyRegisterAndSeqZeroVisitNobody) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(Scan(**store, 10, SnapshotRecords::kInclude).empty());
  std::vector<PersonWrite> persons{MakePerson(Fnr(1), {1})};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  EXPECT_TRUE(Scan(**store, 0, SnapshotRecords::kSkip).empty());
  EXPECT_EQ(Scan(**store, 1, SnapshotRecords::kSkip).size(), 1u);
}

TEST_P(SnapshotScanTest, MatchesBruteForceAtEverySeqInOrder) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  uint64_t total = 0;
  auto persons = MakeRegister(150, &total);
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  for (uint64_t n : {uint64_t{1}, uint64_t{75}, uint64_t{150}, uint64_t{151}, total / 2, total - 1,
                     total, total + 1000}) {
    for (auto records : {SnapshotRecords::kSkip, SnapshotRecords::kInclude}) {
      std::vector<int64_t> order;
      auto seen = Scan(**store, n, records, &order);
      auto expected = Expected(persons, n);
      ASSERT_EQ(seen.size(), expected.size()) << "n=" << n;
      EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
      for (const auto& [id, s] : seen) {
        ASSERT_TRUE(expected.count(s.fnr)) << s.fnr;
        EXPECT_EQ(s.version_seq, expected[s.fnr]) << "n=" << n << " fnr=" << s.fnr;
        EXPECT_EQ(s.record_size > 0, records == SnapshotRecords::kInclude);
      }
    }
  }
}

TEST_P(SnapshotScanTest, RecordsDecodeAndLaterChangesDoNotShow) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  uint64_t total = 0;
  auto persons = MakeRegister(40, &total);
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  auto before = Scan(**store, total, SnapshotRecords::kSkip);

  // Change 10 persons and add a new one after `total`.
  std::vector<std::string> fnrs;
  for (int i = 0; i < 10; ++i) fnrs.push_back(persons[static_cast<size_t>(i * 3)].record.fnr);
  fnrs.push_back(Fnr(500));
  auto last = (*store)->ApplyChanges(
      fnrs,
      [&](size_t index, uint64_t next_seq,
          const std::optional<StoredPerson>& current) -> Result<PersonWrite> {
        PersonWrite w;
        if (current) {
          w.record = current->record;
        } else {
          w.record.fnr = fnrs[index];
        }
        freg::Row row;
        row.property = freg::Property::kNavn;
        row.from_seq = next_seq;
        row.json = R"({"fornavn":"NY","etternavn":"E"})";
        w.record.rows.insert(w.record.rows.begin(), row);
        w.versions.push_back({next_seq, freg::Hendelsetype::kEndringINavn, 1});
        return w;
      });
  ASSERT_TRUE(last.ok()) << last.error().detail;
  ASSERT_EQ(*last, total + 11);

  for (auto records : {SnapshotRecords::kSkip, SnapshotRecords::kInclude}) {
    auto at_total = Scan(**store, total, records);
    ASSERT_EQ(at_total.size(), before.size());
    for (const auto& [id, s] : at_total) EXPECT_EQ(s.version_seq, before[id].version_seq);
  }
  auto now = Scan(**store, *last, SnapshotRecords::kInclude);
  EXPECT_EQ(now.size(), before.size() + 1);
  size_t changed = 0;
  for (const auto& [id, s] : now) changed += s.version_seq > total;
  EXPECT_EQ(changed, 11u);

  // The record bytes are the person's whole history.
  freg::RecordView view;
  Status s = (*store)->SnapshotScan(*last, SnapshotRecords::kInclude,
                                    [&](const SnapshotEntry& e) -> Status {
                                      if (Status p = view.Parse(e.record); !p.ok()) return p;
                                      EXPECT_EQ(view.fnr(), e.fnr);
                                      return Status::Ok();
                                    });
  EXPECT_TRUE(s.ok());
}

TEST_P(SnapshotScanTest, CallbackErrorStopsTheScan) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  uint64_t total = 0;
  auto persons = MakeRegister(20, &total);
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  for (auto records : {SnapshotRecords::kSkip, SnapshotRecords::kInclude}) {
    int calls = 0;
    Status s = (*store)->SnapshotScan(total, records, [&](const SnapshotEntry&) -> Status {
      if (++calls == 5) return MakeError(ErrorCode::kGone, "stop");
      return Status::Ok();
    });
    EXPECT_EQ(s.error().code, ErrorCode::kGone);
    EXPECT_EQ(calls, 5);
  }
  // The store is still usable (the scan's transaction ended).
  EXPECT_EQ(Scan(**store, total, SnapshotRecords::kSkip).size(), 20u);
}

}  // namespace
}  // namespace norreg::store
