#include "http/router.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace norreg::http {
namespace {

constexpr const char* kBase = "/folkeregisteret/offentlig-med-hjemmel/api/v1";

Handler Ok() {
  return [](Request&) -> Result<Response> { return Response::Text("ok"); };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string b = kBase;
    Add(Method::kGet, b + "/personer/{id}", "person");
    Add(Method::kGet, b + "/personer/arkiv/{dok}", "arkiv");
    Add(Method::kPost, b + "/personer/bulkoppslag", "bulk");
    Add(Method::kGet, b + "/hendelser/feed/", "feed");  // registered with a trailing slash
    Add(Method::kPost, b + "/uttrekk/{jobbId}/batch/{batchnr}", "batch_post");
    Add(Method::kGet, b + "/uttrekk/{jobbId}/batch/{batchnr}", "batch");
    Add(Method::kGet, "/c/lit/d", "c_lit_d");
    Add(Method::kGet, "/c/{x}/e", "c_param_e");
    Add(Method::kGet, "/", "root");
    Add(Method::kHead, "/h", "h_head");
    Add(Method::kGet, "/h", "h_get");
  }
  void Add(Method m, const std::string& pattern, const std::string& name) {
    ASSERT_TRUE(router_.Add(m, pattern, RouteInfo{"freg", name}, Ok()).ok()) << pattern;
  }
  Router router_;
};

struct MatchCase {
  Method method;
  std::string path;
  Router::Outcome outcome;
  std::string route;                          // kFound
  std::map<std::string, std::string> params;  // kFound
  std::string allow;                          // kMethodNotAllowed
};

TEST_F(RouterTest, MatchTable) {
  const std::string b = kBase;
  using O = Router::Outcome;
  const std::vector<MatchCase> cases = {
      {Method::kGet, b + "/personer/12345678901", O::kFound, "person", {{"id", "12345678901"}}, ""},
      {Method::kGet,
       b + "/personer/12345678901/",
       O::kFound,
       "person",
       {{"id", "12345678901"}},
       ""},
      {Method::kGet, b + "/personer/arkiv/abc", O::kFound, "arkiv", {{"dok", "abc"}}, ""},
      // "arkiv" alone: the literal branch has no route, backtrack to {id}.
      {Method::kGet, b + "/personer/arkiv", O::kFound, "person", {{"id", "arkiv"}}, ""},
      // literal beats param
      {Method::kPost, b + "/personer/bulkoppslag", O::kFound, "bulk", {}, ""},
      // Path first: the literal pattern wins, and it has no GET (no fall-through to {id}).
      {Method::kGet, b + "/personer/bulkoppslag", O::kMethodNotAllowed, "", {}, "POST"},
      {Method::kGet, b + "/hendelser/feed", O::kFound, "feed", {}, ""},
      {Method::kGet, b + "/hendelser/feed/", O::kFound, "feed", {}, ""},
      {Method::kGet,
       b + "/uttrekk/J1/batch/7",
       O::kFound,
       "batch",
       {{"jobbId", "J1"}, {"batchnr", "7"}},
       ""},
      {Method::kPost,
       b + "/uttrekk/J1/batch/7",
       O::kFound,
       "batch_post",
       {{"jobbId", "J1"}, {"batchnr", "7"}},
       ""},
      {Method::kGet, "/c/lit/d", O::kFound, "c_lit_d", {}, ""},
      {Method::kGet, "/c/lit/e", O::kFound, "c_param_e", {{"x", "lit"}}, ""},
      {Method::kGet, "/c/other/e", O::kFound, "c_param_e", {{"x", "other"}}, ""},
      {Method::kGet, "/", O::kFound, "root", {}, ""},
      {Method::kHead, "/", O::kFound, "root", {}, ""},  // HEAD falls back to GET
      {Method::kHead, "/h", O::kFound, "h_head", {}, ""},
      {Method::kGet, "/h/", O::kFound, "h_get", {}, ""},
      // not found
      {Method::kGet, b + "/personer", O::kNotFound, "", {}, ""},
      {Method::kGet, b + "/personer//", O::kNotFound, "", {}, ""},
      {Method::kGet, b + "/personer/1/2", O::kNotFound, "", {}, ""},
      {Method::kGet, b + "/ukjent", O::kNotFound, "", {}, ""},
      {Method::kGet, "/c//e", O::kNotFound, "", {}, ""},
      {Method::kGet, "/nothing/here", O::kNotFound, "", {}, ""},
      // wrong method
      {Method::kDelete, b + "/personer/1", O::kMethodNotAllowed, "", {}, "GET, HEAD"},
      {Method::kPut, b + "/personer/bulkoppslag", O::kMethodNotAllowed, "", {}, "POST"},
      {Method::kDelete, b + "/uttrekk/J/batch/1", O::kMethodNotAllowed, "", {}, "GET, HEAD, POST"},
      {Method::kOther, "/", O::kMethodNotAllowed, "", {}, "GET, HEAD"},
      {Method::kPost, "/h", O::kMethodNotAllowed, "", {}, "GET, HEAD"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(MethodName(c.method)) + " " + c.path);
    Request req;
    ASSERT_TRUE(req.SetTarget(c.path).ok());
    Router::Match m = router_.Find(c.method, req);
    ASSERT_EQ(m.outcome, c.outcome);
    if (c.outcome == O::kFound) {
      ASSERT_NE(m.route, nullptr);
      EXPECT_EQ(m.route->info.name, c.route);
      std::map<std::string, std::string> params;
      ASSERT_EQ(m.capture_count, m.route->param_names.size());
      for (std::size_t i = 0; i < m.capture_count; ++i) {
        params[m.route->param_names[i]] = std::string(m.captures[i]);
      }
      EXPECT_EQ(params, c.params);
    } else if (c.outcome == O::kMethodNotAllowed) {
      EXPECT_EQ(m.allow, c.allow);
    }
  }
}

