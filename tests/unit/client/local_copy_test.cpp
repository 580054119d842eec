#include "client/local_copy.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/compress.hpp"

namespace norreg::client {
namespace {

class LocalCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("norreg_copy_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::unique_ptr<LocalCopy> Open() {
    auto copy = LocalCopy::Open(path_);
    EXPECT_TRUE(copy.ok()) << copy.error().message;
    return std::move(*copy);
  }
  std::string path_;
};

TEST_F(LocalCopyTest, PutReplacesAndSurvivesReopen) {
  {
    auto copy = Open();
    ASSERT_TRUE(copy->Put("1", "{\"a\":1}", 5).ok());
    ASSERT_TRUE(copy->Put("1", "{\"a\":2}", 6).ok());
    ASSERT_TRUE(copy->Put("2", "{}", 6).ok());
    ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "6").ok());
  }
  auto copy = Open();
  EXPECT_EQ(*copy->Count(), 2);
  EXPECT_EQ(copy->Document("1")->value(), "{\"a\":2}");
  EXPECT_EQ(copy->Seq("1")->value(), 6);
  EXPECT_FALSE(copy->Document("3")->has_value());
  EXPECT_FALSE(copy->Seq("3")->has_value());
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 6);
  EXPECT_FALSE(copy->GetMetaInt("absent")->has_value());
}

TEST_F(LocalCopyTest, ReplaceRemovesEarlierNumbers) {
  auto copy = Open();
  ASSERT_TRUE(copy->Put("old", "{\"v\":1}", 1).ok());
  ASSERT_TRUE(copy->Put("other", "{}", 1).ok());
  auto removed = copy->Replace("new", {"old", "new", "never"}, "{\"v\":2}", 2);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(copy->Document("old")->has_value());
  EXPECT_EQ(copy->Document("new")->value(), "{\"v\":2}");
  EXPECT_EQ(*copy->Count(), 2);
}

TEST_F(LocalCopyTest, RollbackUndoesRowsAndMetaTogether) {
  auto copy = Open();
  ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "1").ok());
  ASSERT_TRUE(copy->Begin().ok());
  EXPECT_FALSE(copy->Begin().ok());  // no nesting
  ASSERT_TRUE(copy->Put("a", "{}", 2).ok());
  ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "2").ok());
  copy->Rollback();
  EXPECT_EQ(*copy->Count(), 0);
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 1);
  ASSERT_TRUE(copy->Begin().ok());
  ASSERT_TRUE(copy->Put("a", "{}", 2).ok());
  ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "2").ok());
  ASSERT_TRUE(copy->Commit().ok());
  EXPECT_FALSE(copy->Commit().ok());
  EXPECT_EQ(*copy->Count(), 1);
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 2);
}

TEST_F(LocalCopyTest, ClearEmptiesPersonsAndMeta) {
  auto copy = Open();
  ASSERT_TRUE(copy->Put("a", "{}", 2).ok());
  ASSERT_TRUE(copy->SetMeta("k", "v").ok());
  ASSERT_TRUE(copy->Clear().ok());
  EXPECT_EQ(*copy->Count(), 0);
  EXPECT_FALSE(copy->GetMeta("k")->has_value());
  ASSERT_TRUE(copy->SetMeta("k", "x").ok());
  ASSERT_TRUE(copy->DeleteMeta("k").ok());
  EXPECT_FALSE(copy->GetMeta("k")->has_value());
}

// A person document like the register's: the same keys, varying values.
std::string PersonJson(int i) {
  const std::string n = std::to_string(10000000000LL + i);
  return R"({"identifikasjonsnummer":[{"ajourholdstidspunkt":"2020-01-0)" +
         std::to_string(1 + i % 9) + R"(T10:00:00.000+01:00","erGjeldende":true,"kilde":"Dolly",)" +
         R"("foedselsEllerDNummer":")" + n +
         R"(","identifikatortype":"foedselsnummer","status":"iBruk"}],"navn":[{"fornavn":"NAVN)" +
         std::to_string(i * 7919 % 1000) + R"(","etternavn":"ETTERNAVN)" + std::to_string(i % 97) +
         R"("}],"bostedsadresse":[{"vegadresse":{"kommunenummer":"0301","adressenavn":"Gate )" +
         std::to_string(i % 31) + R"(","adressenummer":{"husnummer":")" + std::to_string(i % 200) +
         R"("}}}]})";
}

