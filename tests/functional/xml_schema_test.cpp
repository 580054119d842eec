// Every kind of XML answer of the Folkeregisteret API, validated with a real XSD validator
// (xmllint, Debian package libxml2-utils, installed by scripts/install-deps.sh) against the schema
// the server itself serves: person documents against personer/xsd, event documents against
// hendelser/xsd, feed pages against hendelser/feedxsd (docs/xml.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
constexpr const char* kPersonNs = "folkeregisteret:tilgjengeliggjoering:person:v1";
constexpr const char* kEventNs = "folkeregisteret:tilgjengeliggjoering:hendelse:v1";
const std::map<std::string, std::string> kXml = {{"Accept", "application/xml"}};

std::string Api(const std::string& path) { return std::string(kApi) + path; }

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class XmlSchemaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string out;
    xmllint_ok_ = RunShell("xmllint --version", out) == 0;
    data_ = std::make_unique<TempDir>();
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<ServerProcess>(data_->path(),
                                              std::vector<std::string>{"--demo-persons", "600"});
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
    data_.reset();
  }

  void SetUp() override {
    ASSERT_TRUE(xmllint_ok_) << "xmllint is missing: install libxml2-utils "
                                "(bash scripts/install-deps.sh installs it)";
    ASSERT_GT(server_->port(), 0);
  }

  // Fetches a schema from the server into the test folder; returns its path.
  static fs::path FetchXsd(const std::string& path, const std::string& file) {
    auto r = server_->Get(Api(path), kXml);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(r.Header("content-type").rfind("application/xml", 0), 0u) << path;
    fs::path target = fs::path(dir_->path()) / "xsd" / file;
    WriteFile(target, r.body);
    return target;
  }
  static fs::path PersonXsd() { return FetchXsd("/personer/xsd", "person.xsd"); }
  static fs::path EventXsd() { return FetchXsd("/hendelser/xsd", "hendelse.xsd"); }
  static fs::path FeedXsd() {
    // The feed schema imports "feedxsd/lagretHendelse.xsd" relative to itself.
    FetchXsd("/hendelser/feedxsd/lagretHendelse.xsd", "feedxsd/lagretHendelse.xsd");
    return FetchXsd("/hendelser/feedxsd", "feedxsd.xsd");
  }

  // Validates `xml` against `xsd` with xmllint; on failure the message holds xmllint's report.
  static ::testing::AssertionResult Valid(const fs::path& xsd, const std::string& xml,
                                          const std::string& what) {
    const fs::path file = fs::path(dir_->path()) / "doc.xml";
    WriteFile(file, xml);
    std::string out;
    const int rc =
        RunShell("xmllint --noout --schema '" + xsd.string() + "' '" + file.string() + "'", out);
    if (rc == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << what << " fails " << xsd.filename() << " (xmllint " << rc << "):\n"
           << out.substr(0, 4000) << "\n--- document:\n"
           << xml.substr(0, 4000);
  }

  // The documents inside a bulk answer `<wrapper><oppslag>…<child>document</child></oppslag>`,
  // each as a standalone document with root `root` in namespace `ns`.
  static std::vector<std::string> Inner(const std::string& body, const char* child,
                                        const char* root, const char* ns) {
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_string(body.c_str())) << body.substr(0, 500);
    std::vector<std::string> out;
    for (pugi::xml_node oppslag : doc.document_element().children("oppslag")) {
      pugi::xml_node inner = oppslag.child(child);
      if (!inner) continue;
      pugi::xml_document single;
      pugi::xml_node copy = single.append_copy(inner);
      copy.set_name(root);
      copy.remove_attribute("xmlns");
      copy.prepend_attribute("xmlns") = ns;
      std::ostringstream text;
      single.save(text, "", pugi::format_raw);
      out.push_back(text.str());
    }
    return out;
  }

  static uint64_t Latest() {
    return std::stoull(server_->Get(Api("/hendelser/siste/sekvensnummer")).body);
  }
  static json::array Page(uint64_t seq) {
    return json::parse(server_->Get(Api("/hendelser/feed?seq=" + std::to_string(seq))).body)
        .as_array();
  }

  static inline bool xmllint_ok_ = false;
  static inline std::unique_ptr<TempDir> data_;  // the server's data folder
  static inline std::unique_ptr<TempDir> dir_;   // schemas and documents for xmllint
  static inline std::unique_ptr<ServerProcess> server_;
};

