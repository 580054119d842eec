// service::UttrekkService on a small hand-built register: snapshot consistency against a
// brute-force computation, capping, batch sizes, restart, expiry, limits and access, on both job
// stores (folders with a SQLite register, tables with a PostgreSQL register); then what needs
// PostgreSQL: two nodes sharing the jobs, a job taken over after its node stopped renewing. The
// PostgreSQL cases are skipped when NORREG_TEST_PG is unset.
#include "service/uttrekk.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/document_id.hpp"
#include "common/files.hpp"
#include "common/ids.hpp"
#include "store/postgres/pg.hpp"
#include "unit/store/store_fixtures.hpp"

namespace norreg::service {
namespace {

using namespace std::chrono_literals;
using store::testing::Backend;

class TempFolder {
 public:
  TempFolder() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "norreg-uttrekk-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempFolder() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr const char* kOrg = "974760673";
constexpr const char* kOtherOrg = "889640782";

std::string Fnr(int i) {
  for (int individ = (i / 28) * 7 % 500; individ < 1000; ++individ) {
    if (auto f = ids::MakeSyntheticFnr(1950 + i % 40, 1 + i % 12, 1 + i % 28, individ,
                                       ids::FnrKind::kFoedselsnummer)) {
      return *f;
    }
  }
  return {};
}

freg::Row MakeRow(freg::Property property, uint64_t from, uint64_t until, std::string json) {
  freg::Row row;
  row.property = property;
  row.from_seq = from;
  row.current_until = until;
  row.json = std::move(json);
  return row;
}

// Person i: versions at `seqs` (one navn row each), kjoenn kvinne for odd i, status bosatt, and
// for i % 3 == 0 with two or more versions: utflyttet from the last version on.
store::PersonWrite MakePerson(int i, const std::vector<uint64_t>& seqs) {
  store::PersonWrite p;
  p.record.fnr = Fnr(i);
  std::vector<freg::Row> rows;
  for (size_t v = 0; v < seqs.size(); ++v) {
    p.versions.push_back(
        {seqs[v],
         v == 0 ? freg::Hendelsetype::kPersonErOpprettet : freg::Hendelsetype::kEndringINavn,
         1'600'000'000'000 + static_cast<int64_t>(seqs[v])});
    rows.push_back(MakeRow(freg::Property::kNavn, seqs[v],
                           v + 1 < seqs.size() ? seqs[v + 1] : freg::kOpen,
                           R"({"fornavn":"N)" + std::to_string(seqs[v]) + R"(","etternavn":"E"})"));
  }
  rows.push_back(MakeRow(freg::Property::kKjoenn, seqs[0], freg::kOpen,
                         i % 2 ? R"({"kjoenn":"kvinne"})" : R"({"kjoenn":"mann"})"));
  const bool moves = i % 3 == 0 && seqs.size() >= 2;
  rows.push_back(MakeRow(freg::Property::kStatus, seqs[0], moves ? seqs.back() : freg::kOpen,
                         R"({"status":"bosatt"})"));
  if (moves) {
    rows.push_back(
        MakeRow(freg::Property::kStatus, seqs.back(), freg::kOpen, R"({"status":"utflyttet"})"));
  }
  freg::SortRows(rows);
  p.record.rows = std::move(rows);
  return p;
}

struct Register {
  std::vector<store::PersonWrite> persons;
  uint64_t total = 0;
};

// `count` persons; every one is created in order, then 2*count random later versions.
Register MakeRegister(int count) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<uint64_t>> seqs(static_cast<size_t>(count));
  uint64_t seq = 0;
  for (auto& s : seqs) s.push_back(++seq);
  for (int i = 0; i < count * 2; ++i) seqs[rng() % seqs.size()].push_back(++seq);
  Register r;
  r.total = seq;
  for (int i = 0; i < count; ++i) r.persons.push_back(MakePerson(i, seqs[static_cast<size_t>(i)]));
  return r;
}

// Brute force: the document id of every person's newest version <= n.
std::multiset<std::string> ExpectedKomplett(const Register& r, uint64_t n,
                                            const ids::DocumentIdCipher& cipher) {
  std::multiset<std::string> out;
  for (const auto& p : r.persons) {
    uint64_t best = 0;
    for (const auto& v : p.versions) {
      if (v.seq <= n) best = v.seq;
    }
    if (best) out.insert(cipher.Encode(ids::DocumentKind::kPerson, best));
  }
  return out;
}

// A register on either store with 120 persons, and extract services on it: with the folder job
// store in dir_/uttrekk (SQLite) or the job tables of the PostgreSQL register.
class UttrekkFixture {
 protected:
  void SetUpRegister(Backend backend) {
    db_ = std::make_unique<store::testing::TestRegister>(backend);
    if (!db_->unavailable().empty()) GTEST_SKIP() << db_->unavailable();
    auto store = db_->Open();
    ASSERT_TRUE(store.ok()) << store.error().detail;
    store_ = std::move(store).value();
    register_ = MakeRegister(120);
    ASSERT_TRUE(store_->BulkInsert(register_.persons).ok());
    cipher_ = std::make_unique<ids::DocumentIdCipher>(store_->DocumentKey());
  }

