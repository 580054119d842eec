// The consumer algorithms end to end against the real server (issue 4): `norreg uttrekk` copies
// the whole register while a producer changes it, then `norreg feed follow --once` brings the
// local copy up to date: afterwards it equals the server's current register, person by person —
// with either kind of feed documents, compressed or plain, read back by `norreg copy`.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <thread>

#include "client/local_copy.hpp"
#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
std::string Api(const std::string& path) { return std::string(kApi) + path; }

std::map<std::string, std::string> ReadCopy(const std::string& path) {
  std::map<std::string, std::string> persons;
  auto copy = client::LocalCopy::Open(path);
  EXPECT_TRUE(copy.ok());
  if (!copy.ok()) return persons;
  EXPECT_TRUE((*copy)
                  ->ForEach([&](std::string_view fnr, std::string_view document, int64_t) {
                    persons.emplace(fnr, document);
                    return Status::Ok();
                  })
                  .ok());
  return persons;
}

// How many documents of the copy are stored as zstd frames.
int CompressedRows(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(
                db, "SELECT count(*) FROM persons WHERE substr(document, 1, 4) = x'28B52FFD'", -1,
                &stmt, nullptr),
            SQLITE_OK);
  int count = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

TEST(ConsumerTest, ExtractPlusFeedEqualsTheServerWhileTheRegisterChanges) {
  TempDir dir;
  // More persons than the copy samples before it compresses.
  ServerProcess server(dir.path(), {"--demo-persons", "1200"});
  auto page = server.Get(Api("/hendelser/feed?seq=1"));
  ASSERT_EQ(page.status, 200) << page.body;
  std::vector<std::string> fnrs;
  std::set<std::string> seen;
  const json::value events = json::parse(page.body);
  for (const auto& e : events.as_array()) {
    std::string fnr(e.at("hendelse").at("folkeregisteridentifikator").as_string());
    if (seen.insert(fnr).second) fnrs.push_back(fnr);
  }
  ASSERT_GE(fnrs.size(), 20u);

  // The producer renames persons while the extract runs (and a little after).
  const std::string producer = "Bearer " + server.Token("norreg:register");
  const std::string consumer = "Bearer " + server.Token();
  std::atomic<int> changed{0};
  std::thread changer([&] {
    for (int i = 0; i < 20; ++i) {
      auto doc = server.Get(Api("/personer/" + fnrs[i]), {{"Authorization", consumer}});
      if (doc.status != 200) continue;
      json::object person = json::parse(doc.body).as_object();
      json::object& navn = person.at("navn").as_array().at(0).as_object();
      navn["fornavn"] = "ENDRET " + std::to_string(i);
      auto written =
          server.Post("/norreg/register/v1/personer", json::serialize(person),
                      {{"Content-Type", "application/json"}, {"Authorization", producer}});
      if (written.status == 200) ++changed;
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });
  const std::string copy = dir.path() + "/copy.db";
  std::string out;
  const int extract = RunNorreg(
      {"uttrekk", "--url", server.base_url(), "--data", dir.path(), "--db", copy, "--quiet"}, &out);
  changer.join();
  ASSERT_EQ(extract, 0) << out;
  EXPECT_EQ(changed.load(), 20);
  ASSERT_EQ(RunNorreg({"feed", "follow", "--url", server.base_url(), "--data", dir.path(), "--db",
                       copy, "--once"},
                      &out),
            0)
      << out;

  std::map<std::string, std::string> local = ReadCopy(copy);
  EXPECT_EQ(local.size(), 1200u);
  EXPECT_GT(CompressedRows(copy), 0);
  // The server's current documents, by bulk lookups of up to 1000 numbers.
  std::map<std::string, json::value> current;
  std::vector<std::string> numbers;
  for (const auto& [fnr, document] : local) numbers.push_back(fnr);
  for (size_t begin = 0; begin < numbers.size(); begin += 1000) {
    json::array ids;
    for (size_t i = begin; i < std::min(numbers.size(), begin + 1000); ++i) {
      ids.emplace_back(numbers[i]);
    }
    auto answer = server.Post(Api("/personer/bulkoppslag"),
                              json::serialize(json::object{{"foedselsEllerDNummer", ids}}),
                              {{"Content-Type", "application/json"}, {"Authorization", consumer}});
    ASSERT_EQ(answer.status, 200) << answer.body;
    const json::value parsed = json::parse(answer.body);
    for (const auto& item : parsed.at("oppslag").as_array()) {
      current[std::string(item.at("foedselsEllerDNummer").as_string())] =
          item.at("folkeregisterperson");
    }
  }
  ASSERT_EQ(current.size(), local.size());
  size_t renamed = 0;
  for (const auto& [fnr, document] : local) {
    EXPECT_EQ(json::parse(document), current[fnr]) << fnr;
    renamed += document.find("ENDRET ") != std::string::npos;
  }
  EXPECT_EQ(renamed, 20u);

  // `norreg copy export` prints the same documents, in fnr order; `copy get` one of them.
  std::string exported;
  ASSERT_EQ(RunNorregStdout({"copy", "export", "--db", copy}, &exported), 0);
  std::string expected;
  for (const auto& [fnr, document] : local) expected += document + "\n";
  EXPECT_EQ(exported, expected);
  std::string one;
  ASSERT_EQ(RunNorregStdout({"copy", "get", "--db", copy, local.begin()->first}, &one), 0);
  EXPECT_EQ(one, local.begin()->second + "\n");
  EXPECT_EQ(RunNorreg({"copy", "get", "--db", copy, "00000000000"}, &out), 1);
  EXPECT_EQ(RunNorreg({"copy", "export", "--db", dir.path() + "/absent.db"}, &out), 2);

  // A second extract, then the whole feed from 1 replayed over it with the exact versions, stored
  // plain: older versions pass through every row, and the end is the same copy.
  const std::string versions = dir.path() + "/versions.db";
  ASSERT_EQ(RunNorreg({"uttrekk", "--url", server.base_url(), "--data", dir.path(), "--db",
                       versions, "--plain-documents", "--quiet"},
                      &out),
            0)
      << out;
  ASSERT_EQ(
      RunNorreg({"feed", "follow", "--url", server.base_url(), "--data", dir.path(), "--db",
                 versions, "--from", "1", "--once", "--documents", "versions", "--plain-documents"},
                &out),
      0)
      << out;
  EXPECT_EQ(CompressedRows(versions), 0);
  EXPECT_EQ(ReadCopy(versions), local);
}

}  // namespace
}  // namespace norreg::testing
