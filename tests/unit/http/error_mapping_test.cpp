#include "http/error_mapping.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/dispatcher.hpp"

namespace norreg::http {
namespace {

TEST(ErrorMappingTest, EveryCodeHasItsStatus) {
  const std::vector<std::pair<ErrorCode, int>> table = {
      {ErrorCode::kInvalidInput, 400},
      {ErrorCode::kUnauthenticated, 401},
      {ErrorCode::kForbidden, 403},
      {ErrorCode::kNotFound, 404},
      {ErrorCode::kNotAcceptable, 406},
      {ErrorCode::kConflict, 409},
      {ErrorCode::kGone, 410},
      {ErrorCode::kTooLarge, 413},
      {ErrorCode::kUnsupportedMedia, 415},
      {ErrorCode::kRateLimited, 429},
      {ErrorCode::kNotReady, 404},
      {ErrorCode::kInternal, 500},
  };
  for (auto [code, status] : table) {
    EXPECT_EQ(HttpStatusFor(code), status) << static_cast<int>(code);
    Request req;
    Response r = RenderFregError(MakeError(code, "m"), req);
    EXPECT_EQ(r.status, status);
  }
}

TEST(ErrorMappingTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(799), "Unknown");
}

TEST(FregErrorTest, JsonBodyHasKodeAndMeldingOnly) {
  Request req;
  Response r = RenderFregError(
      MakeError(ErrorCode::kInvalidInput, "Ugyldig \"fnr\"\n", "SELECT * FROM secret"), req);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(v.at("kode").as_string(), "FREG-001");
  EXPECT_EQ(v.at("melding").as_string(), "Ugyldig \"fnr\"\n");
  EXPECT_EQ(r.body.find("SELECT"), std::string::npos);
}

TEST(FregErrorTest, XmlWhenAcceptAsksForXml) {
  for (std::string accept :
       {"application/xml", "application/atom+xml", "application/json;q=0.1, application/xml"}) {
    Request req;
    req.AddHeader("Accept", accept);
    Response r =
        RenderFregError(MakeError(ErrorCode::kNotFound, "Fant ikke <person> & co", "d"), req);
    EXPECT_EQ(r.content_type, "application/xml") << accept;
    EXPECT_EQ(r.body,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feil><kode>FREG-001</kode>"
              "<melding>Fant ikke &lt;person&gt; &amp; co</melding></feil>");
  }
  Request json_req;
  json_req.AddHeader("Accept", "application/json, application/xml");
  EXPECT_EQ(RenderFregError(MakeError(ErrorCode::kNotFound, "x"), json_req).content_type,
            "application/json");
  Request bad_req;  // unacceptable Accept: the error itself is still JSON
  bad_req.AddHeader("Accept", "text/html");
  EXPECT_EQ(RenderFregError(MakeError(ErrorCode::kNotAcceptable, "x"), bad_req).content_type,
            "application/json");
}

TEST(FregErrorTest, InternalNeverShowsMessageOrDetail) {
  Request req;
  Response r = RenderFregError(
      MakeError(ErrorCode::kInternal, "sqlite: disk I/O error", "/var/lib/norreg/db"), req);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(r.body.find("/var/lib"), std::string::npos);
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.at("melding").as_string(), "Feil i tjenesten. Vennligst prøv igjen senere.");
}

TEST(FregErrorTest, EmptyMessageGetsStandardText) {
  Request req;
  Response r = RenderFregError(MakeError(ErrorCode::kNotFound, ""), req);
  EXPECT_EQ(boost::json::parse(r.body).at("melding").as_string(), "Feil uri brukt.");
}

TEST(FregErrorTest, RateLimitedCarriesRetryAfterInMs) {
  Request req;
  Response r = RenderFregError(MakeError(ErrorCode::kRateLimited, "Vent"), req);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.GetHeader("Retry-After"), "1000");

  Request limited;
  SetRetryAfter(limited, std::chrono::milliseconds(2500));
  Response r2 = RenderFregError(MakeError(ErrorCode::kRateLimited, "Vent"), limited);
  // The request's own value is merged by the dispatcher; the renderer adds no default.
  EXPECT_FALSE(r2.GetHeader("Retry-After").has_value());
  EXPECT_EQ(limited.response_headers.at(0).second, "2500");
}