  UttrekkOptions Options(unsigned workers = 2) {
    UttrekkOptions o;
    o.dir = dir_.path() + "/uttrekk";
    o.workers = workers;
    o.komplett_batch_size = 7;
    o.tilpasset_batch_size = 3;
    o.sweep_interval = 1h;  // tests sweep explicitly
    o.now_ms = [this] { return now_.load(); };
    return o;
  }

  bool files() const { return db_->backend() == Backend::kSqlite; }

  Result<std::unique_ptr<UttrekkService>> OpenWith(UttrekkOptions options) {
    if (files()) return UttrekkService::Open(*store_, std::move(options));
    auto jobs = store::OpenPostgresUttrekkJobStore({.conninfo = db_->conninfo()});
    if (!jobs.ok()) return jobs.error();
    return UttrekkService::Open(*store_, std::move(jobs).value(), std::move(options));
  }

  std::unique_ptr<UttrekkService> Open(unsigned workers = 2) {
    auto service = OpenWith(Options(workers));
    EXPECT_TRUE(service.ok()) << service.error().detail;
    return service.ok() ? std::move(service).value() : nullptr;
  }

  // Whether anything of job `id` is still stored: its folder, or its rows.
  bool Stored(const std::string& id) {
    if (files()) return std::filesystem::exists(dir_.path() + "/uttrekk/" + id);
    auto c = store::pg::Connection::Open(db_->conninfo());
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return true;
    auto rows = c->Query(
        "SELECT (SELECT count(*) FROM uttrekk_jobs WHERE id = $1::uuid) + "
        "(SELECT count(*) FROM uttrekk_batches WHERE job_id = $1::uuid)",
        store::pg::Params().Text(id));
    EXPECT_TRUE(rows.ok()) << rows.error().detail;
    return !rows.ok() || rows->Int64(0, 0) > 0;
  }

  // Every batch body of a finished job, up to (excluding) the empty answer.
  std::vector<std::string> Bodies(UttrekkService& service, const std::string& id,
                                  const char* org = kOrg) {
    EXPECT_TRUE(service.WaitIdle(30s));
    std::vector<std::string> bodies;
    for (uint64_t n = 0;; ++n) {
      auto batch = service.Batch(org, id, n);
      if (!batch.ok()) {
        ADD_FAILURE() << "batch " << n << ": " << batch.error().message;
        break;
      }
      if (*batch->body == "{}") {
        EXPECT_EQ(batch->count, 0u);
        break;
      }
      bodies.push_back(*batch->body);
    }
    return bodies;
  }

  static std::multiset<std::string> Ids(const std::vector<std::string>& bodies) {
    std::multiset<std::string> ids;
    for (const auto& b : bodies) ForEachBatchId(b, [&](std::string_view id) { ids.emplace(id); });
    return ids;
  }

