#include "client/local_copy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

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
