// store::UttrekkJobStore's contract on both implementations (folders, PostgreSQL), and what only
// the PostgreSQL one has: leases that run out, several nodes (store instances) claiming, ordering
// and sweeping at once. The PostgreSQL cases are skipped when NORREG_TEST_PG is unset.
#include "store/uttrekk_job_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <set>
#include <thread>

#include "common/ids.hpp"
#include "unit/store/store_fixtures.hpp"

namespace norreg::store {
namespace {

using namespace std::chrono_literals;
using testing::Backend;
using testing::TestRegister;

constexpr const char* kOrg = "974760673";
constexpr const char* kOtherOrg = "889640782";
constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kDay = 24 * 3600 * 1000;

UttrekkJob NewJob(std::string orgnr = kOrg, int64_t ordered_ms = kNow) {
  UttrekkJob job;
  job.id = ids::NewUuid();
  job.orgnr = std::move(orgnr);
  job.kind = UttrekkKind::kKomplett;
  job.seq = 42;
  job.ordered_ms = ordered_ms;
  job.expires_ms = ordered_ms + kDay;
  return job;
}

// A register (SQLite folder or PostgreSQL schema) with its job store.
class JobStoreHarness {
 public:
  explicit JobStoreHarness(Backend backend) : register_(backend) {}
  const std::string& unavailable() const { return register_.unavailable(); }

  // A new store instance on the same jobs (PostgreSQL: a separate node; folders: reopening).
  std::unique_ptr<UttrekkJobStore> Open() {
    if (register_.backend() == Backend::kSqlite) {
      auto jobs = OpenFileUttrekkJobStore(register_.folder() + "/uttrekk", 24h);
      EXPECT_TRUE(jobs.ok()) << jobs.error().detail;
      return jobs.ok() ? std::move(jobs).value() : nullptr;
    }
    if (!migrated_) {
      auto store = register_.Open();  // the register's migrations create the job tables
      EXPECT_TRUE(store.ok()) << store.error().detail;
      migrated_ = true;
    }
    auto jobs = OpenPostgresUttrekkJobStore({.conninfo = register_.conninfo()});
    EXPECT_TRUE(jobs.ok()) << jobs.error().detail;
    return jobs.ok() ? std::move(jobs).value() : nullptr;
  }

 private:
  TestRegister register_;
  bool migrated_ = false;
};

class UttrekkJobStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    harness_ = std::make_unique<JobStoreHarness>(GetParam());
    if (!harness_->unavailable().empty()) GTEST_SKIP() << harness_->unavailable();
    jobs_ = harness_->Open();
    ASSERT_NE(jobs_, nullptr);
  }

  std::unique_ptr<JobStoreHarness> harness_;
  std::unique_ptr<UttrekkJobStore> jobs_;
};

TEST_P(UttrekkJobStoreTest, AJobGoesFromQueuedToRunningToDone) {
  UttrekkJob job = NewJob();
  job.kind = UttrekkKind::kTilpasset;
  job.criteria_json = R"({"personstatustyper":["bosatt"]})";
  ASSERT_TRUE(jobs_->Create(job, 10, 100).ok());
  auto found = jobs_->Find(job.id);
  ASSERT_TRUE(found.ok()) << found.error().detail;
  EXPECT_EQ(found->id, job.id);
  EXPECT_EQ(found->orgnr, kOrg);
  EXPECT_EQ(found->kind, UttrekkKind::kTilpasset);
  EXPECT_EQ(found->criteria_json, job.criteria_json);
  EXPECT_EQ(found->seq, 42u);
  EXPECT_EQ(found->ordered_ms, kNow);
  EXPECT_EQ(found->expires_ms, kNow + kDay);
  EXPECT_FALSE(found->done);
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 1u);
  EXPECT_TRUE(*jobs_->HasClaimable(kNow));

  auto claimed = jobs_->Claim("node-a", 30s, kNow);
  ASSERT_TRUE(claimed.ok()) << claimed.error().detail;
  ASSERT_TRUE(claimed->has_value());
  EXPECT_EQ((*claimed)->job.id, job.id);
  EXPECT_EQ((*claimed)->job.criteria_json, job.criteria_json);
  EXPECT_TRUE((*claimed)->stored.empty());
  EXPECT_FALSE(*jobs_->HasClaimable(kNow));
  EXPECT_FALSE(jobs_->Claim("node-b", 30s, kNow)->has_value());  // running: not claimed again
  EXPECT_TRUE(jobs_->Renew(job.id, "node-a", 30s).ok());

  ASSERT_TRUE(jobs_->PutBatch(job.id, 0, R"({"foedselsEllerDNummer":["1"]})", 1).ok());
  ASSERT_TRUE(jobs_->PutBatch(job.id, 1, R"({"foedselsEllerDNummer":["2"]})", 1).ok());
  ASSERT_TRUE(jobs_->Finish(job.id, 2).ok());
  found = jobs_->Find(job.id);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->done);
  EXPECT_EQ(found->batches, 2u);
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 0u);
  EXPECT_EQ(**jobs_->GetBatch(job.id, 1), R"({"foedselsEllerDNummer":["2"]})");
  EXPECT_FALSE(jobs_->GetBatch(job.id, 2)->has_value());
  EXPECT_FALSE(jobs_->Claim("node-a", 30s, kNow)->has_value());

  // Still there after reopening (a restart, or another node).
  auto again = harness_->Open();
  ASSERT_NE(again, nullptr);
  found = again->Find(job.id);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->done);
  EXPECT_EQ(**again->GetBatch(job.id, 0), R"({"foedselsEllerDNummer":["1"]})");
}