  TempFolder dir_;
  std::unique_ptr<store::testing::TestRegister> db_;
  std::unique_ptr<store::RegisterStore> store_;
  Register register_;
  std::unique_ptr<ids::DocumentIdCipher> cipher_;
  std::atomic<int64_t> now_{1'700'000'000'000};
};

class UttrekkTest : public UttrekkFixture, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { SetUpRegister(GetParam()); }
};

TEST_P(UttrekkTest, KomplettEqualsBruteForceAtSeveralSnapshots) {
  auto service = Open();
  for (uint64_t n :
       {uint64_t{1}, uint64_t{60}, uint64_t{120}, register_.total / 2, register_.total}) {
    auto id = service->OrderKomplett(kOrg, n);
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(ids::IsUuid(*id));
    EXPECT_EQ(Ids(Bodies(*service, *id)), ExpectedKomplett(register_, n, *cipher_)) << "n=" << n;
  }
}

TEST_P(UttrekkTest, SnapshotIgnoresChangesImportedAfterTheOrder) {
  const uint64_t n = register_.total - 50;
  std::vector<std::string> before;
  {
    auto service = Open();
    auto id = service->OrderKomplett(kOrg, n);
    ASSERT_TRUE(id.ok());
    before = Bodies(*service, *id);
  }
  // Ordered while no worker runs: computed only after the changes below.
  std::string queued_id;
  {
    auto service = Open(0);
    auto id = service->OrderKomplett(kOrg, n);
    ASSERT_TRUE(id.ok());
    queued_id = *id;
    EXPECT_EQ(service->Batch(kOrg, queued_id, 0).error().code, ErrorCode::kNotReady);
  }

  // Every person changes once more, and a new person arrives.
  std::vector<std::string> fnrs;
  for (const auto& p : register_.persons) fnrs.push_back(p.record.fnr);
  fnrs.push_back(Fnr(700));
  auto last = store_->ApplyChanges(
      fnrs,
      [&](size_t index, uint64_t next_seq,
          const std::optional<store::StoredPerson>& current) -> Result<store::PersonWrite> {
        store::PersonWrite w;
        w.record = current ? current->record : MakePerson(700, {next_seq}).record;
        if (current) {
          w.record.rows.insert(w.record.rows.begin(),
                               MakeRow(freg::Property::kSivilstand, next_seq, freg::kOpen,
                                       R"({"sivilstand":"gift"})"));
        }
        (void)index;
        w.versions.push_back({next_seq, freg::Hendelsetype::kEndringISivilstand, 1});
        return w;
      });
  ASSERT_TRUE(last.ok()) << last.error().detail;

  const auto expected = ExpectedKomplett(register_, n, *cipher_);
  EXPECT_EQ(Ids(before), expected);
  auto service = Open();
  EXPECT_EQ(Bodies(*service, queued_id), before);  // recomputed after the changes: same bytes
  auto again = service->OrderKomplett(kOrg, n);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Bodies(*service, *again), before);
  // At the latest seq, everyone shows the new version.
  auto latest = service->OrderKomplett(kOrg, *last);
  ASSERT_TRUE(latest.ok());
  auto now = Ids(Bodies(*service, *latest));
  EXPECT_EQ(now.size(), register_.persons.size() + 1);
  for (const auto& id : now) {
    EXPECT_GT(cipher_->Decode(ids::DocumentKind::kPerson, id).value_or(0), register_.total);
  }
}

TEST_P(UttrekkTest, SeqAboveLatestIsCappedToTheLatest) {
  auto service = Open();
  auto capped = service->OrderKomplett(kOrg, UINT64_MAX);
  auto latest = service->OrderKomplett(kOrg, register_.total);
  ASSERT_TRUE(capped.ok() && latest.ok());
  EXPECT_EQ(Bodies(*service, *capped), Bodies(*service, *latest));
  EXPECT_EQ(Ids(Bodies(*service, *capped)), ExpectedKomplett(register_, register_.total, *cipher_));
}