TEST_F(RouterTest, DecodedSegmentsAreMatched) {
  Request req;
  ASSERT_TRUE(req.SetTarget(std::string(kBase) + "/personer/a%2Fb").ok());
  Router::Match m = router_.Find(Method::kGet, req);
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.route->info.name, "person");
  EXPECT_EQ(m.captures[0], "a/b");
}

struct BadPattern {
  Method method;
  std::string pattern;
};

TEST(RouterAddTest, RejectsBadPatterns) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/x/{id}", RouteInfo{"a", "x"}, Ok()).ok());
  const std::vector<BadPattern> bad = {
      {Method::kGet, ""},           {Method::kGet, "x"},        {Method::kGet, "/a//b"},
      {Method::kGet, "/a/{}"},      {Method::kGet, "/a/{"},     {Method::kGet, "/a/b{c}"},
      {Method::kGet, "/a/{x}}"},    {Method::kGet, "/{a}/{a}"}, {Method::kOther, "/ok"},
      {Method::kGet, "/x/{other}"},  // same shape and method as /x/{id}
  };
  for (const auto& b : bad) {
    Status st = r.Add(b.method, b.pattern, RouteInfo{"a", "bad"}, Ok());
    EXPECT_FALSE(st.ok()) << b.pattern;
    if (!st.ok()) {
      EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
    }
  }
  EXPECT_FALSE(r.Add(Method::kGet, "/nohandler", RouteInfo{}, Handler{}).ok());
  EXPECT_EQ(r.routes().size(), 1u);
}

TEST(RouterAddTest, ParamNamesMayDifferBetweenRoutes) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/j/{jobbId}", RouteInfo{"a", "job"}, Ok()).ok());
  ASSERT_TRUE(r.Add(Method::kGet, "/j/{id}/x", RouteInfo{"a", "jx"}, Ok()).ok());
  Request req;
  ASSERT_TRUE(req.SetTarget("/j/7/x").ok());
  auto m = r.Find(Method::kGet, req);
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.route->param_names[0], "id");
  EXPECT_EQ(m.captures[0], "7");
}

}  // namespace
}  // namespace norreg::http
