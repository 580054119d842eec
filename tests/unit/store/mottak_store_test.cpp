// Tests of the mottak stores (store/mottak_store.hpp) on SQLite and, when NORREG_TEST_PG is set,
// PostgreSQL: receipts and retries, organisation isolation, outbound/available filters, the
// confirm compare-and-set under races (from several store instances on PostgreSQL), checksums,
// large content, retention and reopening; then what only one of the stores has (SQLite's files
// and query plan).
#include "store/mottak_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.hpp"
#include "mottak/zip.hpp"
#include "store/postgres/pg.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace sqlite {
const char* MottakAvailableSql();  // defined in store/sqlite/mottak_sqlite_store.cpp
}  // namespace sqlite
namespace postgres {
const char* MottakAvailableSql();  // defined in store/postgres/mottak_postgres_store.cpp
}  // namespace postgres

namespace {

using testing::Backend;
using testing::BackendName;
using testing::TempFolder;
using testing::TestRegister;

constexpr const char* kOrgA = "910000001";
constexpr const char* kOrgB = "910000002";

std::unique_ptr<MottakStore> Open(const TempFolder& dir) {
  auto store = OpenSqliteMottakStore(dir.path());
  EXPECT_TRUE(store.ok()) << store.error().detail;
  return store.ok() ? std::move(store).value() : nullptr;
}

InboundMessage Upload(std::string org, std::string melding_id, size_t attachments = 2) {
  InboundMessage m;
  m.orgnr = std::move(org);
  m.melding_id = std::move(melding_id);
  m.tjeneste = "Aksjonaerregisteret";
  m.payload = "<Melding id=\"" + m.melding_id + "\"/>";
  for (size_t i = 0; i < attachments; ++i) {
    m.attachments.push_back({"vedlegg" + std::to_string(i) + ".pdf", "application/pdf",
                             std::string("%PDF\0binary", 11) + std::to_string(i)});
  }
  return m;
}

OutboundReply Reply(std::string org, std::string tjeneste = "Aksjonaerregisteret",
                    size_t attachments = 1) {
  OutboundReply r;
  r.orgnr = std::move(org);
  r.tjeneste = std::move(tjeneste);
  r.melding_referanse = "m-1";
  r.henvendelse_xml = "<Melding tjenestehandling=\"vedtak\"/>";
  for (size_t i = 0; i < attachments; ++i) {
    r.attachments.push_back({"svar" + std::to_string(i) + ".xml", "application/xml",
                             "<Svar n=\"" + std::to_string(i) + "\"/>"});
  }
  return r;
}

// Runs `sql` on the store's database through a connection of its own (as an operator would).
int64_t RawExec(const TempFolder& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  const std::string path = (std::filesystem::path(dir.path()) / "mottak.db").string();
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t first = -1;
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (first == -1) first = sqlite3_column_int64(st, 0);
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
  if (first == -1) first = sqlite3_changes(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return first;
}

std::vector<std::string> Ids(const std::vector<OutboundInfo>& infos) {
  std::vector<std::string> out;
  for (const auto& i : infos) out.push_back(i.mottak_id);
  return out;
}

// Starts `n` threads running fn(i) at (nearly) the same moment and joins them.
template <typename Fn>
void Race(int n, Fn fn) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < n) std::this_thread::yield();
      fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

// A fresh mottak store on either backend: SQLite in a temporary folder, or PostgreSQL in a schema
// of its own (spills in the folder's tmp/). Open() gives a separate store each time (its own
// connections, as another node would have).
Result<std::unique_ptr<MottakStore>> OpenOn(const TestRegister& r) {
  if (r.backend() == Backend::kSqlite) return OpenSqliteMottakStore(r.folder());
  return OpenPostgresMottakStore({.conninfo = r.conninfo(), .spill_dir = r.folder() + "/tmp"});
}

// Runs `sql` on the store's database through a connection of its own (as an operator would):
// the first column of the first row, else the number of rows changed.
int64_t SqlOn(const TestRegister& r, const std::string& sql) {
  if (r.backend() == Backend::kSqlite) {
    sqlite3* db = nullptr;
    const std::string path = (std::filesystem::path(r.folder()) / "mottak.db").string();
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    int64_t first = -1;
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (first == -1) first = sqlite3_column_int64(st, 0);
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
    if (first == -1) first = sqlite3_changes(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return first;
  }
  auto c = pg::Connection::Open(r.conninfo());
  EXPECT_TRUE(c.ok()) << c.error().detail;
  if (!c.ok()) return -1;
  auto rows = c->Query(sql.c_str());
  EXPECT_TRUE(rows.ok()) << rows.error().detail;
  if (!rows.ok()) return -1;
  if (rows->rows() > 0 && rows->columns() > 0) return rows->Int64(0, 0);
  return rows->affected();
}

class MottakStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    register_ = std::make_unique<TestRegister>(GetParam());
    if (!register_->unavailable().empty()) GTEST_SKIP() << register_->unavailable();
  }
  std::unique_ptr<MottakStore> Open() const {
    auto store = OpenOn(*register_);
    EXPECT_TRUE(store.ok()) << store.error().detail;
    return store.ok() ? std::move(store).value() : nullptr;
  }
  int64_t Sql(const std::string& sql) const { return SqlOn(*register_, sql); }
  bool sqlite() const { return GetParam() == Backend::kSqlite; }
  const TestRegister& test_register() const { return *register_; }

 private:
  std::unique_ptr<TestRegister> register_;
};
NORREG_STORE_TEST_SUITE(MottakStoreTest);

// PostgreSQL only: what several nodes sharing one database must agree on.
class MottakPostgresStoreTest : public MottakStoreTest {};
INSTANTIATE_TEST_SUITE_P(Stores, MottakPostgresStoreTest, ::testing::Values(Backend::kPostgres),
                         BackendName);