TEST_P(UttrekkJobStoreTest, UnknownJobsAreNotFound) {
  EXPECT_EQ(jobs_->Find(ids::NewUuid()).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(jobs_->GetBatch(ids::NewUuid(), 0)->has_value());
  EXPECT_FALSE(jobs_->Claim("node-a", 30s, kNow)->has_value());
  EXPECT_FALSE(*jobs_->HasClaimable(kNow));
  EXPECT_EQ(jobs_->Finish(ids::NewUuid(), 1).error().code, ErrorCode::kGone);
  EXPECT_EQ(jobs_->PutBatch(ids::NewUuid(), 0, "{}", 0).error().code, ErrorCode::kGone);
  EXPECT_TRUE(jobs_->Delete(ids::NewUuid()).ok());
}

// A batch is stored once: a second PutBatch keeps the first body. It is served only once stored.
TEST_P(UttrekkJobStoreTest, BatchesAreImmutableAndServedOnlyOnceStored) {
  const UttrekkJob job = NewJob();
  ASSERT_TRUE(jobs_->Create(job, 10, 100).ok());
  ASSERT_TRUE(jobs_->Claim("node-a", 30s, kNow)->has_value());
  EXPECT_FALSE(jobs_->GetBatch(job.id, 0)->has_value());
  ASSERT_TRUE(jobs_->PutBatch(job.id, 0, "first", 1).ok());
  ASSERT_TRUE(jobs_->PutBatch(job.id, 0, "second", 1).ok());
  EXPECT_EQ(**jobs_->GetBatch(job.id, 0), "first");
  EXPECT_FALSE(jobs_->GetBatch(job.id, 1)->has_value());
  // Batches need not arrive in order.
  ASSERT_TRUE(jobs_->PutBatch(job.id, 2, "third", 1).ok());
  EXPECT_FALSE(jobs_->GetBatch(job.id, 1)->has_value());
  EXPECT_EQ(**jobs_->GetBatch(job.id, 2), "third");
}

// Finished jobs keep their batches until they expire: an organisation has at most max_kept jobs
// that have not expired, finished or not, so ordering without end cannot fill the disk.
TEST_P(UttrekkJobStoreTest, CreateRefusesAtTheLimitOfUnexpiredJobs) {
  for (int i = 0; i < 4; ++i) {
    UttrekkJob job = NewJob();
    ASSERT_TRUE(jobs_->Create(job, 10, 4).ok()) << i;
    auto claimed = jobs_->Claim("node-a", 30s, kNow);
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    ASSERT_TRUE(jobs_->Finish((*claimed)->job.id, 1).ok());
  }
  auto refused = jobs_->Create(NewJob(), 10, 4);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(refused.error().message,
            "Virksomheten har allerede 4 uttrekk som ikke er utløpt; prøv igjen når et er utløpt");
  EXPECT_TRUE(jobs_->Create(NewJob(kOtherOrg), 10, 4).ok());
  // Once they have expired (a day later) the organisation may order again.
  EXPECT_TRUE(jobs_->Create(NewJob(kOrg, kNow + kDay), 10, 4).ok());
}

TEST_P(UttrekkJobStoreTest, CreateRefusesAtTheLimitOfUnfinishedJobs) {
  std::vector<UttrekkJob> created;
  for (int i = 0; i < 3; ++i) {
    created.push_back(NewJob());
    ASSERT_TRUE(jobs_->Create(created.back(), 3, 100).ok()) << i;
  }
  EXPECT_EQ(jobs_->Create(NewJob(), 3, 100).error().code, ErrorCode::kRateLimited);
  EXPECT_TRUE(jobs_->Create(NewJob(kOtherOrg), 3, 100).ok());
  // Running jobs count; finished ones do not.
  auto claimed = jobs_->Claim("node-a", 30s, kNow);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ(jobs_->Create(NewJob(), 3, 100).error().code, ErrorCode::kRateLimited);
  ASSERT_TRUE(jobs_->Finish((*claimed)->job.id, 0).ok());
  EXPECT_TRUE(jobs_->Create(NewJob(), 3, 100).ok());
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 3u);
  EXPECT_EQ(*jobs_->CountUnfinished(kOtherOrg), 1u);
}

