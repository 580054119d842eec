// Functional tests of the Folkeregisteret person endpoints (SPEC 2.1–2.3) against the real
// `norreg serve` binary with a small generated demo register.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";

std::string Api(const std::string& path) { return std::string(kApi) + path; }

class FregPersonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<ServerProcess>(dir_->path(),
                                              std::vector<std::string>{"--demo-persons", "300"});
    ASSERT_GT(server_->port(), 0);
    // Person numbers and document ids come from the feed.
    auto page = server_->Get(Api("/hendelser/feed?seq=1"));
    ASSERT_EQ(page.status, 200) << page.body;
    json::array events = json::parse(page.body).as_array();
    ASSERT_FALSE(events.empty());
    for (const auto& e : events) {
      const auto& h = e.at("hendelse").as_object();
      fnrs_.push_back(std::string(h.at("folkeregisteridentifikator").as_string()));
      documents_.push_back(std::string(h.at("persondokument").as_string()));
    }
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

  static void ExpectFregError(const HttpResponse& r, long status) {
    EXPECT_EQ(r.status, status) << r.body;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
    EXPECT_FALSE(body.at("melding").as_string().empty());
    EXPECT_EQ(body.size(), 2u);
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::vector<std::string> fnrs_;
  static inline std::vector<std::string> documents_;
};