// --- Dispatcher: the pipeline and the one catch site --------------------------------------

constexpr const char* kPrefix = "/folkeregisteret/offentlig-med-hjemmel/api";

struct Principal {
  std::string orgnr;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiSpec freg;
    freg.id = "freg";
    freg.prefix = kPrefix;
    freg.render_error = RenderFregError;
    freg.before.push_back([this](Request& r) -> std::optional<Error> {
      ++before_calls_;
      auto auth = r.Header("Authorization");
      if (!auth) return MakeError(ErrorCode::kUnauthenticated, "Mangler token");
      if (*auth == "Bearer slow") {
        SetRetryAfter(r, std::chrono::milliseconds(1500));
        return MakeError(ErrorCode::kRateLimited, "For mange kall");
      }
      r.context = Principal{"910000000"};
      return std::nullopt;
    });
    ASSERT_TRUE(d_.AddApi(std::move(freg)).ok());
    ASSERT_TRUE(d_.AddApi(ApiSpec{"ops", "", {}, {}}).ok());

    std::string base = std::string(kPrefix) + "/v1";
    ASSERT_TRUE(d_.Add(Method::kGet, base + "/personer/{id}", RouteInfo{"freg", "person"},
                       [](Request& r) -> Result<Response> {
                         auto* p = r.ContextAs<Principal>();
                         if (!p) return MakeError(ErrorCode::kInternal, "no principal");
                         if (r.Param("id") == "0") {
                           return MakeError(ErrorCode::kNotFound, "Fant ikke personen",
                                            "row missing in table persons");
                         }
                         if (r.Param("id") == "boom") throw std::runtime_error("secret stack");
                         if (r.Param("id") == "inject") {
                           return MakeError(ErrorCode::kNotFound, "Fant ikke personen",
                                            "kid \"a\nrequest_error rid=forged\"");
                         }
                         return Response::Json("{\"id\":\"" + std::string(r.Param("id")) +
                                               "\",\"org\":\"" + p->orgnr + "\"}");
                       })
                    .ok());
    ASSERT_TRUE(d_.Add(Method::kGet, "/health/live", RouteInfo{"ops", "live"},
                       [](Request&) -> Result<Response> { return Response::Text("ok"); })
                    .ok());
  }

  Response Do(Method m, const std::string& target, const std::string& auth = "Bearer ok",
              const std::string& accept = "") {
    req_.Reset();
    req_.method = m;
    EXPECT_TRUE(req_.SetTarget(target).ok());
    if (!auth.empty()) req_.AddHeader("Authorization", auth);
    if (!accept.empty()) req_.AddHeader("Accept", accept);
    return d_.Dispatch(req_);
  }

  Metrics metrics_;
  Dispatcher d_{&metrics_};
  Request req_;
  int before_calls_ = 0;
};

TEST_F(DispatcherTest, HandlerSeesParamsAndContext) {
  Response r = Do(Method::kGet, std::string(kPrefix) + "/v1/personer/123/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"id\":\"123\",\"org\":\"910000000\"}");
  ASSERT_NE(req_.route, nullptr);
  EXPECT_EQ(req_.route->name, "person");
  EXPECT_NE(req_.route_slot, Metrics::kUnmatched);
  EXPECT_EQ(before_calls_, 1);
}

TEST_F(DispatcherTest, BeforeStepStopsTheRequest) {
  Response r = Do(Method::kGet, std::string(kPrefix) + "/v1/personer/123", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(boost::json::parse(r.body).at("kode").as_string(), "FREG-001");
}

TEST_F(DispatcherTest, RetryAfterFromBeforeStepReachesTheAnswer) {
  Response r = Do(Method::kGet, std::string(kPrefix) + "/v1/personer/123", "Bearer slow");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.GetHeader("Retry-After"), "1500");
}

TEST_F(DispatcherTest, HandlerErrorUsesApiShapeWithoutDetail) {
  Response r =
      Do(Method::kGet, std::string(kPrefix) + "/v1/personer/0", "Bearer ok", "application/xml");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/xml");
  EXPECT_NE(r.body.find("<melding>Fant ikke personen</melding>"), std::string::npos);
  EXPECT_EQ(r.body.find("row missing"), std::string::npos);
}

