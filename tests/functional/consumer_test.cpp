// The consumer algorithms end to end against the real server (issue 4): `norreg uttrekk` copies
// the whole register while a producer changes it, then `norreg feed follow --once` brings the
// local copy up to date: afterwards it equals the server's current register, person by person.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <thread>

#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
std::string Api(const std::string& path) { return std::string(kApi) + path; }

std::map<std::string, std::string> ReadCopy(const std::string& path) {
  std::map<std::string, std::string> persons;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT fnr, document FROM persons", -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    persons[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] =
        reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return persons;
}

TEST(ConsumerTest, ExtractPlusFeedEqualsTheServerWhileTheRegisterChanges) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--demo-persons", "200"});
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
  EXPECT_EQ(local.size(), 200u);
  size_t renamed = 0;
  for (const auto& [fnr, document] : local) {
    auto current = server.Get(Api("/personer/" + fnr), {{"Authorization", consumer}});
    ASSERT_EQ(current.status, 200) << fnr;
    EXPECT_EQ(json::parse(document), json::parse(current.body)) << fnr;
    renamed += document.find("ENDRET ") != std::string::npos;
  }
  EXPECT_EQ(renamed, 20u);
}

}  // namespace
}  // namespace norreg::testing