TEST_F(FregPersonTest, HealthAndMetrics) {
  EXPECT_EQ(server_->Get("/health/live").status, 200);
  EXPECT_EQ(server_->Get("/health/ready").status, 200);
  server_->Get(Api("/personer/" + fnrs_[0]));
  // A request is counted when its answer has been written, which may be just after the client
  // has read it: poll briefly.
  HttpResponse metrics;
  for (int i = 0; i < 50; ++i) {
    metrics = server_->Get("/metrics");
    if (metrics.body.find("route=\"freg_person\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("norreg_http_requests_total{route=\"freg_person\""),
            std::string::npos);
  EXPECT_NE(metrics.body.find("norreg_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(FregPersonTest, LatestSequenceNumberInEveryFormat) {
  auto plain = server_->Get(Api("/hendelser/siste/sekvensnummer"));
  ASSERT_EQ(plain.status, 200);
  EXPECT_GT(std::stoull(plain.body), 300u);
  auto text = server_->Get(Api("/hendelser/siste/sekvensnummer"), {{"Accept", "text/plain"}});
  EXPECT_EQ(text.body, plain.body);
  auto xml = server_->Get(Api("/hendelser/siste/sekvensnummer"), {{"Accept", "application/xml"}});
  EXPECT_EQ(xml.body, "<sekvensnummer>" + plain.body + "</sekvensnummer>");
}

TEST_F(FregPersonTest, GetPersonJsonIsPersonBasis) {
  auto r = server_->Get(Api("/personer/" + fnrs_[0]));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("content-type").find("application/json"), std::string::npos);
  auto person = json::parse(r.body).as_object();
  auto ids = person.at("identifikasjonsnummer").as_array();
  ASSERT_FALSE(ids.empty());
  bool found = false;
  for (const auto& id : ids) found = found || id.at("foedselsEllerDNummer").as_string() == fnrs_[0];
  EXPECT_TRUE(found);
  EXPECT_TRUE(person.contains("navn"));
  EXPECT_FALSE(person.contains("familierelasjon"));  // relasjon-utvidet, not person-basis
  for (const auto& row : person.at("navn").as_array()) {
    EXPECT_TRUE(row.at("erGjeldende").as_bool());  // no history without part=historikk
  }
}

TEST_F(FregPersonTest, SameAnswerWithTrailingSlashAndWildcardAccept) {
  auto a = server_->Get(Api("/personer/" + fnrs_[1]));
  auto b = server_->Get(Api("/personer/" + fnrs_[1] + "/"), {{"Accept", "*/*"}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, b.body);
}

TEST_F(FregPersonTest, GetPersonXml) {
  auto r = server_->Get(Api("/personer/" + fnrs_[0]), {{"Accept", "application/xml"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("content-type").find("application/xml"), std::string::npos);
  EXPECT_EQ(r.body.rfind("<folkeregisterperson xmlns=\"folkeregisteret:tilgjengeliggjoering:"
                         "person:v1\">",
                         0),
            0u)
      << r.body.substr(0, 200);
  EXPECT_NE(r.body.find("<foedselsEllerDNummer>" + fnrs_[0] + "</foedselsEllerDNummer>"),
            std::string::npos);
}

TEST_F(FregPersonTest, PartsSelectProperties) {
  auto r = server_->Get(Api("/personer/" + fnrs_[0] + "?part=navn"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto person = json::parse(r.body).as_object();
  EXPECT_TRUE(person.contains("identifikasjonsnummer"));  // always included
  EXPECT_TRUE(person.contains("navn"));
  EXPECT_EQ(person.size(), 2u);
  auto utvidet = server_->Get(Api("/personer/" + fnrs_[0] + "?part=relasjon-utvidet&part=kjoenn"));
  ASSERT_EQ(utvidet.status, 200);
  auto p2 = json::parse(utvidet.body).as_object();
  EXPECT_TRUE(p2.contains("kjoenn"));
  EXPECT_FALSE(p2.contains("navn"));
}

TEST_F(FregPersonTest, UnknownPartIs406) {
  ExpectFregError(server_->Get(Api("/personer/" + fnrs_[0] + "?part=skostoerrelse")), 406);
}

TEST_F(FregPersonTest, UnsupportedAcceptIs406) {
  ExpectFregError(server_->Get(Api("/personer/" + fnrs_[0]), {{"Accept", "text/html"}}), 406);
}

TEST_F(FregPersonTest, MalformedNumbersAre400) {
  for (std::string bad : {"123", "0101801234", "010180123456", "abcdefghijk", "03851598731"}) {
    ExpectFregError(server_->Get(Api("/personer/" + bad)), 400);
  }
}

TEST_F(FregPersonTest, UnknownNumberIs404) {
  // A valid synthetic number (official test vector) that the demo register does not hold.
  ExpectFregError(server_->Get(Api("/personer/30908299902")), 404);
}

TEST_F(FregPersonTest, ErrorInXmlWhenXmlAsked) {
  auto r = server_->Get(Api("/personer/30908299902"), {{"Accept", "application/xml"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("<kode>FREG-001</kode>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<melding>"), std::string::npos);
}

TEST_F(FregPersonTest, UnknownPathUnderApiIs404InApiShape) {
  ExpectFregError(server_->Get(Api("/finnesikke")), 404);
}

TEST_F(FregPersonTest, ArchivedDocumentByDokumentidentifikator) {
  auto r = server_->Get(Api("/personer/arkiv/" + documents_[0]));
  ASSERT_EQ(r.status, 200) << r.body;
  auto person = json::parse(r.body).as_object();
  EXPECT_EQ(person.at("identifikasjonsnummer").as_array()[0].at("foedselsEllerDNummer").as_string(),
            fnrs_[0]);
  ExpectFregError(server_->Get(Api("/personer/arkiv/0123456789abcdef0123456789abcdef")), 404);
  ExpectFregError(server_->Get(Api("/personer/arkiv/xyz")), 400);
}

TEST_F(FregPersonTest, BulkLookupLeavesUnknownOut) {
  std::string body = R"({"foedselsEllerDNummer":[")" + fnrs_[0] + R"(","30908299902",")" +
                     fnrs_[1] + R"(",")" + fnrs_[0] + R"("]})";
  auto r = server_->Post(Api("/personer/bulkoppslag"), body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto oppslag = json::parse(r.body).at("oppslag").as_array();
  ASSERT_EQ(oppslag.size(), 2u);
  EXPECT_EQ(oppslag[0].at("foedselsEllerDNummer").as_string(), fnrs_[0]);
  EXPECT_TRUE(oppslag[0].as_object().contains("folkeregisterperson"));
  EXPECT_EQ(oppslag[1].at("foedselsEllerDNummer").as_string(), fnrs_[1]);
}

TEST_F(FregPersonTest, BulkLookupSomBestiltKeepsOrderAndDuplicates) {
  std::string body = R"({"foedselsEllerDNummer":[")" + fnrs_[1] + R"(","30908299902",")" +
                     fnrs_[0] + R"(",")" + fnrs_[1] + R"("]})";
  auto r = server_->Post(Api("/personer/bulkoppslag?somBestilt=true"), body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto oppslag = json::parse(r.body).at("oppslag").as_array();
  ASSERT_EQ(oppslag.size(), 4u);
  EXPECT_EQ(oppslag[0].at("foedselsEllerDNummer").as_string(), fnrs_[1]);
  EXPECT_EQ(oppslag[1].at("foedselsEllerDNummer").as_string(), "30908299902");
  EXPECT_TRUE(oppslag[1].as_object().contains("feilmelding"));
  EXPECT_FALSE(oppslag[1].as_object().contains("folkeregisterperson"));
  EXPECT_EQ(oppslag[3].at("foedselsEllerDNummer").as_string(), fnrs_[1]);
}

TEST_F(FregPersonTest, BulkLookupXmlBody) {
  std::string body = "<PersonBulkoppslagRequest><foedselsEllerDNummer>" + fnrs_[0] +
                     "</foedselsEllerDNummer></PersonBulkoppslagRequest>";
  auto r = server_->Post(Api("/personer/bulkoppslag"), body,
                         {{"Content-Type", "application/xml"}, {"Accept", "application/xml"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<oppslag><foedselsEllerDNummer>" + fnrs_[0]), std::string::npos);
}

TEST_F(FregPersonTest, BulkLookupBadInput) {
  std::string many = R"({"foedselsEllerDNummer":[)";
  for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + "\"" + fnrs_[0] + "\"";
  many += "]}";
  ExpectFregError(server_->Post(Api("/personer/bulkoppslag"), many), 400);
  ExpectFregError(server_->Post(Api("/personer/bulkoppslag"), "{not json"), 400);
  ExpectFregError(server_->Post(Api("/personer/bulkoppslag"), R"({"foedselsEllerDNummer":"x"})"),
                  400);
  ExpectFregError(server_->Post(Api("/personer/bulkoppslag"), R"({"foedselsEllerDNummer":[1]})"),
                  400);
  ExpectFregError(server_->Post(Api("/personer/bulkoppslag?somBestilt=kanskje"),
                                R"({"foedselsEllerDNummer":[]})"),
                  400);
  ExpectFregError(server_->Post(Api("/personer/bulkoppslag"), R"({"foedselsEllerDNummer":[]})",
                                {{"Content-Type", "text/plain"}}),
                  415);
}

TEST_F(FregPersonTest, ArchiveBulkLookup) {
  std::string body = R"({"dokumentidentifikator":[")" + documents_[0] + R"(","ffff",")" +
                     documents_[2] + R"("]})";
  auto r = server_->Post(Api("/personer/bulkoppslag/arkiv"), body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto oppslag = json::parse(r.body).at("oppslag").as_array();
  ASSERT_EQ(oppslag.size(), 2u);
  EXPECT_EQ(oppslag[0].at("dokumentidentifikator").as_string(), documents_[0]);
  EXPECT_EQ(oppslag[1].at("dokumentidentifikator").as_string(), documents_[2]);
}

TEST_F(FregPersonTest, OversizedBodyIs413AndServerKeepsServing) {
  // Announced size above the limit: answered from the header, before any body byte is read.
  const std::string announced = RawExchange(
      server_->port(), "POST " + Api("/personer/bulkoppslag") +
                           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: " + std::to_string(9 << 20) + "\r\n\r\n");
  EXPECT_EQ(announced.rfind("HTTP/1.1 413", 0), 0u) << announced.substr(0, 200);
  // A client that sends the whole body anyway gets the 413 or, when the server has closed the
  // connection while the client was still sending, a reset: never anything else.
  std::string huge(9 << 20, ' ');
  auto r = server_->Post(Api("/personer/bulkoppslag"), huge);
  EXPECT_TRUE(r.status == 413 || r.status == 0) << r.status;
  EXPECT_EQ(server_->Get(Api("/personer/" + fnrs_[0])).status, 200);
}

TEST_F(FregPersonTest, GarbageAndSlowClientsDoNotHurtTheServer) {
  std::string garbage = RawExchange(server_->port(), "\x01\x02 NOT HTTP\r\n\r\n");
  EXPECT_NE(garbage.find("400"), std::string::npos);
  // Half a request, then nothing: the server must keep answering others meanwhile.
  std::string half = RawExchange(server_->port(), "GET /health/live HTTP/1.1\r\nHost: x", 300);
  EXPECT_TRUE(half.empty());
  EXPECT_EQ(server_->Get("/health/live").status, 200);
}

TEST_F(FregPersonTest, BadRequestsChangeNothing) {
  auto before = server_->Get(Api("/hendelser/siste/sekvensnummer")).body;
  server_->Post(Api("/personer/bulkoppslag"), "{not json");
  server_->Get(Api("/personer/abc"));
  server_->Post(Api("/personer/bulkoppslag/arkiv"), "[]");
  EXPECT_EQ(server_->Get(Api("/hendelser/siste/sekvensnummer")).body, before);
}

TEST_F(FregPersonTest, FeedBadSeqIs400) {
  ExpectFregError(server_->Get(Api("/hendelser/feed")), 400);
  ExpectFregError(server_->Get(Api("/hendelser/feed?seq=abc")), 400);
  ExpectFregError(server_->Get(Api("/hendelser/feed?seq=-1")), 400);
  auto past = server_->Get(Api("/hendelser/feed?seq=99999999"));
  EXPECT_EQ(past.status, 200);
  EXPECT_EQ(past.body, "[]");
}

}  // namespace
}  // namespace norreg::testing