// A detail quoting what a client sent cannot break the log line or forge another.
TEST_F(DispatcherTest, LoggedDetailsStayOnOneLine) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  spdlog::set_level(spdlog::level::info);
  Response r = Do(Method::kGet, std::string(kPrefix) + "/v1/personer/inject");
  spdlog::default_logger()->flush();
  spdlog::set_default_logger(previous);
  EXPECT_EQ(r.status, 404);
  const std::string log = captured.str();
  EXPECT_NE(log.find(R"(detail="kid \"a\nrequest_error rid=forged\"")"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
}

TEST_F(DispatcherTest, ExceptionBecomesGeneric500) {
  Response r = Do(Method::kGet, std::string(kPrefix) + "/v1/personer/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(boost::json::parse(r.body).at("melding").as_string(),
            "Feil i tjenesten. Vennligst prøv igjen senere.");
}

TEST_F(DispatcherTest, UnknownPathUnderPrefixIsApi404ElsewherePlain) {
  Response api = Do(Method::kGet, std::string(kPrefix) + "/v1/ukjent");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.content_type, "application/json");
  EXPECT_EQ(boost::json::parse(api.body).at("kode").as_string(), "FREG-001");
  EXPECT_EQ(before_calls_, 0) << "before-steps run only for matched routes";

  Response plain = Do(Method::kGet, "/folkeregisteret/other");
  EXPECT_EQ(plain.status, 404);
  EXPECT_EQ(plain.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(plain.body, "404 Not Found\n");

  // Prefix matching respects segment boundaries.
  Response near = Do(Method::kGet, std::string(kPrefix) + "x/v1");
  EXPECT_EQ(near.content_type, "text/plain; charset=utf-8");
}

TEST_F(DispatcherTest, WrongMethodIs405WithAllow) {
  Response r = Do(Method::kPost, std::string(kPrefix) + "/v1/personer/1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.GetHeader("Allow"), "GET, HEAD");
  EXPECT_EQ(boost::json::parse(r.body).at("kode").as_string(), "FREG-001");

  Response plain = Do(Method::kDelete, "/health/live");
  EXPECT_EQ(plain.status, 405);
  EXPECT_EQ(plain.body, "405 Method Not Allowed\n");
  EXPECT_EQ(plain.GetHeader("Allow"), "GET, HEAD");
}

TEST_F(DispatcherTest, RenderErrorUsesTheRouteApi) {
  req_.Reset();
  req_.method = Method::kGet;
  ASSERT_TRUE(req_.SetTarget(std::string(kPrefix) + "/v1/personer/1").ok());
  Response r = d_.RenderError(req_, MakeError(ErrorCode::kTooLarge, "For stor", "len 9e9"));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(boost::json::parse(r.body).at("melding").as_string(), "For stor");
  ASSERT_NE(req_.route, nullptr);
  EXPECT_EQ(req_.route->name, "person");
}

TEST_F(DispatcherTest, RejectsUnknownApiAndDuplicates) {
  EXPECT_FALSE(d_.Add(Method::kGet, "/x", RouteInfo{"nope", "x"}, [](Request&) -> Result<Response> {
                   return Response{};
                 }).ok());
  EXPECT_FALSE(d_.AddApi(ApiSpec{"freg", "/y", {}, {}}).ok());
  EXPECT_FALSE(d_.AddApi(ApiSpec{"", "/y", {}, {}}).ok());
  EXPECT_FALSE(d_.AddApi(ApiSpec{"z", "nolead", {}, {}}).ok());
}

TEST_F(DispatcherTest, ThrowingRendererFallsBackToPlain500) {
  Dispatcher d;
  ASSERT_TRUE(d.AddApi(ApiSpec{"bad",
                               "/bad",
                               {},
                               [](const Error&, const Request&) -> Response {
                                 throw std::runtime_error("renderer broke");
                               }})
                  .ok());
  Request r;
  ASSERT_TRUE(r.SetTarget("/bad/x").ok());
  Response res = d.Dispatch(r);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body, "500 Internal Server Error\n");
}

}  // namespace
}  // namespace norreg::http
