// The routes RegisterApi adds for each access package: a search that reads every person runs off
// the io thread; the others, and lookups, stay on it.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "common/ids.hpp"
#include "freg/packages.hpp"
#include "http/dispatcher.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "service/feed_reader.hpp"
#include "service/person_lookup.hpp"
#include "service/person_search.hpp"
#include "unit/store/store_fixtures.hpp"

namespace norreg::http::freg_api {
namespace {

TEST(FregRoutesTest, OnlySearchesThatReadEveryPersonLeaveTheIoThread) {
  store::testing::TempFolder folder;
  auto store = store::OpenSqliteStore({.data_dir = folder.path()});
  ASSERT_TRUE(store.ok()) << store.error().detail;
  service::PersonSearch search(**store);
  const ids::DocumentIdCipher cipher((*store)->DocumentKey());
  service::PersonLookup lookup(**store, cipher, nullptr, &search);
  service::FeedReader feed(**store, cipher);
  Dispatcher dispatcher;
  std::vector<FregContext> contexts;
  contexts.reserve(freg::Packages().size());
  int searches = 0;
  for (const freg::Package& package : freg::Packages()) {
    FregContext& context = contexts.emplace_back(FregContext{lookup, feed});
    context.package = &package;
    ASSERT_TRUE(RegisterApi(dispatcher, context).ok()) << package.base_path;
    const std::string base(package.base_path);
    // Whether the request runs on the blocking pool (nullopt: no such route in the package).
    auto pooled = [&](std::string_view target) -> std::optional<bool> {
      Request request;
      request.method = Method::kGet;
      EXPECT_TRUE(request.SetTarget(base + std::string(target)).ok());
      const Route* route = dispatcher.FindRoute(request);
      if (route == nullptr) return std::nullopt;
      return route->info.blocking ||
             (route->info.blocking_when != nullptr && route->info.blocking_when(request));
    };
    if (auto scan = pooled("/personer/soek?kjoenn=kvinne&foedselsaarFraOgMed=1990")) {
      EXPECT_TRUE(*scan) << base;
      EXPECT_EQ(pooled("/personer/soek"), true) << base;
      EXPECT_EQ(pooled("/personer/soek?navn=Kari%20Nordmann&foedselsdato=19800101"), false);
      EXPECT_EQ(pooled("/personer/soek?postnummer=0155"), false);
      EXPECT_EQ(pooled("/personer/soek?kjoenn=ukjent"), false);  // a 400, answered at once
      ++searches;
    }
    EXPECT_NE(pooled("/personer/entydigsoek?navn=Kari%20Nordmann&foedselsdato=19800101"), true);
    EXPECT_NE(pooled("/personer/01010012345"), true) << base;
  }
  EXPECT_GT(searches, 0);
}

}  // namespace
}  // namespace norreg::http::freg_api
