// The routes RegisterApi adds for each access package: the searches run off the io thread.
#include <gtest/gtest.h>

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

TEST(FregRoutesTest, SearchesAreBlockingRoutesInEveryPackage) {
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
    auto route = [&](std::string_view path) {
      Request request;
      request.method = Method::kGet;
      EXPECT_TRUE(request.SetTarget(base + std::string(path)).ok());
      return dispatcher.FindRoute(request);
    };
    for (std::string_view path : {"/personer/soek", "/personer/entydigsoek"}) {
      if (const Route* found = route(path)) {
        EXPECT_TRUE(found->info.blocking) << base << path;
        ++searches;
      }
    }
    if (const Route* lookup_route = route("/personer/01010012345")) {
      EXPECT_FALSE(lookup_route->info.blocking) << base;
    }
  }
  EXPECT_GT(searches, static_cast<int>(freg::Packages().size()));
}

}  // namespace
}  // namespace norreg::http::freg_api
