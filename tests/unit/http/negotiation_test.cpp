#include "http/negotiation.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace norreg::http {
namespace {

using MT = MediaType;

struct NegCase {
  std::string accept;
  std::vector<MediaType> supported;
  std::optional<MediaType> expected;
};

class NegotiateTest : public ::testing::TestWithParam<NegCase> {};

TEST_P(NegotiateTest, Picks) {
  const NegCase& c = GetParam();
  EXPECT_EQ(Negotiate(c.accept, c.supported), c.expected) << "Accept: " << c.accept;
}

const std::vector<MediaType> kJx = {MT::kJson, MT::kXml};
const std::vector<MediaType> kFeed = {MT::kJson, MT::kXml, MT::kAtom};

INSTANTIATE_TEST_SUITE_P(
    Table, NegotiateTest,
    ::testing::Values(
        // missing / wildcard -> first (JSON)
        NegCase{"", kJx, MT::kJson}, NegCase{"   ", kJx, MT::kJson}, NegCase{"*/*", kJx, MT::kJson},
        NegCase{"*", kJx, MT::kJson}, NegCase{"application/*", kJx, MT::kJson},
        // exact
        NegCase{"application/json", kJx, MT::kJson}, NegCase{"application/xml", kJx, MT::kXml},
        NegCase{"APPLICATION/XML", kJx, MT::kXml},
        NegCase{"application/xml;charset=UTF-8", kJx, MT::kXml},
        // q-values
        NegCase{"application/json;q=0.5, application/xml", kJx, MT::kXml},
        NegCase{"application/json; q=0.9, application/xml; q=0.8", kJx, MT::kJson},
        NegCase{"application/xml;q=0.5,application/json;q=0.5", kJx,
                MT::kJson},                                            // tie: server order
        NegCase{"application/xml, application/json", kJx, MT::kJson},  // tie: server order
        NegCase{"application/json;q=0, */*", kJx, MT::kXml},  // explicit exclusion beats wildcard
        NegCase{"*/*;q=0.1, application/xml", kJx, MT::kXml},
        NegCase{"application/json;q=0", kJx, std::nullopt},
        NegCase{"application/json;q=.5, application/xml;q=.4", kJx, MT::kJson},
        NegCase{"application/json;q=1.0", kJx, MT::kJson},
        // Java's default Accept
        NegCase{"text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", kJx, MT::kJson},
        // atom for the feed only
        NegCase{"application/atom+xml", kFeed, MT::kAtom},
        NegCase{"application/atom+xml", kJx, std::nullopt},
        NegCase{"application/atom+xml;q=0.9, application/json;q=0.1", kFeed, MT::kAtom},
        // unsupported -> nullopt (406)
        NegCase{"text/html", kJx, std::nullopt}, NegCase{"text/*", kJx, std::nullopt},
        NegCase{"image/png, text/plain", kJx, std::nullopt},
        // garbage: skipped ranges; nothing left -> nullopt
        NegCase{"garbage", kJx, std::nullopt}, NegCase{";;;,,,", kJx, std::nullopt},
        NegCase{"application/json;q=abc", kJx, std::nullopt},
        NegCase{"application/json;q=2", kJx, std::nullopt},
        NegCase{"application/json;q=abc, application/xml", kJx, MT::kXml},
        NegCase{"*/json", kJx, std::nullopt}, NegCase{"application/json;foo", kJx, std::nullopt},
        NegCase{"bogus, application/json", kJx, MT::kJson},
        NegCase{"application/json", {}, std::nullopt}));

TEST(NegotiateTest, InitializerListOverload) {
  EXPECT_EQ(Negotiate("application/xml", {MT::kJson, MT::kXml}), MT::kXml);
}

struct CtCase {
  std::string header;
  std::optional<MediaType> expected;
};

TEST(ContentTypeTest, Parses) {
  const std::vector<CtCase> cases = {
      {"application/json", MT::kJson},
      {"application/json; charset=UTF-8", MT::kJson},
      {"Application/JSON;charset=utf-8", MT::kJson},
      {"application/xml", MT::kXml},
      {"application/xml; charset=\"utf-8\"", MT::kXml},
      {"multipart/form-data; boundary=----abc", MT::kMultipartFormData},
      {"application/x-www-form-urlencoded", MT::kFormUrlEncoded},
      {"text/xml", std::nullopt},
      {"application/jsonx", std::nullopt},
      {"", std::nullopt},
      {"json", std::nullopt},
      {"application/json; charset", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(ParseContentType(c.header), c.expected) << c.header;
}

TEST(ContentTypeTest, CheckAcceptsAllowedAndRejectsOthersWith415) {
  auto ok = CheckContentType("application/xml; charset=UTF-8", {MT::kJson, MT::kXml});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, MT::kXml);

  auto bad = CheckContentType("text/plain", {MT::kJson, MT::kXml});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnsupportedMedia);
  EXPECT_NE(bad.error().message.find("application/json"), std::string::npos);

  auto missing = CheckContentType("", {MT::kJson});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kUnsupportedMedia);
}

TEST(MediaTypeTest, Names) {
  EXPECT_EQ(MediaTypeName(MT::kJson), "application/json");
  EXPECT_EQ(MediaTypeName(MT::kAtom), "application/atom+xml");
  EXPECT_EQ(MediaTypeName(MT::kMultipartFormData), "multipart/form-data");
}

}  // namespace
}  // namespace norreg::http
