#include "http/request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace norreg::http {
namespace {

struct TargetCase {
  std::string target;
  bool ok;
  std::string path;
  std::vector<std::string> segments;
};

class SetTargetTest : public ::testing::TestWithParam<TargetCase> {};

TEST_P(SetTargetTest, SplitsAndDecodes) {
  const TargetCase& c = GetParam();
  Request r;
  Status st = r.SetTarget(c.target);
  ASSERT_EQ(st.ok(), c.ok) << c.target;
  if (!c.ok) {
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
    return;
  }
  EXPECT_EQ(r.path, c.path);
  std::vector<std::string> segs;
  for (std::size_t i = 0; i < r.segment_count(); ++i) segs.emplace_back(r.segment(i));
  EXPECT_EQ(segs, c.segments) << c.target;
  EXPECT_EQ(r.target, c.target);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SetTargetTest,
    ::testing::Values(TargetCase{"/", true, "/", {}}, TargetCase{"/a/b", true, "/a/b", {"a", "b"}},
                      TargetCase{"/a/b/", true, "/a/b/", {"a", "b"}},
                      TargetCase{"/a//b", true, "/a//b", {"a", "", "b"}},
                      TargetCase{"/a%20b/c", true, "/a b/c", {"a b", "c"}},
                      TargetCase{"/a%2Fb/c", true, "/a/b/c", {"a/b", "c"}},
                      TargetCase{"/%C3%A6?x=1", true, "/\xC3\xA6", {"\xC3\xA6"}},
                      TargetCase{"/a+b", true, "/a+b", {"a+b"}}, TargetCase{"", false, "", {}},
                      TargetCase{"a/b", false, "", {}},
                      TargetCase{"http://host/a", true, "/a", {"a"}},
                      TargetCase{"HTTPS://h.no:8080/a/b?x=1", true, "/a/b", {"a", "b"}},
                      TargetCase{"http://h?x=1", true, "/", {}},
                      TargetCase{"http://h", true, "/", {}}, TargetCase{"http:///a", false, "", {}},
                      TargetCase{"ftp://h/a", false, "", {}},
                      TargetCase{"http://h#f", false, "", {}}, TargetCase{"/a%2", false, "", {}},
                      TargetCase{"/a%zz", false, "", {}}, TargetCase{"/a%00b", false, "", {}},
                      TargetCase{"/a#frag", false, "", {}}));

TEST(RequestTest, AbsoluteFormKeepsThePathAndTheQuery) {
  Request r;
  ASSERT_TRUE(r.SetTarget("http://api.example.no:8080/personer/soek?navn=Kari&part=a").ok());
  EXPECT_EQ(r.path, "/personer/soek");
  EXPECT_EQ(r.Query("navn"), "Kari");
  EXPECT_EQ(r.Query("part"), "a");
  ASSERT_TRUE(r.SetTarget("https://api.example.no?x=1").ok());
  EXPECT_EQ(r.path, "/");
  EXPECT_EQ(r.Query("x"), "1");
}

TEST(RequestTest, QueryIsDecodedRepeatableAndOrdered) {
  Request r;
  ASSERT_TRUE(r.SetTarget("/p?part=a&part=b&x=1+2&y=%C3%A6&flag&&z=&part=c").ok());
  ASSERT_EQ(r.query.size(), 7u);
  EXPECT_EQ(r.Query("part"), "a");
  EXPECT_EQ(r.QueryAll("part"), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(r.Query("x"), "1 2");
  EXPECT_EQ(r.Query("y"), "\xC3\xA6");
  EXPECT_EQ(r.Query("flag"), "");
  EXPECT_EQ(r.Query("z"), "");
  EXPECT_FALSE(r.Query("missing").has_value());
  EXPECT_TRUE(r.QueryAll("missing").empty());
  EXPECT_FALSE(r.Query("PART").has_value()) << "query names are case-sensitive";
}

TEST(RequestTest, BadQueryEscapeFails) {
  Request r;
  EXPECT_FALSE(r.SetTarget("/p?x=%G1").ok());
  EXPECT_TRUE(r.query.empty());
}

TEST(RequestTest, HeadersAreCaseInsensitiveFirstWins) {
  Request r;
  r.AddHeader("Accept", "application/xml");
  r.AddHeader("X-Multi", "one");
  r.AddHeader("x-multi", "two");
  EXPECT_EQ(r.Header("accept"), "application/xml");
  EXPECT_EQ(r.Header("ACCEPT"), "application/xml");
  EXPECT_EQ(r.Header("X-MULTI"), "one");
  EXPECT_FALSE(r.Header("Authorization").has_value());
  EXPECT_EQ(r.header_count(), 3u);
  EXPECT_EQ(r.header_at(2).second, "two");
}

TEST(RequestTest, ResetClearsEverything) {
  Request r;
  ASSERT_TRUE(r.SetTarget("/a/b?x=1").ok());
  r.AddHeader("Accept", "x");
  r.body = "body";
  r.context = 42;
  r.SetResponseHeader("Retry-After", "5");
  r.Reset();
  EXPECT_EQ(r.segment_count(), 0u);
  EXPECT_TRUE(r.path.empty());
  EXPECT_TRUE(r.query.empty());
  EXPECT_FALSE(r.Header("Accept").has_value());
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(r.context.has_value());
  EXPECT_TRUE(r.response_headers.empty());
}

TEST(RequestTest, CopiedRequestKeepsValidSegments) {
  Request a;
  ASSERT_TRUE(a.SetTarget("/short/x").ok());
  Request b = a;
  a.Reset();
  ASSERT_EQ(b.segment_count(), 2u);
  EXPECT_EQ(b.segment(0), "short");
  EXPECT_EQ(b.segment(1), "x");
}

TEST(RequestTest, ContextHoldsTypedData) {
  struct Principal {
    std::string orgnr;
  };
  Request r;
  EXPECT_EQ(r.ContextAs<Principal>(), nullptr);
  r.context = Principal{"910000000"};
  ASSERT_NE(r.ContextAs<Principal>(), nullptr);
  EXPECT_EQ(r.ContextAs<Principal>()->orgnr, "910000000");
  EXPECT_EQ(r.ContextAs<int>(), nullptr);
}

TEST(ResponseTest, SetHeaderReplacesAndRejectsCrLf) {
  Response res = Response::Json("{}");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  res.SetHeader("ETag", "1");
  res.SetHeader("etag", "2");
  res.SetHeader("X-Evil", "a\r\nSet-Cookie: x");
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.GetHeader("ETAG"), "2");
  EXPECT_FALSE(res.GetHeader("X-Evil").has_value());
}

TEST(ResponseTest, SharedBodyWinsWithoutCopy) {
  auto buf = std::make_shared<const std::string>("shared bytes");
  Response res = Response::Shared(buf, "application/json");
  res.body = "ignored";
  EXPECT_EQ(res.BodyView(), "shared bytes");
  EXPECT_EQ(res.BodyView().data(), buf->data());
}

TEST(MethodTest, ParsesExactTokens) {
  EXPECT_EQ(ParseMethod("GET"), Method::kGet);
  EXPECT_EQ(ParseMethod("HEAD"), Method::kHead);
  EXPECT_EQ(ParseMethod("DELETE"), Method::kDelete);
  EXPECT_EQ(ParseMethod("get"), Method::kOther);
  EXPECT_EQ(ParseMethod("BREW"), Method::kOther);
  EXPECT_EQ(MethodName(Method::kPut), "PUT");
}

}  // namespace
}  // namespace norreg::http