TEST_P(UttrekkTest, BatchesHoldAtMostTheBatchSizeAndEndWithAnEmptyAnswer) {
  auto service = Open();
  auto id = service->OrderKomplett(kOrg, register_.total);
  ASSERT_TRUE(id.ok());
  auto bodies = Bodies(*service, *id);
  ASSERT_EQ(bodies.size(), (120u + 6) / 7);
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto batch = service->Batch(kOrg, *id, i);
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->kind, UttrekkKind::kKomplett);
    EXPECT_EQ(batch->count, i + 1 < bodies.size() ? 7u : 120u % 7);
    size_t ids = 0;
    ForEachBatchId(*batch->body, [&](std::string_view s) {
      EXPECT_TRUE(ids::IsHex32(s)) << s;
      ++ids;
    });
    EXPECT_EQ(ids, batch->count);
    EXPECT_EQ(batch->body->rfind("{\"dokumentidentifikator\":[\"", 0), 0u);
    EXPECT_EQ(batch->body->substr(batch->body->size() - 2), "]}");
  }
  // Far past the end: still the empty answer.
  for (uint64_t n : {bodies.size(), bodies.size() + 1, uint64_t{1} << 40}) {
    auto past = service->Batch(kOrg, *id, n);
    ASSERT_TRUE(past.ok());
    EXPECT_EQ(*past->body, "{}");
  }
  EXPECT_GT(service->CachedBytes(), 0u);
}