// An order counts its organisation's jobs only (the folder store keeps them indexed by
// organisation): other organisations' jobs never count, and the counts follow deletes, expiry and
// a reopened store.
TEST_P(UttrekkJobStoreTest, CountsFollowTheOrganisationsJobsThroughDeletesAndExpiry) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(jobs_->Create(NewJob("9" + std::to_string(10000000 + i)), 1, 1).ok()) << i;
  }
  const UttrekkJob first = NewJob();
  const UttrekkJob second = NewJob(kOrg, kNow + 1);
  ASSERT_TRUE(jobs_->Create(first, 2, 2).ok());
  ASSERT_TRUE(jobs_->Create(second, 2, 2).ok());
  EXPECT_EQ(jobs_->Create(NewJob(), 2, 2).error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 2u);
  ASSERT_TRUE(jobs_->Delete(first.id).ok());
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 1u);
  const UttrekkJob third = NewJob();
  ASSERT_TRUE(jobs_->Create(third, 2, 2).ok());
  jobs_ = harness_->Open();  // reopened: the index is rebuilt from what is stored
  ASSERT_NE(jobs_, nullptr);
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 2u);
  EXPECT_EQ(jobs_->Create(NewJob(), 2, 2).error().code, ErrorCode::kRateLimited);
  auto gone = jobs_->DeleteExpired(kNow + kDay + 1);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->size(), 52u);
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 0u);
  EXPECT_TRUE(jobs_->Create(NewJob(kOrg, kNow + kDay + 2), 2, 2).ok());
  EXPECT_EQ(*jobs_->CountUnfinished("910000000"), 0u);
}

TEST_P(UttrekkJobStoreTest, ClaimTakesTheOldestUnexpiredJob) {
  const UttrekkJob first = NewJob(kOrg, kNow);
  const UttrekkJob second = NewJob(kOrg, kNow + 1);
  const UttrekkJob old = NewJob(kOrg, kNow - 2 * kDay);  // expired
  ASSERT_TRUE(jobs_->Create(first, 10, 100).ok());
  ASSERT_TRUE(jobs_->Create(second, 10, 100).ok());
  ASSERT_TRUE(jobs_->Create(old, 10, 100).ok());
  auto a = jobs_->Claim("node-a", 30s, kNow + 2);
  auto b = jobs_->Claim("node-b", 30s, kNow + 2);
  ASSERT_TRUE(a.ok() && a->has_value() && b.ok() && b->has_value());
  EXPECT_EQ((*a)->job.id, first.id);
  EXPECT_EQ((*b)->job.id, second.id);
  EXPECT_FALSE(jobs_->Claim("node-c", 30s, kNow + 2)->has_value());
  EXPECT_FALSE(*jobs_->HasClaimable(kNow + 2));
}