constexpr const char* kAllParts =
    "?part=person-basis&part=historikk&part=identitetsgrunnlag-utvidet&part=relasjon-utvidet"
    "&part=innflytting&part=utflytting&part=opphold&part=foedselINorge&part=bibehold"
    "&part=brukAvSamiskSpraak&part=forholdTilSametingetsValgmanntall"
    "&part=utlendingsmyndighetenesIdentifikasjonsnummer";

TEST_F(XmlSchemaTest, SchemaEndpointsAnswerXmlWithAndWithoutSlash) {
  for (const char* path : {"/personer/xsd", "/hendelser/xsd", "/hendelser/feedxsd",
                           "/hendelser/feedxsd/lagretHendelse.xsd"}) {
    SCOPED_TRACE(path);
    for (const std::string suffix : {"", "/"}) {
      auto r = server_->Get(Api(path + suffix), kXml);
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(r.Header("content-type").rfind("application/xml", 0), 0u);
      pugi::xml_document doc;
      ASSERT_TRUE(doc.load_string(r.body.c_str()));
      EXPECT_STREQ(doc.document_element().name(), "xsd:schema");
      // No Accept header: still the schema.
      EXPECT_EQ(server_->Get(Api(path + suffix)).status, 200);
    }
    // The same authentication as every Folkeregisteret endpoint.
    EXPECT_EQ(server_->Get(Api(path), {{"Authorization", ""}}).status, 401);
    EXPECT_EQ(server_->Get(Api(path), {{"Accept", "text/html"}}).status, 406);
  }
  // The event XSD is the official one: its root element is dokumentForHendelse.
  auto event = server_->Get(Api("/hendelser/xsd"));
  EXPECT_NE(event.body.find("<xsd:element name=\"dokumentForHendelse\""), std::string::npos);
  // Parameters still route where the literal does not match.
  EXPECT_EQ(server_->Get(Api("/personer/xsdx")).status, 400);
}

TEST_F(XmlSchemaTest, PersonDocumentsValidate) {
  const fs::path xsd = PersonXsd();
  const json::array first = Page(1);
  std::vector<std::string> fnrs;
  for (size_t i = 0; i < first.size() && fnrs.size() < 25; i += 37) {
    std::string fnr(first[i].at("hendelse").at("folkeregisteridentifikator").as_string());
    if (std::find(fnrs.begin(), fnrs.end(), fnr) == fnrs.end()) fnrs.push_back(std::move(fnr));
  }
  ASSERT_FALSE(fnrs.empty());
  for (const std::string& fnr : fnrs) {
    for (const std::string& query : {std::string(), std::string(kAllParts)}) {
      auto r = server_->Get(Api("/personer/" + fnr + query), kXml);
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_TRUE(Valid(xsd, r.body, "personer/" + fnr + query));
    }
  }
  // Archived versions (from the feed's persondokument).
  for (size_t i = 0; i < first.size(); i += 97) {
    const std::string id(first[i].at("hendelse").at("persondokument").as_string());
    auto r = server_->Get(Api("/personer/arkiv/" + id + kAllParts), kXml);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(Valid(xsd, r.body, "personer/arkiv/" + id));
  }
  // Bulk lookup in XML: every folkeregisterperson of the answer.
  std::string body = "<foedselsEllerDNummerListe>";
  for (const std::string& fnr : fnrs)
    body += "<foedselsEllerDNummer>" + fnr + "</foedselsEllerDNummer>";
  body += "</foedselsEllerDNummerListe>";
  auto bulk = server_->Post(Api("/personer/bulkoppslag?part=historikk"), body,
                            {{"Content-Type", "application/xml"}, {"Accept", "application/xml"}});
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  const auto documents = Inner(bulk.body, "folkeregisterperson", "folkeregisterperson", kPersonNs);
  EXPECT_EQ(documents.size(), fnrs.size());
  for (const std::string& d : documents) EXPECT_TRUE(Valid(xsd, d, "personer/bulkoppslag"));
}