TEST_P(UttrekkTest, ExactMultipleOfTheBatchSizeAndEmptyRegister) {
  UttrekkOptions o = Options();
  o.komplett_batch_size = 40;  // 120 persons: 3 full batches
  auto service = OpenWith(o);
  ASSERT_TRUE(service.ok());
  auto id = (*service)->OrderKomplett(kOrg, register_.total);
  ASSERT_TRUE(id.ok());
  auto bodies = Bodies(**service, *id);
  EXPECT_EQ(bodies.size(), 3u);
  // Nobody existed at seq 0 (only possible through the service; the handler refuses 0).
  auto empty = (*service)->OrderKomplett(kOrg, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(Bodies(**service, *empty).empty());
}

TEST_P(UttrekkTest, FinishedJobSurvivesARestartIdentically) {
  std::string id;
  std::vector<std::string> bodies;
  {
    auto service = Open();
    auto ordered = service->OrderKomplett(kOrg, register_.total - 10);
    ASSERT_TRUE(ordered.ok());
    id = *ordered;
    bodies = Bodies(*service, id);
  }
  auto service = Open(0);  // no workers: served from disk only
  EXPECT_EQ(service->CachedBytes(), 0u);
  EXPECT_EQ(Bodies(*service, id), bodies);
  EXPECT_EQ(service->UnfinishedJobs(kOrg), 0u);
}

TEST_P(UttrekkTest, UnfinishedJobIsComputedAgainAfterARestart) {
  std::string id;
  {
    auto service = Open(0);
    auto ordered = service->OrderKomplett(kOrg, register_.total);
    ASSERT_TRUE(ordered.ok());
    id = *ordered;
    EXPECT_FALSE(service->WaitIdle(10ms));
    EXPECT_EQ(service->UnfinishedJobs(kOrg), 1u);
  }
  if (files()) {
    // A stale batch file left behind must never be served: it is recomputed.
    ASSERT_TRUE(WriteFileAtomically(dir_.path() + "/uttrekk/" + id + "/0.json",
                                    "{\"dokumentidentifikator\":[\"x\"]}", 0600)
                    .ok());
  }
  auto service = Open();
  EXPECT_EQ(Ids(Bodies(*service, id)), ExpectedKomplett(register_, register_.total, *cipher_));
  EXPECT_EQ(service->UnfinishedJobs(kOrg), 0u);
}

TEST_P(UttrekkTest, ExpiredJobsAreGoneAndDeleted) {
  auto service = Open();
  auto id = service->OrderKomplett(kOrg, register_.total);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(Bodies(*service, *id).size(), 18u);
  now_ += std::chrono::milliseconds(24h).count() - 1;
  EXPECT_TRUE(service->Batch(kOrg, *id, 0).ok());
  EXPECT_EQ(service->SweepExpired(), 0u);
  now_ += 1;
  EXPECT_EQ(service->Batch(kOrg, *id, 0).error().code, ErrorCode::kGone);
  EXPECT_EQ(service->Batch(kOrg, *id, 99).error().code, ErrorCode::kGone);
  EXPECT_EQ(service->SweepExpired(), 1u);
  EXPECT_FALSE(Stored(*id));
  EXPECT_EQ(service->CachedBytes(), 0u);
  EXPECT_EQ(service->Batch(kOrg, *id, 0).error().code, ErrorCode::kGone);
}

TEST_P(UttrekkTest, ExpiredJobsAreDeletedAtOpen) {
  std::string id;
  {
    auto service = Open();
    id = *service->OrderKomplett(kOrg, register_.total);
    ASSERT_TRUE(service->WaitIdle(30s));
  }
  now_ += std::chrono::milliseconds(25h).count();
  auto service = Open();
  EXPECT_FALSE(Stored(id));
  EXPECT_EQ(service->Batch(kOrg, id, 0).error().code, ErrorCode::kGone);
}

TEST_P(UttrekkTest, AtMostTenUnfinishedJobsPerOrganisation) {
  auto service = Open(0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(service->OrderKomplett(kOrg, 5).ok()) << i;
  auto eleventh = service->OrderKomplett(kOrg, 5);
  EXPECT_EQ(eleventh.error().code, ErrorCode::kRateLimited);
  auto criteria = freg::ParseUttrekkCriteria(R"({"personstatustyper":["bosatt"]})");
  ASSERT_TRUE(criteria.ok());
  EXPECT_EQ(service->OrderTilpasset(kOrg, *criteria).error().code, ErrorCode::kRateLimited);
  EXPECT_TRUE(service->OrderKomplett(kOtherOrg, 5).ok());
  EXPECT_EQ(service->UnfinishedJobs(kOrg), 10u);
}

// Finished jobs do not count against the ten unfinished ones; every job that has not expired,
// finished or not, counts against max_kept_per_org (20): its batches are kept until it expires.
TEST_P(UttrekkTest, FinishedJobsCountAgainstTheKeptLimitOnly) {
  auto service = Open();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(service->OrderKomplett(kOrg, 5).ok()) << i;
    ASSERT_TRUE(service->WaitIdle(30s));
  }
  auto twentyfirst = service->OrderKomplett(kOrg, 5);
  ASSERT_FALSE(twentyfirst.ok());
  EXPECT_EQ(twentyfirst.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(twentyfirst.error().message,
            "Virksomheten har allerede 20 uttrekk som ikke er utløpt; prøv igjen når et er utløpt");
  EXPECT_TRUE(service->OrderKomplett(kOtherOrg, 5).ok());
}

TEST_P(UttrekkTest, UnknownMalformedAndForeignJobsAreGone) {
  auto service = Open();
  auto id = service->OrderKomplett(kOrg, register_.total);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(service->WaitIdle(30s));
  EXPECT_TRUE(service->Batch(kOrg, *id, 0).ok());
  for (std::string_view bad :
       {std::string_view("garbage"), std::string_view(""), std::string_view("../../etc/passwd"),
        std::string_view("00000000-0000-4000-8000-000000000000")}) {
    EXPECT_EQ(service->Batch(kOrg, bad, 0).error().code, ErrorCode::kGone) << bad;
  }
  EXPECT_EQ(service->Batch(kOtherOrg, *id, 0).error().code, ErrorCode::kGone);
  // Another spelling of the same UUID is not the jobbId handed out: gone on both stores.
  std::string upper = *id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, *id);
  EXPECT_EQ(service->Batch(kOrg, upper, 0).error().code, ErrorCode::kGone);
}

TEST_P(UttrekkTest, TilpassetListsTheMatchingPersonsNumbers) {
  auto service = Open();
  auto criteria =
      freg::ParseUttrekkCriteria(R"({"personstatustyper":["bosatt"],"kjoenn":"kvinne"})");
  ASSERT_TRUE(criteria.ok());
  auto id = service->OrderTilpasset(kOrg, *criteria);
  ASSERT_TRUE(id.ok());
  auto bodies = Bodies(*service, *id);
  std::multiset<std::string> expected;
  for (size_t i = 0; i < register_.persons.size(); ++i) {
    const bool moved = i % 3 == 0 && register_.persons[i].versions.size() >= 2;
    if (i % 2 == 1 && !moved) expected.insert(register_.persons[i].record.fnr);
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Ids(bodies), expected);
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto batch = service->Batch(kOrg, *id, i);
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->kind, UttrekkKind::kTilpasset);
    EXPECT_EQ(batch->count, i + 1 < bodies.size() ? 3u : (expected.size() - 1) % 3 + 1);
    EXPECT_EQ(batch->body->rfind("{\"foedselsEllerDNummer\":[\"", 0), 0u);
  }
  // The criteria are stored with the job: a restart serves (or recomputes) the same.
  service.reset();
  service = Open();
  EXPECT_EQ(Bodies(*service, *id), bodies);
}