TEST_P(UttrekkJobStoreTest, RenewByAnotherOwnerIsGoneAndReleaseQueuesTheJobAgain) {
  const UttrekkJob job = NewJob();
  ASSERT_TRUE(jobs_->Create(job, 10, 100).ok());
  EXPECT_EQ(jobs_->Renew(job.id, "node-a", 30s).error().code, ErrorCode::kGone);  // not claimed
  ASSERT_TRUE(jobs_->Claim("node-a", 30s, kNow)->has_value());
  EXPECT_EQ(jobs_->Renew(job.id, "node-b", 30s).error().code, ErrorCode::kGone);
  EXPECT_TRUE(jobs_->Release(job.id, "node-b").ok());  // not node-b's: nothing happens
  EXPECT_FALSE(*jobs_->HasClaimable(kNow));
  ASSERT_TRUE(jobs_->Release(job.id, "node-a").ok());
  EXPECT_TRUE(*jobs_->HasClaimable(kNow));
  EXPECT_EQ(jobs_->Renew(job.id, "node-a", 30s).error().code, ErrorCode::kGone);
  auto again = jobs_->Claim("node-b", 30s, kNow);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->job.id, job.id);
  EXPECT_TRUE(jobs_->Renew(job.id, "node-b", 30s).ok());
}

TEST_P(UttrekkJobStoreTest, DeleteExpiredReportsEachJobOnceWithItsBatches) {
  const UttrekkJob expiring = NewJob(kOrg, kNow);
  const UttrekkJob later = NewJob(kOrg, kNow + 1000);
  ASSERT_TRUE(jobs_->Create(expiring, 10, 100).ok());
  ASSERT_TRUE(jobs_->Create(later, 10, 100).ok());
  auto claimed = jobs_->Claim("node-a", 30s, kNow);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_EQ((*claimed)->job.id, expiring.id);
  ASSERT_TRUE(jobs_->PutBatch(expiring.id, 0, "body", 1).ok());
  ASSERT_TRUE(jobs_->Finish(expiring.id, 1).ok());

  EXPECT_TRUE(jobs_->DeleteExpired(kNow + kDay - 1)->empty());
  auto gone = jobs_->DeleteExpired(kNow + kDay);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, std::vector<std::string>{expiring.id});
  EXPECT_TRUE(jobs_->DeleteExpired(kNow + kDay)->empty());
  EXPECT_EQ(jobs_->Find(expiring.id).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(jobs_->GetBatch(expiring.id, 0)->has_value());
  EXPECT_TRUE(jobs_->Find(later.id).ok());
  EXPECT_EQ(jobs_->PutBatch(expiring.id, 1, "late", 1).error().code, ErrorCode::kGone);
  EXPECT_EQ(jobs_->Finish(expiring.id, 1).error().code, ErrorCode::kGone);
  auto reopened = harness_->Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Find(expiring.id).error().code, ErrorCode::kNotFound);
}

TEST_P(UttrekkJobStoreTest, DeletedJobIsGoneForItsWorker) {
  const UttrekkJob job = NewJob();
  ASSERT_TRUE(jobs_->Create(job, 10, 100).ok());
  ASSERT_TRUE(jobs_->Claim("node-a", 30s, kNow)->has_value());
  ASSERT_TRUE(jobs_->Delete(job.id).ok());
  EXPECT_EQ(jobs_->Renew(job.id, "node-a", 30s).error().code, ErrorCode::kGone);
  EXPECT_EQ(jobs_->PutBatch(job.id, 0, "body", 1).error().code, ErrorCode::kGone);
  EXPECT_EQ(jobs_->Finish(job.id, 1).error().code, ErrorCode::kGone);
  EXPECT_EQ(*jobs_->CountUnfinished(kOrg), 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, UttrekkJobStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? std::string("files")
                                                                 : std::string("postgres");
                         });

// --- PostgreSQL only: several nodes ---

class PostgresJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_ = std::make_unique<JobStoreHarness>(Backend::kPostgres);
    if (!harness_->unavailable().empty()) GTEST_SKIP() << harness_->unavailable();
    a_ = harness_->Open();
    b_ = harness_->Open();
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }

  std::unique_ptr<JobStoreHarness> harness_;
  std::unique_ptr<UttrekkJobStore> a_, b_;
};