TEST_P(MottakStoreTest, StoresAndReturnsAnUpload) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const InboundMessage m = Upload(kOrgA, "m-1");
  auto receipt = store->StoreInbound(m, 1'000);
  ASSERT_TRUE(receipt.ok()) << receipt.error().detail;
  EXPECT_TRUE(ids::IsUuid(receipt->mottak_id));
  EXPECT_EQ(receipt->mottak_id.size(), 36u);
  for (char c : receipt->mottak_id) EXPECT_FALSE(c >= 'A' && c <= 'Z');
  EXPECT_EQ(receipt->received_ms, 1'000);
  EXPECT_EQ(receipt->antall_vedlegg, 2);
  EXPECT_FALSE(receipt->repeated);

  auto stored = store->GetInbound(kOrgA, receipt->mottak_id);
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->receipt.mottak_id, receipt->mottak_id);
  EXPECT_EQ(stored->receipt.received_ms, 1'000);
  EXPECT_EQ(stored->receipt.antall_vedlegg, 2);
  EXPECT_EQ(stored->message.orgnr, kOrgA);
  EXPECT_EQ(stored->message.melding_id, "m-1");
  EXPECT_EQ(stored->message.tjeneste, m.tjeneste);
  EXPECT_EQ(stored->message.payload, m.payload);
  ASSERT_EQ(stored->message.attachments.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(stored->message.attachments[i].name, m.attachments[i].name);
    EXPECT_EQ(stored->message.attachments[i].content_type, m.attachments[i].content_type);
    EXPECT_EQ(stored->message.attachments[i].content, m.attachments[i].content);
  }
  // Upper-case ids are the same UUID.
  std::string upper = receipt->mottak_id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(store->GetInbound(kOrgA, upper).ok());
}

TEST_P(MottakStoreTest, RepeatedUploadReturnsTheFirstReceiptAndStoresNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto first = store->StoreInbound(Upload(kOrgA, "m-1", 2), 1'000);
  ASSERT_TRUE(first.ok());
  struct Case {
    std::string org;
    std::string melding_id;
    bool repeated;
  };
  const std::vector<Case> cases = {
      {kOrgA, "m-1", true},
      {std::string("0192:") + kOrgA, "m-1", true},  // the same organisation
      {kOrgB, "m-1", false},                        // another organisation's m-1
      {kOrgA, "m-2", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.org + " " + c.melding_id);
    InboundMessage m = Upload(c.org, c.melding_id, 0);
    m.payload = "<Melding other=\"content\"/>";
    auto r = store->StoreInbound(m, 2'000);
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->repeated, c.repeated);
    if (c.repeated) {
      EXPECT_EQ(r->mottak_id, first->mottak_id);
      EXPECT_EQ(r->received_ms, 1'000);
      EXPECT_EQ(r->antall_vedlegg, 2);
    } else {
      EXPECT_NE(r->mottak_id, first->mottak_id);
      EXPECT_EQ(r->received_ms, 2'000);
      EXPECT_EQ(r->antall_vedlegg, 0);
    }
  }
  auto stored = store->GetInbound(kOrgA, first->mottak_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->message.payload, Upload(kOrgA, "m-1").payload);
  EXPECT_EQ(stored->message.attachments.size(), 2u);
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound"), 3);
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound_files"), 2);
}

// An upload with its receipt: both in one transaction. The receipt is published for a new
// upload only, and an upload whose receipt cannot be stored is not stored either.
TEST_P(MottakStoreTest, AnUploadAndItsReceiptAreStoredTogether) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  InboundMessage m = Upload(kOrgA, "m-1", 1);
  m.mottak_id = "0f0e0d0c-0b0a-4908-8706-050403020100";
  OutboundReply receipt = Reply(kOrgA, "Aksjonaerregisteret", 0);
  receipt.henvendelse_xml = "<Melding tjenestehandling=\"kvittering\"/>";
  m.receipt = std::make_shared<const OutboundReply>(receipt);
  auto stored = store->StoreInbound(m, 1'000);
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->mottak_id, m.mottak_id);
  auto available = store->Available({.orgnr = kOrgA});
  ASSERT_TRUE(available.ok());
  ASSERT_EQ(available->size(), 1u);
  EXPECT_EQ(available->front().melding_referanse, "m-1");
  // A repeat gets the first receipt back, and no second reply.
  InboundMessage again = m;
  again.mottak_id = "1f0e0d0c-0b0a-4908-8706-050403020100";
  auto repeated = store->StoreInbound(again, 2'000);
  ASSERT_TRUE(repeated.ok());
  EXPECT_TRUE(repeated->repeated);
  EXPECT_EQ(repeated->mottak_id, m.mottak_id);
  EXPECT_EQ(store->Available({.orgnr = kOrgA})->size(), 1u);
  // A receipt that cannot be stored (two attachments of one name: no ZIP holds them) takes the
  // upload with it: nothing of either is stored.
  InboundMessage refused = Upload(kOrgA, "m-2", 1);
  OutboundReply bad = Reply(kOrgA, "Aksjonaerregisteret", 0);
  bad.attachments.push_back({"a.xml", "application/xml", "<a/>"});
  bad.attachments.push_back({"a.xml", "application/xml", "<b/>"});
  refused.receipt = std::make_shared<const OutboundReply>(bad);
  EXPECT_FALSE(store->StoreInbound(refused, 3'000).ok());
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound"), 1);
  EXPECT_EQ(store->Available({.orgnr = kOrgA})->size(), 1u);
  InboundMessage plain = Upload(kOrgA, "m-2", 1);
  auto later = store->StoreInbound(plain, 4'000);
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->repeated);  // m-2 was never stored
}

TEST_P(MottakStoreTest, UploadWithoutOrganisationOrIdIsInvalid) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (const auto& [org, id] : std::vector<std::pair<std::string, std::string>>{
           {"", "m-1"}, {"0192:", "m-1"}, {kOrgA, ""}}) {
    auto r = store->StoreInbound(Upload(org, id), 1'000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound"), 0);
}

TEST_P(MottakStoreTest, ConcurrentIdenticalUploadsGetOneReceipt) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string melding_id = "race-" + std::to_string(round);
    std::vector<Result<InboundReceipt>> results(kThreads, Error{});
    Race(kThreads, [&](int i) {
      results[static_cast<size_t>(i)] =
          store->StoreInbound(Upload(kOrgA, melding_id), 1'000 + round);
    });
    int fresh = 0;
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.error().detail;
      EXPECT_EQ(r->mottak_id, results[0]->mottak_id);
      if (!r->repeated) ++fresh;
    }
    EXPECT_EQ(fresh, 1) << "round " << round;
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound"), kRounds);
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound_files"), 2 * kRounds);
}

TEST_P(MottakStoreTest, AnotherOrganisationsIdsAreNotFound) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto inbound = store->StoreInbound(Upload(kOrgA, "m-1"), 1'000);
  auto reply = store->PublishReply(Reply(kOrgA), 1'000);
  ASSERT_TRUE(inbound.ok() && reply.ok());
  const std::string unknown = ids::NewUuid();
  struct Case {
    std::string org;
    std::string id;
  };
  const std::vector<Case> cases = {
      {kOrgB, inbound->mottak_id}, {kOrgB, reply->mottak_id}, {kOrgA, unknown},
      {kOrgA, "not-a-uuid"},       {"", reply->mottak_id},    {kOrgA, ""},
  };
  std::string not_found_message;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.org + " " + c.id);
    auto in = store->GetInbound(c.org, c.id);
    ASSERT_FALSE(in.ok());
    EXPECT_EQ(in.error().code, ErrorCode::kNotFound);
    auto out = store->GetReply(c.org, c.id);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, ErrorCode::kNotFound);
    auto confirm = store->Confirm(c.org, c.id, 0, 2'000);
    ASSERT_FALSE(confirm.ok());
    EXPECT_EQ(confirm.error().code, ErrorCode::kNotFound);
    // Indistinguishable from an unknown id, message included.
    if (not_found_message.empty()) not_found_message = out.error().message;
    EXPECT_EQ(out.error().message, not_found_message);
    EXPECT_EQ(in.error().message, not_found_message);
    EXPECT_EQ(confirm.error().message, not_found_message);
  }
  // Nothing of organisation A is visible to B, and A's reply is untouched.
  EXPECT_TRUE(store->Available({.orgnr = kOrgB})->empty());
  auto still = store->GetReply(kOrgA, reply->mottak_id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->info.version, 0);
  EXPECT_FALSE(still->info.confirmed);
}

TEST_P(MottakStoreTest, PublishedReplyRoundTrips) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  const OutboundReply r = Reply(std::string("0192:") + kOrgA, "Aksjonaerregisteret", 2);
  auto info = store->PublishReply(r, 5'000);
  ASSERT_TRUE(info.ok()) << info.error().detail;
  EXPECT_TRUE(ids::IsUuid(info->mottak_id));
  EXPECT_TRUE(ids::IsUuid(info->dokument_id));
  EXPECT_NE(info->mottak_id, info->dokument_id);
  EXPECT_EQ(info->version, 0);
  EXPECT_EQ(info->orgnr, kOrgA);
  EXPECT_EQ(info->tjeneste, "Aksjonaerregisteret");
  EXPECT_EQ(info->melding_referanse, "m-1");
  EXPECT_FALSE(info->confirmed);
  EXPECT_EQ(info->oppdatert_ms, 5'000);

  auto stored = store->GetReply(std::string("0192:") + kOrgA, info->mottak_id);
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->info.mottak_id, info->mottak_id);
  EXPECT_EQ(stored->info.dokument_id, info->dokument_id);
  EXPECT_EQ(stored->info.orgnr, kOrgA);
  EXPECT_EQ(stored->info.melding_referanse, "m-1");
  EXPECT_EQ(stored->info.oppdatert_ms, 5'000);
  EXPECT_EQ(stored->henvendelse_xml, r.henvendelse_xml);
  ASSERT_EQ(stored->attachments.size(), 2u);
  EXPECT_EQ(stored->attachments[1].name, "svar1.xml");
  EXPECT_EQ(stored->attachments[1].content_type, "application/xml");
  EXPECT_EQ(stored->attachments[1].content, r.attachments[1].content);

  auto available = store->Available({.orgnr = kOrgA});
  ASSERT_TRUE(available.ok());
  ASSERT_EQ(available->size(), 1u);
  const OutboundInfo& a = available->front();
  EXPECT_EQ(a.mottak_id, info->mottak_id);
  EXPECT_EQ(a.dokument_id, info->dokument_id);
  EXPECT_EQ(a.orgnr, kOrgA);
  EXPECT_EQ(a.tjeneste, info->tjeneste);
  EXPECT_EQ(a.melding_referanse, "m-1");
  EXPECT_EQ(a.version, 0);
  EXPECT_FALSE(a.confirmed);
  EXPECT_EQ(a.oppdatert_ms, 5'000);
}

TEST_P(MottakStoreTest, AvailableFiltersAndOrders) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // Published out of time order on purpose; r[i] is the i-th publish.
  struct Pub {
    std::string org;
    std::string tjeneste;
    int64_t at;
  };
  const std::vector<Pub> pubs = {
      {kOrgA, "T1", 300}, {kOrgA, "T2", 100}, {kOrgA, "T1", 200}, {kOrgB, "T1", 150},
      {kOrgA, "T1", 200}, {kOrgA, "T2", 400}, {kOrgA, "T1", 500},
  };
  std::vector<std::string> r;
  for (const Pub& p : pubs) {
    auto info = store->PublishReply(Reply(p.org, p.tjeneste, 0), p.at);
    ASSERT_TRUE(info.ok());
    r.push_back(info->mottak_id);
  }
  // r[6] is confirmed: it leaves every listing.
  ASSERT_TRUE(store->Confirm(kOrgA, r[6], 0, 600).ok());

  struct Case {
    std::string name;
    AvailableQuery query;
    std::vector<size_t> expected;
  };
  const std::vector<Case> cases = {
      {"all of A, oldest first, ties in publish order", {.orgnr = kOrgA}, {1, 2, 4, 0, 5}},
      {"prefixed orgnr", {.orgnr = std::string("0192:") + kOrgA}, {1, 2, 4, 0, 5}},
      {"B", {.orgnr = kOrgB}, {3}},
      {"unknown org", {.orgnr = "999999999"}, {}},
      {"tjeneste", {.orgnr = kOrgA, .tjeneste = "T1"}, {2, 4, 0}},
      {"tjeneste unknown", {.orgnr = kOrgA, .tjeneste = "T3"}, {}},
      {"since inclusive", {.orgnr = kOrgA, .since_ms = 200}, {2, 4, 0, 5}},
      {"until exclusive", {.orgnr = kOrgA, .until_ms = 300}, {1, 2, 4}},
      {"window", {.orgnr = kOrgA, .since_ms = 150, .until_ms = 400}, {2, 4, 0}},
      {"empty window", {.orgnr = kOrgA, .since_ms = 300, .until_ms = 300}, {}},
      {"limit", {.orgnr = kOrgA, .limit = 2}, {1, 2}},
      {"limit 0", {.orgnr = kOrgA, .limit = 0}, {}},
      {"all filters",
       {.orgnr = kOrgA, .tjeneste = "T2", .since_ms = 50, .until_ms = 1'000, .limit = 1},
       {1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = store->Available(c.query);
    ASSERT_TRUE(got.ok()) << got.error().detail;
    std::vector<std::string> expected;
    for (size_t i : c.expected) expected.push_back(r[i]);
    EXPECT_EQ(Ids(*got), expected);
  }
}

TEST_P(MottakStoreTest, ConfirmIsACompareAndSet) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto reply = store->PublishReply(Reply(kOrgA), 1'000);
  ASSERT_TRUE(reply.ok());
  const std::string& id = reply->mottak_id;
  struct Step {
    int64_t expected_version;
    int64_t now;
    ErrorCode error;  // kInternal here means "succeeds"
    int64_t new_version;
  };
  const std::vector<Step> steps = {
      {1, 2'000, ErrorCode::kConflict, 0},                                        // not there yet
      {-1, 2'000, ErrorCode::kConflict, 0}, {0, 3'000, ErrorCode::kInternal, 1},  // the confirm
      {0, 4'000, ErrorCode::kConflict, 0},  // a late second confirm of version 0
      {1, 5'000, ErrorCode::kInternal, 2},  // confirming again with the current version
  };
  for (const Step& s : steps) {
    SCOPED_TRACE(s.expected_version);
    auto r = store->Confirm(kOrgA, id, s.expected_version, s.now);
    if (s.error == ErrorCode::kInternal) {
      ASSERT_TRUE(r.ok()) << r.error().detail;
      EXPECT_EQ(*r, s.new_version);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, s.error);
    }
  }
  auto stored = store->GetReply(kOrgA, id);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->info.confirmed);
  EXPECT_EQ(stored->info.version, 2);
  EXPECT_EQ(stored->info.oppdatert_ms, 5'000);
  EXPECT_TRUE(store->Available({.orgnr = kOrgA})->empty());
  // Retention counts from the first confirm (3 000), not the last change.
  EXPECT_EQ(*store->PurgeConfirmed(3'000), 0);
  EXPECT_EQ(*store->PurgeConfirmed(3'001), 1);
}

TEST_P(MottakStoreTest, ConcurrentConfirmsHaveExactlyOneWinner) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    auto reply = store->PublishReply(Reply(kOrgA, "T", 0), round);
    ASSERT_TRUE(reply.ok());
    std::vector<Result<int64_t>> results(kThreads, Error{});
    std::atomic<int> have_read{0};
    Race(kThreads, [&](int i) {
      // Each client reads the version (as from outbound/available) and, once all have read it,
      // confirms it. (A client reading after the winner's confirm would see version 1 and
      // legitimately confirm again.)
      auto current = store->GetReply(kOrgA, reply->mottak_id);
      have_read.fetch_add(1);
      while (have_read.load() < kThreads) std::this_thread::yield();
      if (!current.ok()) {
        results[static_cast<size_t>(i)] = current.error();
        return;
      }
      results[static_cast<size_t>(i)] =
          store->Confirm(kOrgA, reply->mottak_id, current->info.version, 10'000 + round);
    });
    int winners = 0;
    for (const auto& r : results) {
      if (r.ok()) {
        ++winners;
        EXPECT_EQ(*r, 1);
      } else {
        EXPECT_EQ(r.error().code, ErrorCode::kConflict) << r.error().detail;
      }
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    auto stored = store->GetReply(kOrgA, reply->mottak_id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->info.version, 1);
    EXPECT_TRUE(stored->info.confirmed);
    EXPECT_TRUE(store->Available({.orgnr = kOrgA})->empty());
  }
}

TEST_P(MottakStoreTest, ConcurrentWritersAndReadersAgree) {
  // Group commit: many threads publishing, confirming and uploading at once each get their own
  // correct answer.
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 6;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  Race(kThreads, [&](int t) {
    const std::string org = "92000000" + std::to_string(t);
    for (int i = 0; i < kPerThread; ++i) {
      auto reply = store->PublishReply(Reply(org, "T", 1), i);
      auto upload = store->StoreInbound(Upload(org, "m-" + std::to_string(i), 1), i);
      if (!reply.ok() || !upload.ok() || upload->repeated) {
        ++failures;
        continue;
      }
      if (i % 2 == 0 && !store->Confirm(org, reply->mottak_id, 0, 1'000 + i).ok()) ++failures;
      auto got = store->GetReply(org, reply->mottak_id);
      if (!got.ok() || got->attachments.size() != 1 || got->info.confirmed != (i % 2 == 0)) {
        ++failures;
      }
    }
    auto available = store->Available({.orgnr = org});
    if (!available.ok() || available->size() != kPerThread / 2) ++failures;
  });
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM outbound"), kThreads * kPerThread);
}

// SQLite's blob literals in PostgreSQL's words: X'3C4D' -> '\x3C4D'::bytea, zeroblob(n) -> n zeros.
std::string PgSql(std::string sql) {
  for (size_t at; (at = sql.find("X'")) != std::string::npos;) {
    const size_t end = sql.find('\'', at + 2);
    sql = sql.substr(0, at) + "'\\x" + sql.substr(at + 2, end - at - 2) + "'::bytea" +
          sql.substr(end + 1);
  }
  for (size_t at; (at = sql.find("zeroblob(")) != std::string::npos;) {
    const size_t end = sql.find(')', at);
    sql = sql.substr(0, at) + "decode(repeat('00', " + sql.substr(at + 9, end - at - 9) +
          "), 'hex')" + sql.substr(end + 1);
  }
  return sql;
}

TEST_P(MottakStoreTest, CorruptContentIsAnInternalError) {
  struct Case {
    std::string name;
    std::string sql;
    bool inbound;
  };
  const std::vector<Case> cases = {
      {"payload", "UPDATE inbound SET payload = X'3C4D2F3E'", true},
      {"payload digest", "UPDATE inbound SET payload_sha256 = zeroblob(32)", true},
      {"inbound file", "UPDATE inbound_files SET content = X'00' WHERE seq = 1", true},
      {"henvendelse", "UPDATE outbound SET henvendelse = X'3C4D2F3E'", false},
      {"reply ZIP", "UPDATE outbound_zips SET zip = X'504B0506'", false},
      {"reply ZIP digest", "UPDATE outbound_zips SET sha256 = zeroblob(32)", false},
      {"outbound file digest", "UPDATE outbound_files SET sha256 = X'00'", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestRegister fresh(GetParam());
    auto opened = OpenOn(fresh);
    ASSERT_TRUE(opened.ok()) << opened.error().detail;
    auto& store = *opened;
    auto inbound = store->StoreInbound(Upload(kOrgA, "m-1"), 1'000);
    auto reply = store->PublishReply(Reply(kOrgA), 1'000);
    ASSERT_TRUE(inbound.ok() && reply.ok());
    ASSERT_TRUE(store->GetInbound(kOrgA, inbound->mottak_id).ok());
    ASSERT_TRUE(store->GetReply(kOrgA, reply->mottak_id).ok());
    EXPECT_GE(SqlOn(fresh, sqlite() ? c.sql : PgSql(c.sql)), 1);
    if (c.inbound) {
      auto got = store->GetInbound(kOrgA, inbound->mottak_id);
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.error().code, ErrorCode::kInternal);
      EXPECT_NE(got.error().detail.find("corrupt"), std::string::npos);
      EXPECT_EQ(got.error().detail.find(".pdf") == std::string::npos, c.name != "inbound file");
      EXPECT_TRUE(store->GetReply(kOrgA, reply->mottak_id).ok());
    } else {
      auto got = store->GetReply(kOrgA, reply->mottak_id);
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.error().code, ErrorCode::kInternal);
      EXPECT_NE(got.error().detail.find("corrupt"), std::string::npos);
      EXPECT_TRUE(store->GetInbound(kOrgA, inbound->mottak_id).ok());
      if (c.name.starts_with("reply ZIP")) {
        // What a download serves: the stored ZIP, refused as well.
        auto zip = store->OpenReplyZip(kOrgA, reply->mottak_id);
        ASSERT_FALSE(zip.ok());
        EXPECT_EQ(zip.error().code, ErrorCode::kInternal);
      }
    }
  }
}

TEST_P(MottakStoreTest, PurgeDeletesRepliesConfirmedBeforeTheCutoff) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> r;
  for (int i = 0; i < 4; ++i) {
    auto info = store->PublishReply(Reply(kOrgA, "T", 2), 100);
    ASSERT_TRUE(info.ok());
    r.push_back(info->mottak_id);
  }
  ASSERT_TRUE(store->Confirm(kOrgA, r[0], 0, 1'000).ok());
  ASSERT_TRUE(store->Confirm(kOrgA, r[1], 0, 2'000).ok());
  ASSERT_TRUE(store->Confirm(kOrgA, r[2], 0, 3'000).ok());
  // r[3] stays unconfirmed.
  struct Case {
    int64_t before;
    int64_t purged;
    std::vector<bool> present;
  };
  const std::vector<Case> cases = {
      {1'000, 0, {true, true, true, true}},    // exclusive
      {2'001, 2, {false, false, true, true}},  // r[0] and r[1]
      {2'001, 0, {false, false, true, true}},  // nothing left to do
      {1'000'000, 1, {false, false, false, true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.before);
    auto purged = store->PurgeConfirmed(c.before);
    ASSERT_TRUE(purged.ok()) << purged.error().detail;
    EXPECT_EQ(*purged, c.purged);
    for (size_t i = 0; i < r.size(); ++i) {
      auto got = store->GetReply(kOrgA, r[i]);
      EXPECT_EQ(got.ok(), c.present[i]) << i;
      if (!got.ok()) {
        EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
      }
    }
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM outbound_files"), 2);
  EXPECT_EQ(Ids(*store->Available({.orgnr = kOrgA})), std::vector<std::string>{r[3]});
}

TEST_P(MottakStoreTest, EverythingSurvivesReopening) {
  std::string inbound_id, confirmed_id, open_id;
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    auto inbound = store->StoreInbound(Upload(kOrgA, "m-1"), 1'000);
    auto confirmed = store->PublishReply(Reply(kOrgA), 2'000);
    auto open = store->PublishReply(Reply(kOrgA, "T2", 3), 2'500);
    ASSERT_TRUE(inbound.ok() && confirmed.ok() && open.ok());
    ASSERT_TRUE(store->Confirm(kOrgA, confirmed->mottak_id, 0, 3'000).ok());
    inbound_id = inbound->mottak_id;
    confirmed_id = confirmed->mottak_id;
    open_id = open->mottak_id;
  }
  for (int reopen = 0; reopen < 2; ++reopen) {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    auto inbound = store->GetInbound(kOrgA, inbound_id);
    ASSERT_TRUE(inbound.ok()) << inbound.error().detail;
    EXPECT_EQ(inbound->message.payload, Upload(kOrgA, "m-1").payload);
    EXPECT_EQ(inbound->message.attachments.size(), 2u);
    auto repeat = store->StoreInbound(Upload(kOrgA, "m-1"), 9'000);
    ASSERT_TRUE(repeat.ok());
    EXPECT_TRUE(repeat->repeated);
    EXPECT_EQ(repeat->mottak_id, inbound_id);
    EXPECT_EQ(repeat->received_ms, 1'000);

    auto confirmed = store->GetReply(kOrgA, confirmed_id);
    ASSERT_TRUE(confirmed.ok());
    EXPECT_TRUE(confirmed->info.confirmed);
    EXPECT_EQ(confirmed->info.version, 1);
    EXPECT_EQ(confirmed->info.oppdatert_ms, 3'000);
    auto open = store->GetReply(kOrgA, open_id);
    ASSERT_TRUE(open.ok());
    EXPECT_EQ(open->attachments.size(), 3u);
    EXPECT_EQ(Ids(*store->Available({.orgnr = kOrgA})), std::vector<std::string>{open_id});
    EXPECT_EQ(store->Confirm(kOrgA, confirmed_id, 0, 4'000).error().code, ErrorCode::kConflict);
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound"), 1);
}

TEST(MottakSqliteStoreTest, DatabaseIsInWalMode) {
  TempFolder dir;
  ASSERT_NE(Open(dir), nullptr);
  sqlite3* db = nullptr;
  const std::string path = (std::filesystem::path(dir.path()) / "mottak.db").string();
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(MottakSqliteStoreTest, AvailableIsAnIndexRangeScan) {
  TempFolder dir;
  {
    auto store = Open(dir);
    ASSERT_NE(store, nullptr);
    // Some replies of several organisations, half of them confirmed.
    for (int org = 0; org < 20; ++org) {
      for (int i = 0; i < 10; ++i) {
        auto info = store->PublishReply(Reply("93000000" + std::to_string(org % 10), "T", 0), i);
        ASSERT_TRUE(info.ok());
        if (i % 2 == 0) {
          ASSERT_TRUE(store->Confirm(info->orgnr, info->mottak_id, 0, 50).ok());
        }
      }
    }
  }
  for (bool analyzed : {false, true}) {
    SCOPED_TRACE(analyzed ? "after ANALYZE" : "without statistics");
    if (analyzed) {
      RawExec(dir, "ANALYZE");
    }
    sqlite3* db = nullptr;
    const std::string path = (std::filesystem::path(dir.path()) / "mottak.db").string();
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    const std::string sql = std::string("EXPLAIN QUERY PLAN ") + sqlite::MottakAvailableSql();
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::string plan;
    while (sqlite3_step(st) == SQLITE_ROW) {
      plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
      plan += '\n';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    EXPECT_NE(plan.find("USING COVERING INDEX outbound_available (orgnr=? AND oppdatert_ms>? AND "
                        "oppdatert_ms<?)"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;  // no sort step
  }
}

// --- Large content as files (migration 2) ---

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7 + seed) & 0xff);
  return s;
}

// A finished spill of the store holding `content`.
MottakFile Spilled(MottakStore& store, std::string name, std::string type,
                   const std::string& content) {
  auto spill = store.NewSpill();
  EXPECT_TRUE(spill.ok());
  for (size_t at = 0; at < content.size(); at += 65536) {
    EXPECT_TRUE((*spill)->Append(std::string_view(content).substr(at, 65536)).ok());
  }
  EXPECT_TRUE((*spill)->Finish().ok());
  MottakFile f;
  f.name = std::move(name);
  f.content_type = std::move(type);
  f.spilled = std::shared_ptr<BlobWriter>(std::move(spill).value());
  return f;
}

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

std::string ReadAllOf(ReplyZip& zip) {
  if (zip.bytes) return *zip.bytes;
  std::string out;
  while (true) {
    auto piece = zip.file->Next();
    EXPECT_TRUE(piece.ok());
    if (!piece.ok() || piece->empty()) break;
    out.append(*piece);
  }
  return out;
}

// An upload's attachments arrive sealed but not yet on disk (the io thread does not wait for it):
// the store flushes them before it keeps them.
TEST(MottakSqliteStoreTest, SealedSpillsAreMadeDurableBeforeTheyAreKept) {
  TempFolder dir;
  auto store = Open(dir);
  ASSERT_NE(store, nullptr);
  InboundMessage m = Upload(kOrgA, "m-sealed", 1);
  std::vector<std::shared_ptr<BlobWriter>> spills;
  for (int i = 0; i < 3; ++i) {
    auto spill = store->NewSpill();
    ASSERT_TRUE(spill.ok());
    ASSERT_TRUE((*spill)->Append(Pattern(10'000, i)).ok());
    ASSERT_TRUE((*spill)->Seal().ok());
    MottakFile f;
    f.name = "v" + std::to_string(i) + ".pdf";
    f.content_type = "application/pdf";
    f.spilled = std::shared_ptr<BlobWriter>(std::move(spill).value());
    EXPECT_FALSE(f.spilled->durable());
    spills.push_back(f.spilled);
    m.attachments.push_back(std::move(f));
  }
  auto receipt = store->StoreInbound(m, 1'000);
  ASSERT_TRUE(receipt.ok()) << receipt.error().detail;
  for (const auto& spill : spills) EXPECT_TRUE(spill->durable());
  EXPECT_EQ(FilesIn(dir.path() + "/blobs"), 3u);
}

TEST(MottakSqliteStoreTest, SpilledAttachmentsAreKeptAsFilesOnce) {
  TempFolder dir;
  auto store = Open(dir);
  ASSERT_NE(store, nullptr);
  const std::string big = Pattern(3'000'000, 1);
  InboundMessage m = Upload(kOrgA, "m-big", 1);
  m.attachments.push_back(Spilled(*store, "stor.pdf", "application/pdf", big));
  EXPECT_EQ(FilesIn(dir.path() + "/tmp"), 1u);
  auto receipt = store->StoreInbound(m, 1'000);
  ASSERT_TRUE(receipt.ok()) << receipt.error().detail;
  EXPECT_EQ(receipt->antall_vedlegg, 2);
  EXPECT_EQ(FilesIn(dir.path() + "/tmp"), 0u);
  EXPECT_EQ(FilesIn(dir.path() + "/blobs"), 1u);
  EXPECT_EQ(RawExec(dir, "SELECT count(*) FROM inbound_files WHERE file IS NOT NULL"), 1);

  auto stored = store->GetInbound(kOrgA, receipt->mottak_id);
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  ASSERT_EQ(stored->message.attachments.size(), 2u);
  EXPECT_EQ(stored->message.attachments[0].content, m.attachments[0].content);
  EXPECT_EQ(stored->message.attachments[1].name, "stor.pdf");
  EXPECT_EQ(stored->message.attachments[1].content_type, "application/pdf");
  EXPECT_TRUE(stored->message.attachments[1].content == big);

  // A retry stores nothing: its spill is dropped, the first upload's file stays.
  InboundMessage again = Upload(kOrgA, "m-big", 1);
  again.attachments.push_back(Spilled(*store, "stor.pdf", "application/pdf", big));
  auto repeat = store->StoreInbound(again, 2'000);
  ASSERT_TRUE(repeat.ok());
  EXPECT_TRUE(repeat->repeated);
  again.attachments.clear();
  EXPECT_EQ(FilesIn(dir.path() + "/tmp"), 0u);
  EXPECT_EQ(FilesIn(dir.path() + "/blobs"), 1u);

  // A damaged file is an error naming the attachment.
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/blobs")) {
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1'000'000);
    f.put('\x7f');
  }
  auto damaged = store->GetInbound(kOrgA, receipt->mottak_id);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code, ErrorCode::kInternal);
  EXPECT_NE(damaged.error().detail.find("stor.pdf"), std::string::npos);
}

TEST_P(MottakStoreTest, ReplyZipIsBuiltOnceAndServedVerified) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // Small: kept in the database. Large (a spilled attachment): kept as a file.
  auto small = store->PublishReply(Reply(kOrgA), 1'000);
  const std::string big = Pattern(2'000'000, 2);
  OutboundReply large = Reply(kOrgA, "T", 1);
  large.attachments.push_back(Spilled(*store, "vedtak.pdf", "application/pdf", big));
  auto info = store->PublishReply(large, 2'000);
  ASSERT_TRUE(small.ok() && info.ok()) << info.error().detail;
  const std::string dir = test_register().folder();
  if (sqlite()) {
    EXPECT_EQ(FilesIn(dir + "/blobs"), 1u);
  } else {
    // In the database, as pieces: nothing in a node's folder but the caller's spill.
    EXPECT_EQ(Sql("SELECT count(DISTINCT blob_id) FROM mottak_blob_chunks"), 1);
    EXPECT_EQ(Sql("SELECT count(*) FROM outbound_zips WHERE blob_id IS NULL"), 1);
  }
  // The spill went into the ZIP; the caller's copy goes when the caller drops it.
  EXPECT_EQ(FilesIn(dir + "/tmp"), 1u);
  large.attachments.pop_back();
  EXPECT_EQ(FilesIn(dir + "/tmp"), 0u);

  auto inline_zip = store->OpenReplyZip(kOrgA, small->mottak_id);
  ASSERT_TRUE(inline_zip.ok());
  ASSERT_NE(inline_zip->bytes, nullptr);
  EXPECT_EQ(inline_zip->size, inline_zip->bytes->size());
  auto entries = mottak::ReadZip(*inline_zip->bytes);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].name, "henvendelse.xml");

  auto zip = store->OpenReplyZip(kOrgA, info->mottak_id);
  ASSERT_TRUE(zip.ok()) << zip.error().detail;
  ASSERT_NE(zip->file, nullptr);
  EXPECT_EQ(zip->info.mottak_id, info->mottak_id);
  const std::string bytes = ReadAllOf(*zip);
  EXPECT_EQ(bytes.size(), zip->size);
  entries = mottak::ReadZip(bytes);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].content, large.henvendelse_xml);
  EXPECT_EQ((*entries)[1].content, large.attachments[0].content);
  EXPECT_EQ((*entries)[1].name, "svar0.xml");
  EXPECT_EQ((*entries)[2].name, "vedtak.pdf");
  EXPECT_TRUE((*entries)[2].content == big);
  // Served twice: the same bytes (nothing is rebuilt).
  auto again = store->OpenReplyZip(kOrgA, info->mottak_id);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(ReadAllOf(*again) == bytes);
  auto reply = store->GetReply(kOrgA, info->mottak_id);
  ASSERT_TRUE(reply.ok()) << reply.error().detail;
  ASSERT_EQ(reply->attachments.size(), 2u);
  EXPECT_EQ(reply->attachments[1].content_type, "application/pdf");
  EXPECT_TRUE(reply->attachments[1].content == big);
  auto state = store->GetReplyInfo(kOrgA, info->mottak_id);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->version, 0);
  EXPECT_EQ(state->oppdatert_ms, 2'000);
  EXPECT_EQ(store->GetReplyInfo(kOrgB, info->mottak_id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->OpenReplyZip(kOrgB, info->mottak_id).error().code, ErrorCode::kNotFound);

  // Rot in the file (the third piece): the reader refuses it before its last piece.
  if (sqlite()) {
    for (const auto& e : std::filesystem::directory_iterator(dir + "/blobs")) {
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(1'500'000);
      f.put('\x01');
    }
  } else {
    EXPECT_EQ(Sql("UPDATE mottak_blob_chunks SET data = overlay(data placing '\\x01'::bytea "
                  "from 1000) WHERE seq = 2"),
              1);
  }
  auto rotten = store->OpenReplyZip(kOrgA, info->mottak_id);
  ASSERT_TRUE(rotten.ok());
  uint64_t handed_out = 0;
  Result<std::string_view> piece = std::string_view();
  while ((piece = rotten->file->Next()).ok() && !piece->empty()) handed_out += piece->size();
  ASSERT_FALSE(piece.ok());
  EXPECT_EQ(piece.error().code, ErrorCode::kInternal);
  EXPECT_LT(handed_out, rotten->size);
  EXPECT_FALSE(store->GetReply(kOrgA, info->mottak_id).ok());
}

TEST_P(MottakStoreTest, PurgeRemovesTheZipFiles) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  OutboundReply large = Reply(kOrgA, "T", 0);
  large.attachments.push_back(Spilled(*store, "a.pdf", "application/pdf", Pattern(400'000, 3)));
  auto info = store->PublishReply(large, 1'000);
  ASSERT_TRUE(info.ok());
  if (sqlite()) {
    EXPECT_EQ(FilesIn(test_register().folder() + "/blobs"), 1u);
  } else {
    EXPECT_GT(Sql("SELECT count(*) FROM mottak_blob_chunks"), 0);
  }
  ASSERT_TRUE(store->Confirm(kOrgA, info->mottak_id, 0, 2'000).ok());
  auto purged = store->PurgeConfirmed(3'000);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  if (sqlite()) {
    EXPECT_EQ(FilesIn(test_register().folder() + "/blobs"), 0u);
  } else {
    EXPECT_EQ(Sql("SELECT count(*) FROM mottak_blob_chunks"), 0);
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM outbound_zips"), 0);
}

TEST(MottakSqliteStoreTest, OpeningRemovesLeftoverFilesAndZipsOldReplies) {
  TempFolder dir;
  std::string kept_id, old_id;
  std::string old_zip;
  {
    auto store = Open(dir);
    ASSERT_NE(store, nullptr);
    OutboundReply large = Reply(kOrgA, "T", 0);
    large.attachments.push_back(Spilled(*store, "a.pdf", "application/pdf", Pattern(300'000, 4)));
    auto kept = store->PublishReply(large, 1'000);
    auto old = store->PublishReply(Reply(kOrgA, "T", 2), 1'000);
    ASSERT_TRUE(kept.ok() && old.ok());
    kept_id = kept->mottak_id;
    old_id = old->mottak_id;
    auto zip = store->OpenReplyZip(kOrgA, old_id);
    ASSERT_TRUE(zip.ok());
    old_zip = *zip->bytes;
    // Leftovers of a crash: a spill never stored, a blob whose row never committed.
    std::ofstream(dir.path() + "/tmp/killed-upload.tmp") << "half";
    std::ofstream(dir.path() + "/blobs/never-committed") << "x";
  }
  // A reply as published before migration 2: no ZIP row, its attachments inline.
  EXPECT_EQ(RawExec(dir,
                    "DELETE FROM outbound_zips WHERE outbound_id = (SELECT id FROM "
                    "outbound WHERE mottak_id = '" +
                        old_id + "')"),
            1);
  RawExec(dir,
          "UPDATE outbound_files SET content = CASE seq WHEN 0 THEN '<Svar n=\"0\"/>' "
          "ELSE '<Svar n=\"1\"/>' END WHERE outbound_id = (SELECT id FROM outbound WHERE "
          "mottak_id = '" +
              old_id + "')");
  auto store = Open(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(FilesIn(dir.path() + "/tmp"), 0u);
  EXPECT_EQ(FilesIn(dir.path() + "/blobs"), 1u);
  auto kept = store->OpenReplyZip(kOrgA, kept_id);
  ASSERT_TRUE(kept.ok());
  EXPECT_NE(kept->file, nullptr);
  auto rebuilt = store->OpenReplyZip(kOrgA, old_id);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().detail;
  EXPECT_EQ(*rebuilt->bytes, old_zip);  // the same bytes a download built before
}

// --- PostgreSQL: several nodes on one database ---

TEST_P(MottakPostgresStoreTest, SpilledAttachmentsAreStoredAsPiecesByteForByte) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // Not a multiple of the piece size: the last piece is short.
  const std::string big = Pattern(12'000'000 + 123, 5);
  InboundMessage m = Upload(kOrgA, "m-big", 1);
  m.attachments.push_back(Spilled(*store, "stor.pdf", "application/pdf", big));
  auto receipt = store->StoreInbound(m, 1'000);
  ASSERT_TRUE(receipt.ok()) << receipt.error().detail;
  EXPECT_EQ(receipt->antall_vedlegg, 2);
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound_files WHERE blob_id IS NOT NULL"), 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM mottak_blob_chunks"), 23);  // 12 000 123 / 512 KiB
  EXPECT_EQ(Sql("SELECT max(length(data)) FROM mottak_blob_chunks"), 512 * 1024);
  // The spill stays the caller's: it goes when the message goes.
  m.attachments.pop_back();
  EXPECT_EQ(FilesIn(test_register().folder() + "/tmp"), 0u);

  // Read back by another store (another node): byte for byte.
  auto other = Open();
  ASSERT_NE(other, nullptr);
  auto stored = other->GetInbound(kOrgA, receipt->mottak_id);
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  ASSERT_EQ(stored->message.attachments.size(), 2u);
  EXPECT_EQ(stored->message.attachments[0].content, m.attachments[0].content);
  EXPECT_EQ(stored->message.attachments[1].name, "stor.pdf");
  EXPECT_TRUE(stored->message.attachments[1].content == big);

  // A retry on the other node stores nothing.
  InboundMessage again = Upload(kOrgA, "m-big", 1);
  again.attachments.push_back(Spilled(*other, "stor.pdf", "application/pdf", big));
  auto repeat = other->StoreInbound(again, 2'000);
  ASSERT_TRUE(repeat.ok());
  EXPECT_TRUE(repeat->repeated);
  EXPECT_EQ(repeat->mottak_id, receipt->mottak_id);
  EXPECT_EQ(Sql("SELECT count(*) FROM mottak_blob_chunks"), 23);

  // A damaged piece, or a missing one, is an error naming the attachment.
  for (const std::string& damage :
       {std::string("UPDATE mottak_blob_chunks SET data = overlay(data placing '\\x7f'::bytea "
                    "from 100) WHERE seq = 7"),
        std::string("DELETE FROM mottak_blob_chunks WHERE seq = 22")}) {
    SCOPED_TRACE(damage);
    EXPECT_EQ(Sql(damage), 1);
    auto damaged = store->GetInbound(kOrgA, receipt->mottak_id);
    ASSERT_FALSE(damaged.ok());
    EXPECT_EQ(damaged.error().code, ErrorCode::kInternal);
    EXPECT_NE(damaged.error().detail.find("stor.pdf"), std::string::npos);
  }
}

TEST_P(MottakPostgresStoreTest, LargeReplyZipStreamsFromAnotherNode) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  const std::string big = Pattern(5'000'000, 6);
  OutboundReply large = Reply(kOrgA, "T", 1);
  large.attachments.push_back(Spilled(*a, "vedtak.pdf", "application/pdf", big));
  auto info = a->PublishReply(large, 1'000);
  ASSERT_TRUE(info.ok()) << info.error().detail;
  auto zip = b->OpenReplyZip(kOrgA, info->mottak_id);
  ASSERT_TRUE(zip.ok()) << zip.error().detail;
  ASSERT_NE(zip->file, nullptr);
  size_t pieces = 0;
  std::string bytes;
  while (true) {
    auto piece = zip->file->Next();
    ASSERT_TRUE(piece.ok()) << piece.error().detail;
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), 512u * 1024);
    bytes.append(*piece);
    ++pieces;
  }
  EXPECT_EQ(bytes.size(), zip->size);
  EXPECT_GE(pieces, 9u);
  auto entries = mottak::ReadZip(bytes);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_TRUE((*entries)[2].content == big);
  // A reader outlives its store (a download still being sent while the node stops).
  auto late = b->OpenReplyZip(kOrgA, info->mottak_id);
  ASSERT_TRUE(late.ok());
  b.reset();
  auto first = late->file->Next();
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_EQ(*first, std::string_view(bytes).substr(0, first->size()));
}

TEST_P(MottakPostgresStoreTest, ConfirmsFromSeveralNodesHaveExactlyOneWinner) {
  constexpr int kNodes = 4;
  constexpr int kRounds = 25;
  std::vector<std::unique_ptr<MottakStore>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(Open());
    ASSERT_NE(nodes.back(), nullptr);
  }
  for (int round = 0; round < kRounds; ++round) {
    auto reply =
        nodes[static_cast<size_t>(round % kNodes)]->PublishReply(Reply(kOrgA, "T", 0), round);
    ASSERT_TRUE(reply.ok());
    // Two clients per node, all with the version they read before any confirm.
    constexpr int kClients = 2 * kNodes;
    std::vector<Result<int64_t>> results(kClients, Error{});
    std::atomic<int> have_read{0};
    Race(kClients, [&](int i) {
      MottakStore& node = *nodes[static_cast<size_t>(i % kNodes)];
      auto current = node.GetReplyInfo(kOrgA, reply->mottak_id);
      have_read.fetch_add(1);
      while (have_read.load() < kClients) std::this_thread::yield();
      if (!current.ok()) {
        results[static_cast<size_t>(i)] = current.error();
        return;
      }
      results[static_cast<size_t>(i)] =
          node.Confirm(kOrgA, reply->mottak_id, current->version, 10'000 + round);
    });
    int winners = 0;
    for (const auto& r : results) {
      if (r.ok()) {
        ++winners;
        EXPECT_EQ(*r, 1);
      } else {
        EXPECT_EQ(r.error().code, ErrorCode::kConflict) << r.error().detail;
      }
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    auto stored = nodes[0]->GetReplyInfo(kOrgA, reply->mottak_id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->version, 1);
    EXPECT_TRUE(stored->confirmed);
  }
  EXPECT_TRUE(nodes[1]->Available({.orgnr = kOrgA})->empty());
}

TEST_P(MottakPostgresStoreTest, UploadsAndPurgesFromSeveralNodesAgree) {
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<MottakStore>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(Open());
    ASSERT_NE(nodes.back(), nullptr);
  }
  // The same upload sent to every node at once: one receipt.
  for (int round = 0; round < 10; ++round) {
    std::vector<Result<InboundReceipt>> results(kNodes, Error{});
    Race(kNodes, [&](int i) {
      results[static_cast<size_t>(i)] = nodes[static_cast<size_t>(i)]->StoreInbound(
          Upload(kOrgA, "race-" + std::to_string(round)), 1'000);
    });
    int fresh = 0;
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.error().detail;
      EXPECT_EQ(r->mottak_id, results[0]->mottak_id);
      fresh += r->repeated ? 0 : 1;
    }
    EXPECT_EQ(fresh, 1);
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound"), 10);
  EXPECT_EQ(Sql("SELECT count(*) FROM inbound_files"), 20);
  // Every node's retention sweeper at once: each reply purged once, nothing left.
  constexpr int kReplies = 30;
  for (int i = 0; i < kReplies; ++i) {
    OutboundReply r = Reply(kOrgA, "T", 1);
    if (i % 3 == 0) {
      r.attachments.push_back(Spilled(*nodes[0], "a.pdf", "application/pdf", Pattern(300'000, i)));
    }
    auto info = nodes[static_cast<size_t>(i % kNodes)]->PublishReply(r, 100);
    ASSERT_TRUE(info.ok());
    ASSERT_TRUE(nodes[0]->Confirm(kOrgA, info->mottak_id, 0, 200 + i).ok());
  }
  std::vector<Result<int64_t>> purged(kNodes, Error{});
  Race(kNodes, [&](int i) {
    purged[static_cast<size_t>(i)] = nodes[static_cast<size_t>(i)]->PurgeConfirmed(10'000);
  });
  int64_t total = 0;
  for (const auto& p : purged) {
    ASSERT_TRUE(p.ok()) << p.error().detail;
    total += *p;
  }
  EXPECT_EQ(total, kReplies);
  for (const char* table : {"outbound", "outbound_files", "outbound_zips", "mottak_blob_chunks"}) {
    EXPECT_EQ(Sql(std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
}

TEST_P(MottakPostgresStoreTest, AvailableCanBeAnIndexScanInItsOrder) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 200; ++i) {
    auto info = store->PublishReply(Reply("93000000" + std::to_string(i % 10), "T", 0), i);
    ASSERT_TRUE(info.ok());
    if (i % 2 == 0) {
      ASSERT_TRUE(store->Confirm(info->orgnr, info->mottak_id, 0, 500).ok());
    }
  }
  auto c = pg::Connection::Open(test_register().conninfo());
  ASSERT_TRUE(c.ok()) << c.error().detail;
  // A table this small is read whole; without that option the listing must still need no sort.
  ASSERT_TRUE(
      c->Exec("ANALYZE outbound; SET enable_seqscan = off; SET enable_bitmapscan = off").ok());
  std::string sql = postgres::MottakAvailableSql();
  const std::vector<std::pair<std::string, std::string>> values = {
      {"$1", "'930000003'"},
      {"$2", "(-9223372036854775807 - 1)"},
      {"$3", "9223372036854775807"},
      {"$4", "''"},
      {"$5", "10000"}};
  for (const auto& [name, value] : values) {
    for (size_t at; (at = sql.find(name)) != std::string::npos;) sql.replace(at, 2, value);
  }
  auto plan = c->Query(("EXPLAIN " + sql).c_str());
  ASSERT_TRUE(plan.ok()) << plan.error().detail;
  std::string text;
  for (int i = 0; i < plan->rows(); ++i) text += std::string(plan->Text(i, 0)) + "\n";
  EXPECT_NE(text.find("using outbound_available"), std::string::npos) << text;
  EXPECT_EQ(text.find("Sort"), std::string::npos) << text;
}

TEST_P(MottakPostgresStoreTest, SchemaVersionIsApartFromTheRegisters) {
  ASSERT_NE(Open(), nullptr);
  EXPECT_EQ(Sql("SELECT version FROM mottak_schema_version"), 1);
  auto reg = test_register().Open();  // the register store in the same schema
  ASSERT_TRUE(reg.ok()) << reg.error().detail;
  ASSERT_NE(Open(), nullptr);  // and again, with the register's tables beside it
  EXPECT_EQ(Sql("SELECT version FROM mottak_schema_version"), 1);
  Sql("UPDATE mottak_schema_version SET version = 99");
  auto newer = OpenOn(test_register());
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("nyere"), std::string::npos) << newer.error().message;
}

}  // namespace
}  // namespace norreg::store