NORREG_STORE_TEST_SUITE(UttrekkTest);

// --- PostgreSQL: several nodes sharing the jobs ---

class UttrekkNodesTest : public UttrekkFixture, public ::testing::Test {
 protected:
  void SetUp() override { SetUpRegister(Backend::kPostgres); }

  std::unique_ptr<UttrekkService> Node(const std::string& name, unsigned workers,
                                       std::chrono::milliseconds lease = 30s,
                                       std::chrono::milliseconds batch_delay = 0ms) {
    UttrekkOptions o = Options(workers);
    o.node_id = name;
    o.lease = lease;
    o.poll_interval = 50ms;
    o.test_batch_delay = batch_delay;
    auto service = OpenWith(std::move(o));
    EXPECT_TRUE(service.ok()) << service.error().detail;
    return service.ok() ? std::move(service).value() : nullptr;
  }

  // Waits until batch `n` of `id` is served by `node` (at most 30 s).
  static bool WaitForBatch(UttrekkService& node, const std::string& id, uint64_t n) {
    for (int i = 0; i < 3000; ++i) {
      if (node.Batch(kOrg, id, n).ok()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_F(UttrekkNodesTest, BatchesComputedOnOneNodeAreServedByTheOther) {
  auto a = Node("node-a", 2);
  auto b = Node("node-b", 0);
  ASSERT_TRUE(a && b);
  auto id = a->OrderKomplett(kOrg, register_.total - 5);
  ASSERT_TRUE(id.ok());
  const auto bodies = Bodies(*a, *id);
  EXPECT_EQ(Ids(bodies), ExpectedKomplett(register_, register_.total - 5, *cipher_));
  for (size_t n = 0; n < bodies.size(); ++n) {
    auto batch = b->Batch(kOrg, *id, n);
    ASSERT_TRUE(batch.ok()) << n;
    EXPECT_EQ(*batch->body, bodies[n]);
    EXPECT_EQ(batch->count, n + 1 < bodies.size() ? 7u : 120u % 7);
  }
  EXPECT_EQ(*b->Batch(kOrg, *id, bodies.size())->body, "{}");
  EXPECT_EQ(b->Batch(kOtherOrg, *id, 0).error().code, ErrorCode::kGone);
  // Ordered on the node without workers: not ready there until the other node computes it.
  auto criteria = freg::ParseUttrekkCriteria(R"({"personstatustyper":["bosatt"]})");
  ASSERT_TRUE(criteria.ok());
  auto c = Node("node-c", 0);
  auto tailored = c->OrderTilpasset(kOrg, *criteria);
  ASSERT_TRUE(tailored.ok());
  ASSERT_TRUE(WaitForBatch(*c, *tailored, 0));
  EXPECT_TRUE(a->WaitIdle(30s));
  EXPECT_EQ(Bodies(*c, *tailored), Bodies(*a, *tailored));
  EXPECT_EQ(c->UnfinishedJobs(kOrg), 0u);
}

TEST_F(UttrekkNodesTest, TheLimitOfTenHoldsAcrossNodes) {
  auto a = Node("node-a", 0);
  auto b = Node("node-b", 0);
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(a->OrderKomplett(kOrg, 5).ok()) << i;
    ASSERT_TRUE(b->OrderKomplett(kOrg, 5).ok()) << i;
  }
  EXPECT_EQ(a->OrderKomplett(kOrg, 5).error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(b->OrderKomplett(kOrg, 5).error().code, ErrorCode::kRateLimited);
  EXPECT_TRUE(b->OrderKomplett(kOtherOrg, 5).ok());
  EXPECT_EQ(a->UnfinishedJobs(kOrg), 10u);
  EXPECT_EQ(b->UnfinishedJobs(kOrg), 10u);
}

// A node that died mid-job (it stored batch 0 and stopped renewing): another node takes the job
// over when the lease has run out, keeps batch 0 and computes the rest, byte for byte the same.
TEST_F(UttrekkNodesTest, AJobIsTakenOverWhenItsNodeStopsRenewing) {
  std::vector<std::string> reference;
  {
    auto r = Node("reference", 2);
    ASSERT_TRUE(r);
    auto id = r->OrderKomplett(kOrg, register_.total);
    ASSERT_TRUE(id.ok());
    reference = Bodies(*r, *id);
  }
  ASSERT_GT(reference.size(), 2u);
  auto jobs = store::OpenPostgresUttrekkJobStore({.conninfo = db_->conninfo()});
  ASSERT_TRUE(jobs.ok());
  store::UttrekkJob job;
  job.id = ids::NewUuid();
  job.orgnr = kOrg;
  job.seq = register_.total;
  job.ordered_ms = now_;
  job.expires_ms = now_ + std::chrono::milliseconds(24h).count();
  ASSERT_TRUE((*jobs)->Create(job, 10, 100).ok());
  auto claimed = (*jobs)->Claim("dead-node", 300ms, now_);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_TRUE((*jobs)->PutBatch(job.id, 0, reference[0], 7).ok());

  auto b = Node("node-b", 1);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b->Batch(kOrg, job.id, 0)->body, reference[0]);  // stored: served at once
  ASSERT_TRUE(WaitForBatch(*b, job.id, reference.size()));    // done: the empty answer
  EXPECT_EQ(Bodies(*b, job.id), reference);
  EXPECT_EQ((*jobs)->Renew(job.id, "dead-node", 300ms).error().code, ErrorCode::kGone);
}

// A node that stops (SIGTERM, not a crash) gives its lease back: another node continues at once
// even with a long lease.
TEST_F(UttrekkNodesTest, AStoppingNodeReleasesItsJob) {
  std::string id;
  {
    auto a = Node("node-a", 1, 1h, 100ms);
    ASSERT_TRUE(a);
    auto ordered = a->OrderKomplett(kOrg, register_.total);
    ASSERT_TRUE(ordered.ok());
    id = *ordered;
    ASSERT_TRUE(WaitForBatch(*a, id, 0));
  }
  auto b = Node("node-b", 1, 1h);
  ASSERT_TRUE(b);
  EXPECT_EQ(Ids(Bodies(*b, id)), ExpectedKomplett(register_, register_.total, *cipher_));
  EXPECT_EQ(b->UnfinishedJobs(kOrg), 0u);
}

TEST(ForEachBatchIdTest, SplitsTheArray) {
  std::vector<std::string> seen;
  ForEachBatchId(R"({"foedselsEllerDNummer":["1","22","333"]})",
                 [&](std::string_view id) { seen.emplace_back(id); });
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "22", "333"}));
  seen.clear();
  ForEachBatchId("{}", [&](std::string_view id) { seen.emplace_back(id); });
  EXPECT_TRUE(seen.empty());
}