// A node that stops renewing (it died) loses the job when its lease runs out: another node
// claims it with the batches already stored, and the dead node's renewal is refused.
TEST_F(PostgresJobStoreTest, AnExpiredLeaseIsTakenOverWithTheStoredBatches) {
  const UttrekkJob job = NewJob();
  ASSERT_TRUE(a_->Create(job, 10, 100).ok());
  ASSERT_TRUE(a_->Claim("node-a", 300ms, kNow)->has_value());
  ASSERT_TRUE(a_->PutBatch(job.id, 0, "zero", 1).ok());
  ASSERT_TRUE(a_->PutBatch(job.id, 2, "two", 1).ok());
  EXPECT_FALSE(b_->Claim("node-b", 30s, kNow)->has_value());  // still node-a's
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(*b_->HasClaimable(kNow));
  auto taken = b_->Claim("node-b", 30s, kNow);
  ASSERT_TRUE(taken.ok()) << taken.error().detail;
  ASSERT_TRUE(taken->has_value());
  EXPECT_EQ((*taken)->job.id, job.id);
  EXPECT_EQ((*taken)->stored, (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(a_->Renew(job.id, "node-a", 300ms).error().code, ErrorCode::kGone);
  EXPECT_TRUE(b_->Renew(job.id, "node-b", 30s).ok());
  ASSERT_TRUE(b_->PutBatch(job.id, 1, "one", 1).ok());
  ASSERT_TRUE(b_->PutBatch(job.id, 0, "zero again", 1).ok());  // kept: "zero"
  ASSERT_TRUE(b_->Finish(job.id, 3).ok());
  EXPECT_EQ(**a_->GetBatch(job.id, 0), "zero");
  EXPECT_EQ(**a_->GetBatch(job.id, 1), "one");
  EXPECT_EQ(a_->Find(job.id)->batches, 3u);
}

// Many workers of two nodes claiming at once never get the same job.
TEST_F(PostgresJobStoreTest, ConcurrentClaimsNeverShareAJob) {
  constexpr int kJobs = 24;
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(a_->Create(NewJob(kOrg, kNow + i), 100, 100).ok());
  constexpr int kThreads = 8;
  std::vector<std::vector<std::string>> got(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      UttrekkJobStore& store = t % 2 == 0 ? *a_ : *b_;
      start.arrive_and_wait();
      while (true) {
        auto claimed = store.Claim("node-" + std::to_string(t), 30s, kNow + kJobs);
        if (!claimed.ok() || !claimed->has_value()) break;
        got[static_cast<size_t>(t)].push_back((*claimed)->job.id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  size_t total = 0;
  for (const auto& ids : got) {
    total += ids.size();
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(total, static_cast<size_t>(kJobs));
  EXPECT_EQ(all.size(), static_cast<size_t>(kJobs));
}

// Orders of one organisation arriving at two nodes at once: exactly the limit is accepted.
TEST_F(PostgresJobStoreTest, ConcurrentOrdersOnTwoNodesHoldTheLimit) {
  constexpr int kThreads = 20;
  std::atomic<int> accepted{0}, limited{0}, failed{0};
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      UttrekkJobStore& store = t % 2 == 0 ? *a_ : *b_;
      start.arrive_and_wait();
      Status s = store.Create(NewJob(), 10, 100);
      if (s.ok()) {
        ++accepted;
      } else if (s.error().code == ErrorCode::kRateLimited) {
        ++limited;
      } else {
        ++failed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 10);
  EXPECT_EQ(limited.load(), 10);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(*b_->CountUnfinished(kOrg), 10u);
}

// Both nodes sweep at once: every expired job is deleted and reported exactly once.
TEST_F(PostgresJobStoreTest, ConcurrentSweepsReportEachJobOnce) {
  constexpr int kJobs = 30;
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(a_->Create(NewJob(kOrg, kNow), 100, 100).ok());
  std::vector<std::string> from_a, from_b;
  std::barrier start(2);
  std::thread ta([&] {
    start.arrive_and_wait();
    auto gone = a_->DeleteExpired(kNow + kDay);
    if (gone.ok()) from_a = *gone;
  });
  std::thread tb([&] {
    start.arrive_and_wait();
    auto gone = b_->DeleteExpired(kNow + kDay);
    if (gone.ok()) from_b = *gone;
  });
  ta.join();
  tb.join();
  std::set<std::string> all(from_a.begin(), from_a.end());
  all.insert(from_b.begin(), from_b.end());
  EXPECT_EQ(from_a.size() + from_b.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(all.size(), static_cast<size_t>(kJobs));
}

}  // namespace
}  // namespace norreg::store
