#include "cli/populate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gen/generator.hpp"
#include "unit/store/store_fixtures.hpp"

namespace norreg::cli {
namespace {

using store::EncodedPersons;
using store::PersonWrite;
using store::RegisterStore;

// A store that notes the batches it is given and refuses the batch numbered `fail_at` (1-based;
// 0: none). Encodings are slowed down so that several are in flight while batches are inserted.
class RecordingStore final : public store::testing::ForwardingStore {
 public:
  RecordingStore(std::unique_ptr<RegisterStore> inner, size_t fail_at)
      : ForwardingStore(std::move(inner)), fail_at_(fail_at) {}

  std::vector<uint64_t> first_seqs;  // of each batch given to BulkInsert, in call order
  std::atomic<int> encodings_running{0};
  std::atomic<int> most_encodings_running{0};

  Status BulkInsert(std::span<const PersonWrite> persons, const EncodedPersons* encoded) override {
    {
      std::lock_guard lock(mu_);
      first_seqs.push_back(persons.front().versions.front().seq);
      if (first_seqs.size() == fail_at_) return MakeError(ErrorCode::kInternal, "refused");
    }
    EXPECT_NE(encoded, nullptr);
    return ForwardingStore::BulkInsert(persons, encoded);
  }
  EncodedPersons EncodeForBulkInsert(std::span<const PersonWrite> persons) override {
    const int now = ++encodings_running;
    int most = most_encodings_running.load();
    while (now > most && !most_encodings_running.compare_exchange_weak(most, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EncodedPersons encoded = ForwardingStore::EncodeForBulkInsert(persons);
    --encodings_running;
    return encoded;
  }

 private:
  size_t fail_at_;
  std::mutex mu_;
};

// Three chunks of the generator: three batches.
constexpr uint64_t kPersons = 2 * gen::kChunkPersons + 100;

std::unique_ptr<RecordingStore> OpenRecording(const store::testing::TempFolder& folder,
                                              size_t fail_at) {
  auto inner = store::OpenSqliteStore({.data_dir = folder.path()});
  EXPECT_TRUE(inner.ok()) << inner.error().detail;
  return std::make_unique<RecordingStore>(std::move(*inner), fail_at);
}

// Batches are encoded ahead while earlier ones are inserted, and inserted in the generator's
// order: the register holds every person exactly as the generator made it.
TEST(PopulateTest, StoresEveryGeneratedPersonWithBatchesInOrder) {
  store::testing::TempFolder folder;
  auto store = OpenRecording(folder, 0);
  auto summary = Populate(*store, kPersons, 7, 2, false);
  ASSERT_TRUE(summary.ok()) << summary.error().detail;
  EXPECT_EQ(summary->persons, kPersons);
  EXPECT_GE(summary->seconds, summary->index_seconds);
  EXPECT_GE(store->most_encodings_running.load(), 2);

  gen::GenerateOptions options;
  options.persons = kPersons;
  options.seed = 7;
  options.threads = 1;
  options.first_seq = 1;
  auto expected = gen::GenerateAll(options);
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(expected->size(), kPersons);
  uint64_t versions = 0;
  for (size_t i = 0; i < expected->size(); i += 97) {
    const PersonWrite& want = (*expected)[i];
    auto got = store->FindByFnr(want.record.fnr);
    ASSERT_TRUE(got.ok()) << want.record.fnr;
    EXPECT_EQ(got->person_id, static_cast<int64_t>(i + 1));
    EXPECT_EQ(got->record.rows.size(), want.record.rows.size());
    EXPECT_EQ(got->latest_seq, want.versions.back().seq);
  }
  for (const PersonWrite& p : *expected) versions += p.versions.size();
  EXPECT_EQ(summary->versions, versions);
  EXPECT_EQ(store->LatestSeq(), versions);
  ASSERT_EQ(store->first_seqs.size(), 3u);
}

// A batch the store refuses stops the load with the store's error; the batches before it stay,
// none after it is inserted, and no encoding outlives the call (the sanitizer build would see
// one reading a freed batch).
TEST(PopulateTest, ARefusedBatchStopsTheLoadWithItsError) {
  store::testing::TempFolder folder;
  auto store = OpenRecording(folder, 2);
  auto summary = Populate(*store, kPersons, 7, 2, false);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().message, "refused");
  EXPECT_EQ(store->first_seqs.size(), 2u);
  EXPECT_EQ(store->encodings_running.load(), 0);
  EXPECT_GT(store->LatestSeq(), 0u);
}

}  // namespace
}  // namespace norreg::cli