// Event documents of every event type in the register, plus producer writes that give
// korrigere, annullere and registrereNy entries.
TEST_F(XmlSchemaTest, EventDocumentsValidate) {
  const fs::path xsd = EventXsd();
  // A producer correction: the name corrected (korrigere), kjoenn dropped (annullere), a new
  // statsborgerskap (registrereNy).
  const std::string fnr(
      Page(1).front().at("hendelse").at("folkeregisteridentifikator").as_string());
  auto person = server_->Get(Api("/personer/" + fnr + kAllParts));
  ASSERT_EQ(person.status, 200) << person.body;
  json::object document = json::parse(person.body).as_object();
  json::object& navn = document.at("navn").as_array().at(0).as_object();
  navn["etternavn"] = std::string(navn.at("etternavn").as_string()) + "SEN";
  document.erase("kjoenn");
  json::array& statsborgerskap = document["statsborgerskap"].is_array()
                                     ? document["statsborgerskap"].as_array()
                                     : document["statsborgerskap"].emplace_array();
  statsborgerskap.push_back(json::parse(
      R"({"erGjeldende":true,"kilde":"skatteetaten","statsborgerskap":"SWE",)"
      R"("ervervsdato":"2020-01-02","gyldighetstidspunkt":"2020-01-02T00:00:00+01:00"})"));
  auto written = server_->Post("/norreg/register/v1/personer", json::serialize(document),
                               {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer " + server_->Token("norreg:register")}});
  ASSERT_EQ(written.status, 200) << written.body;

  // One event of each type (and the producer's), one by one and in one bulk lookup.
  const uint64_t latest = Latest();
  std::map<std::string, std::string> one_of_each;  // hendelsetype -> hendelsesdokument
  std::string produced;
  for (uint64_t seq = 1; seq <= latest; seq += 1000) {
    for (const auto& row : Page(seq)) {
      const auto& h = row.at("hendelse").as_object();
      if (h.at("hendelsetype") == "personErOppdatert") continue;
      const std::string id(h.at("hendelsesdokument").as_string());
      one_of_each.emplace(std::string(h.at("hendelsetype").as_string()), id);
      if (static_cast<uint64_t>(row.at("sekvensnummer").as_int64()) == latest) produced = id;
    }
  }
  ASSERT_GE(one_of_each.size(), 5u);
  ASSERT_FALSE(produced.empty());
  std::vector<std::string> ids = {produced};
  for (const auto& [type, id] : one_of_each) ids.push_back(id);

  std::string bulk_body = "<dokumentidentifikatorListe>";
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    auto r = server_->Get(Api("/hendelser/" + id), kXml);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(Valid(xsd, r.body, "hendelser/" + id));
    bulk_body += "<dokumentidentifikator>" + id + "</dokumentidentifikator>";
  }
  bulk_body += "</dokumentidentifikatorListe>";

  // The producer's document has all three kinds of entries, each with the row first.
  auto produced_xml = server_->Get(Api("/hendelser/" + produced), kXml);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(produced_xml.body.c_str()));
  std::map<std::string, std::string> endring;  // entitet -> entitetsendring
  for (pugi::xml_node e :
       doc.child("dokumentForHendelse").child("hendelse").children("egenskapshendelse")) {
    endring[e.child_value("entitet")] = e.child_value("entitetsendring");
    if (std::string_view(e.child_value("entitetsendring")) != "annullere") {
      EXPECT_STREQ(e.first_child().name(), e.child_value("entitet")) << produced_xml.body;
    }
  }
  EXPECT_EQ(endring["navn"], "korrigere") << produced_xml.body;
  EXPECT_EQ(endring["kjoenn"], "annullere") << produced_xml.body;
  EXPECT_EQ(endring["statsborgerskap"], "registrereNy") << produced_xml.body;

  auto bulk = server_->Post(Api("/hendelser/bulkoppslag"), bulk_body,
                            {{"Content-Type", "application/xml"}, {"Accept", "application/xml"}});
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  const auto documents = Inner(bulk.body, "hendelsedokument", "dokumentForHendelse", kEventNs);
  EXPECT_EQ(documents.size(), ids.size());
  for (const std::string& d : documents) EXPECT_TRUE(Valid(xsd, d, "hendelser/bulkoppslag"));
}

TEST_F(XmlSchemaTest, FeedPagesValidate) {
  const fs::path xsd = FeedXsd();
  const uint64_t latest = Latest();
  ASSERT_GT(latest, 1000u);
  for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{500}, latest - 2, latest + 1}) {
    for (const char* accept : {"application/atom+xml", "application/xml"}) {
      SCOPED_TRACE(std::to_string(seq) + " " + accept);
      auto r =
          server_->Get(Api("/hendelser/feed?seq=" + std::to_string(seq)), {{"Accept", accept}});
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_TRUE(Valid(xsd, r.body, "hendelser/feed?seq=" + std::to_string(seq)));
    }
  }
  // The schema is not a rubber stamp: a broken page fails it.
  auto r = server_->Get(Api("/hendelser/feed?seq=1"), {{"Accept", "application/atom+xml"}});
  std::string broken = r.body;
  const size_t at = broken.find("<sekvensnummer>");
  ASSERT_NE(at, std::string::npos);
  broken.insert(at + 15, "x");
  EXPECT_FALSE(Valid(xsd, broken, "broken page"));
}

}  // namespace
}  // namespace norreg::testing