std::string RawColumn(const std::string& path, const std::string& fnr) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(
      sqlite3_prepare_v2(db, "SELECT document FROM persons WHERE fnr = ?1", -1, &stmt, nullptr),
      SQLITE_OK);
  sqlite3_bind_text(stmt, 1, fnr.c_str(), -1, SQLITE_TRANSIENT);
  std::string raw;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    raw.assign(static_cast<const char*>(sqlite3_column_blob(stmt, 0)),
               static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return raw;
}

TEST_F(LocalCopyTest, DocumentsAreCompressedOnceTheDictionaryIsTrainedAndReadBackExactly) {
  const int n = static_cast<int>(LocalCopy::kDictionarySamples) + 500;
  {
    auto copy = Open();
    ASSERT_TRUE(copy->Begin().ok());
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(copy->Put(std::to_string(i), PersonJson(i), i).ok());
      EXPECT_EQ(copy->compressing(), i + 1 >= static_cast<int>(LocalCopy::kDictionarySamples));
    }
    ASSERT_TRUE(copy->Commit().ok());
  }
  // Before the dictionary: plain JSON; after: a much smaller zstd frame.
  EXPECT_EQ(RawColumn(path_, "0"), PersonJson(0));
  const std::string last = RawColumn(path_, std::to_string(n - 1));
  EXPECT_EQ(last.substr(0, 4), std::string("\x28\xB5\x2F\xFD"));
  EXPECT_LT(last.size() * 3, PersonJson(n - 1).size());
  // Reopened, every document reads back byte for byte, by Document() and by ForEach().
  auto copy = Open();
  EXPECT_TRUE(copy->compressing());
  for (int i = 0; i < n; i += 97) {
    EXPECT_EQ(copy->Document(std::to_string(i))->value(), PersonJson(i)) << i;
  }
  int seen = 0;
  ASSERT_TRUE(copy->ForEach([&](std::string_view fnr, std::string_view document, int64_t seq) {
                    EXPECT_EQ(document, PersonJson(std::stoi(std::string(fnr))));
                    EXPECT_EQ(seq, std::stoi(std::string(fnr)));
                    ++seen;
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seen, n);
  // Clear keeps the dictionary (compressed rows may be written again at once).
  ASSERT_TRUE(copy->Clear().ok());
  EXPECT_TRUE(copy->GetMeta(kMetaDocumentDictionary)->has_value());
  ASSERT_TRUE(copy->Put("x", PersonJson(1), 1).ok());
  EXPECT_EQ(copy->Document("x")->value(), PersonJson(1));
}

TEST_F(LocalCopyTest, ADictionaryTrainedInARolledBackTransactionIsNotUsed) {
  auto copy = Open();
  ASSERT_TRUE(copy->Begin().ok());
  for (int i = 0; i < static_cast<int>(LocalCopy::kDictionarySamples); ++i) {
    ASSERT_TRUE(copy->Put(std::to_string(i), PersonJson(i), i).ok());
  }
  EXPECT_TRUE(copy->compressing());
  copy->Rollback();
  EXPECT_FALSE(copy->compressing());
  EXPECT_FALSE(copy->GetMeta(kMetaDocumentDictionary)->has_value());
  ASSERT_TRUE(copy->Put("a", PersonJson(3), 3).ok());
  EXPECT_EQ(RawColumn(path_, "a"), PersonJson(3));  // plain until sampled afresh
  EXPECT_EQ(copy->Document("a")->value(), PersonJson(3));
}

TEST_F(LocalCopyTest, PrecompressedDocumentsAreStoredOnlyWhenMadeByTheCurrentCompressor) {
  auto copy = Open();
  EXPECT_EQ(copy->compressor(), nullptr);  // nothing to compress with before the dictionary
  for (int i = 0; i < static_cast<int>(LocalCopy::kDictionarySamples); ++i) {
    ASSERT_TRUE(copy->Put(std::to_string(i), PersonJson(i), i).ok());
  }
  std::shared_ptr<const common::Zstd> compressor = copy->compressor();
  ASSERT_NE(compressor, nullptr);
  // Made by the copy's compressor (as a lookup thread does): stored as given.
  std::string frame;
  compressor->Compress(PersonJson(5000), frame);
  ASSERT_TRUE(copy->Put("a", PersonJson(5000), 1, {compressor.get(), frame}).ok());
  EXPECT_EQ(RawColumn(path_, "a"), frame);
  EXPECT_EQ(copy->Document("a")->value(), PersonJson(5000));
  // Made by another compressor (a dictionary since replaced): ignored, compressed afresh.
  auto other = common::Zstd::Create("", 1);
  ASSERT_TRUE(other.ok());
  std::string foreign;
  other->Compress(PersonJson(5001), foreign);
  ASSERT_TRUE(copy->Put("b", PersonJson(5001), 2, {&*other, "not these bytes"}).ok());
  EXPECT_NE(RawColumn(path_, "b"), "not these bytes");
  EXPECT_EQ(copy->Document("b")->value(), PersonJson(5001));
  // Replace passes it on.
  compressor->Compress(PersonJson(5002), frame);
  ASSERT_TRUE(copy->Replace("c", {"a", "c"}, PersonJson(5002), 3, {compressor.get(), frame}).ok());
  EXPECT_EQ(RawColumn(path_, "c"), frame);
  EXPECT_FALSE(copy->Document("a")->has_value());
}

TEST_F(LocalCopyTest, WithoutCompressionDocumentsStayPlain) {
  auto opened = LocalCopy::Open(path_, {.compress = false});
  ASSERT_TRUE(opened.ok());
  auto& copy = *opened;
  for (int i = 0; i < static_cast<int>(LocalCopy::kDictionarySamples) + 10; ++i) {
    ASSERT_TRUE(copy->Put(std::to_string(i), PersonJson(i), i).ok());
  }
  EXPECT_FALSE(copy->compressing());
  EXPECT_EQ(RawColumn(path_, "1005"), PersonJson(1005));
}

TEST_F(LocalCopyTest, ACorruptFrameIsAnErrorNotWrongBytes) {
  {
    auto copy = Open();
    for (int i = 0; i < static_cast<int>(LocalCopy::kDictionarySamples) + 1; ++i) {
      ASSERT_TRUE(copy->Put(std::to_string(i), PersonJson(i), i).ok());
    }
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "UPDATE persons SET document = x'28B52FFD00DEADBEEF' WHERE fnr = '1000'",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto copy = Open();
  auto document = copy->Document("1000");
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.error().code, ErrorCode::kInternal);
  EXPECT_EQ(copy->Document("999")->value(), PersonJson(999));
}

TEST_F(LocalCopyTest, NonNumericMetaIsAnError) {
  auto copy = Open();
  ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "12x").ok());
  EXPECT_FALSE(copy->GetMetaInt(kMetaFeedSekvensnummer).ok());
}

TEST_F(LocalCopyTest, OpeningSomethingThatIsNotADatabaseFails) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs("this is not sqlite at all, not at all", f);
    std::fclose(f);
  }
  auto copy = LocalCopy::Open(path_);
  ASSERT_FALSE(copy.ok());
  EXPECT_EQ(copy.error().code, ErrorCode::kInternal);
  auto missing_dir = LocalCopy::Open("/nonexistent-dir/x.db");
  EXPECT_FALSE(missing_dir.ok());
}

}  // namespace
}  // namespace norreg::client
