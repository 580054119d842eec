// The SQLite store's posting blocks (store/sqlite/sqlite_postings.hpp) against a plain model: after
// any mix of adds, removes, appends of new persons and merged bulk-load runs, every term's
// posting reads back as the model's set, blocks stay within kMaxBlockIds, and Contains agrees.
#include "store/sqlite/sqlite_postings.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "store/posting_block.hpp"

namespace norreg::store::sqlite {
namespace {

class SqlitePostingsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("norreg-postings-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto c = Connection::Open((dir_ / "t.db").string(), false, 0, 2048);
    ASSERT_TRUE(c.ok());
    db_ = std::move(c).value();
    ASSERT_TRUE(db_.Exec("CREATE TABLE search_postings(term INTEGER NOT NULL, last_id INTEGER NOT "
                         "NULL, ids BLOB NOT NULL, PRIMARY KEY(term, last_id)) WITHOUT ROWID;"
                         "CREATE TABLE search_terms_load(run INTEGER NOT NULL, chunk INTEGER NOT "
                         "NULL, pairs BLOB NOT NULL, PRIMARY KEY(run, chunk)) WITHOUT ROWID")
                    .ok());
    writer_ = PostingWriter(db_);
  }
  void TearDown() override {
    writer_ = PostingWriter();
    db_ = Connection();
    std::filesystem::remove_all(dir_);
  }

  // Every term of the model reads back exactly, Contains agrees on members and neighbours, and no
  // block is over-full.
  void ExpectIndexIs(const std::map<uint32_t, std::set<int64_t>>& model) {
    Statement posting = db_.Prepare(kPostingSql);
    Statement contains = db_.Prepare(kContainsSql);
    for (const auto& [term, ids] : model) {
      std::vector<int64_t> read;
      ASSERT_TRUE(ReadPosting(posting, term, SIZE_MAX, read).ok());
      EXPECT_EQ(read, std::vector<int64_t>(ids.begin(), ids.end())) << term;
      for (int64_t id : ids) {
        for (int64_t probe : {id - 1, id, id + 1}) {
          auto has = Contains(contains, term, probe);
          ASSERT_TRUE(has.ok());
          EXPECT_EQ(*has, ids.count(probe) == 1) << term << " " << probe;
        }
      }
      std::vector<int64_t> first;
      ASSERT_TRUE(ReadPosting(posting, term, 3, first).ok());
      EXPECT_EQ(first.size(), std::min<size_t>(3, ids.size()));
    }
    Statement blocks = db_.Prepare("SELECT term, last_id, ids FROM search_postings");
    size_t rows = 0;
    while (*blocks.Step()) {
      std::vector<int64_t> ids;
      ASSERT_TRUE(DecodePostingBlock(blocks.Blob(2), ids).ok());
      ASSERT_FALSE(ids.empty());
      EXPECT_LE(ids.size(), kMaxBlockIds);
      EXPECT_EQ(ids.back(), blocks.Int(1));
      ++rows;
    }
    size_t model_ids = 0;
    for (const auto& [term, ids] : model) model_ids += ids.size();
    EXPECT_LE(rows, model_ids);
  }

  std::filesystem::path dir_;
  Connection db_;
  PostingWriter writer_;
};

TEST_F(SqlitePostingsTest, AddsAndRemovesSplitAndMergeBlocks) {
  std::map<uint32_t, std::set<int64_t>> model;
  std::mt19937 rng(7);
  // Three terms (one of them above 2^31: stored negative), ids in any order, adds and removes.
  const uint32_t terms[] = {5, 0x9000'0000u, 77};
  for (int step = 0; step < 4000; ++step) {
    const uint32_t term = terms[rng() % 3];
    const int64_t id = 1 + static_cast<int64_t>(rng() % 900);
    if (rng() % 4 == 0) {
      ASSERT_TRUE(writer_.Remove(term, id).ok());
      model[term].erase(id);
    } else {
      ASSERT_TRUE(writer_.Add(term, id).ok());
      model[term].insert(id);
    }
  }
  ExpectIndexIs(model);
}

TEST_F(SqlitePostingsTest, NewPersonsAndMergedRunsJoinWhatIsThere) {
  std::map<uint32_t, std::set<int64_t>> model;
  std::vector<TermPair> pairs;
  int64_t id = 1;
  auto batch = [&](size_t persons) {
    pairs.clear();
    for (size_t p = 0; p < persons; ++p, ++id) {
      for (uint32_t term : {1u, 2u, static_cast<uint32_t>(id % 7) + 10u, 0xF000'0000u}) {
        pairs.push_back({term, id});
        model[term].insert(id);
      }
    }
    return pairs;
  };
  ASSERT_TRUE(writer_.AddNew(batch(700)).ok());  // an empty index: full blocks
  ASSERT_TRUE(writer_.AddNew(batch(5)).ok());    // appended to the last blocks
  ExpectIndexIs(model);
  // A bulk load onto the existing index: runs kept aside, then merged in one pass.
  for (int run = 0; run < 3; ++run) ASSERT_TRUE(writer_.AddRun(batch(6000)).ok());
  ASSERT_TRUE(writer_.MergeRuns().ok());
  ExpectIndexIs(model);
  Statement left = db_.Prepare("SELECT count(*) FROM search_terms_load");
  ASSERT_TRUE(*left.Step());
  EXPECT_EQ(left.Int(0), 0);
  // Removing persons in the middle keeps the rest in order.
  for (int64_t gone = 100; gone < 400; gone += 3) {
    ASSERT_TRUE(writer_.Remove(1, gone).ok());
    model[1].erase(gone);
  }
  ExpectIndexIs(model);
  ASSERT_TRUE(writer_.Clear().ok());
  std::vector<int64_t> none;
  Statement posting = db_.Prepare(kPostingSql);
  ASSERT_TRUE(ReadPosting(posting, 1, 10, none).ok());
  EXPECT_TRUE(none.empty());
}

TEST_F(SqlitePostingsTest, MergedRunsOnAnEmptyIndexWriteFullBlocks) {
  std::map<uint32_t, std::set<int64_t>> model;
  for (int run = 0; run < 4; ++run) {
    std::vector<TermPair> pairs;
    for (int64_t id = 1 + run * 1000; id <= (run + 1) * 1000; ++id) {
      pairs.push_back({42, id});
      model[42].insert(id);
    }
    ASSERT_TRUE(writer_.AddRun(std::move(pairs)).ok());
  }
  ASSERT_TRUE(writer_.MergeRuns().ok());
  ExpectIndexIs(model);
  Statement blocks = db_.Prepare("SELECT count(*) FROM search_postings");
  ASSERT_TRUE(*blocks.Step());
  EXPECT_EQ(static_cast<size_t>(blocks.Int(0)), (4000 + kMaxBlockIds - 1) / kMaxBlockIds);
}

}  // namespace
}  // namespace norreg::store::sqlite