// Performance on a real register (not part of the default run): set NORREG_UTTREKK_REGISTER to
// a data folder made by `norreg generate --persons 1000000 --data <folder>`.
TEST(UttrekkPerformanceTest, KomplettOfALargeRegister) {
  const char* data = std::getenv("NORREG_UTTREKK_REGISTER");
  if (data == nullptr) GTEST_SKIP() << "NORREG_UTTREKK_REGISTER not set";
  auto store = store::OpenSqliteStore({.data_dir = data, .read_only = true});
  ASSERT_TRUE(store.ok()) << store.error().detail;
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  {  // The parts: the snapshot scan alone, and with the document ids encoded.
    const ids::DocumentIdCipher cipher((*store)->DocumentKey());
    std::string out;
    for (bool encode : {false, true}) {
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpu = std::clock();
      size_t visited = 0;
      Status s = (*store)->SnapshotScan(
          UINT64_MAX, store::SnapshotRecords::kSkip, [&](const store::SnapshotEntry& e) -> Status {
            ++visited;
            if (encode) {
              out.clear();
              cipher.AppendEncoded(out, ids::DocumentKind::kPerson, e.version_seq);
            }
            return Status::Ok();
          });
      ASSERT_TRUE(s.ok());
      std::printf("snapshot scan%s: %zu persons in %lld ms (cpu %ld ms)\n",
                  encode ? " + encode" : "", visited,
                  static_cast<long long>(ms(std::chrono::steady_clock::now() - start)),
                  static_cast<long>((std::clock() - cpu) * 1000 / CLOCKS_PER_SEC));
    }
  }
  TempFolder dir;
  UttrekkOptions o;
  o.dir = dir.path();
  auto service = UttrekkService::Open(**store, o);
  ASSERT_TRUE(service.ok());
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu = std::clock();
  auto id = (*service)->OrderKomplett(kOrg, UINT64_MAX);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE((*service)->WaitIdle(120s));
  const auto ordered = std::chrono::steady_clock::now();
  const long cpu_ms = static_cast<long>((std::clock() - cpu) * 1000 / CLOCKS_PER_SEC);
  size_t total = 0;
  uint64_t n = 0;
  for (;; ++n) {
    auto batch = (*service)->Batch(kOrg, *id, n);
    ASSERT_TRUE(batch.ok());
    if (batch->count == 0) break;
    total += batch->count;
  }
  const auto served = std::chrono::steady_clock::now();
  {  // What the handler adds for the disclosure log: the batch's ids as strings.
    auto batch = (*service)->Batch(kOrg, *id, 0);
    ASSERT_TRUE(batch.ok());
    const auto start_ids = std::chrono::steady_clock::now();
    std::vector<std::string> disclosed;
    disclosed.reserve(batch->count);
    ForEachBatchId(*batch->body, [&](std::string_view s) { disclosed.emplace_back(s); });
    std::printf("disclosure list of a %zu-id batch: %lld us\n", disclosed.size(),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::steady_clock::now() - start_ids)
                                           .count()));
  }
  std::printf(
      "komplett: %zu ids in %llu batches ready in %lld ms (cpu %ld ms); served from cache in %lld "
      "ms\n",
      total, static_cast<unsigned long long>(n), static_cast<long long>(ms(ordered - start)),
      cpu_ms, static_cast<long long>(ms(served - ordered)));

  auto criteria =
      freg::ParseUttrekkCriteria(R"({"personstatustyper":["bosatt"],"kjoenn":"kvinne"})");
  ASSERT_TRUE(criteria.ok());
  const auto tilpasset_start = std::chrono::steady_clock::now();
  const std::clock_t tilpasset_cpu = std::clock();
  auto tilpasset = (*service)->OrderTilpasset(kOrg, *criteria);
  ASSERT_TRUE(tilpasset.ok());
  ASSERT_TRUE((*service)->WaitIdle(300s));
  size_t matched = 0;
  for (n = 0;; ++n) {
    auto batch = (*service)->Batch(kOrg, *tilpasset, n);
    ASSERT_TRUE(batch.ok());
    if (batch->count == 0) break;
    matched += batch->count;
  }
  std::printf(
      "tilpasset (bosatt kvinne): %zu of %zu persons in %llu batches in %lld ms (cpu %ld ms)\n",
      matched, total, static_cast<unsigned long long>(n),
      static_cast<long long>(ms(std::chrono::steady_clock::now() - tilpasset_start)),
      static_cast<long>((std::clock() - tilpasset_cpu) * 1000 / CLOCKS_PER_SEC));
  EXPECT_GT(matched, total / 5);
  EXPECT_LT(matched, total * 3 / 5);

  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(total, stats->persons);
}

}  // namespace
}  // namespace norreg::service
