// Functional tests of the Folkeregisteret event feed and event documents (SPEC 2.4) against the
// real `norreg serve` binary with a generated demo register of more than one feed page.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
constexpr size_t kPage = 1000;

std::string Api(const std::string& path) { return std::string(kApi) + path; }

bool IsHex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Folkeregisterperson property names -> the event document's entitet for them.
const std::map<std::string, std::string>& EntitetOfProperty() {
  static const std::map<std::string, std::string> kMap = [] {
    std::map<std::string, std::string> m;
    for (const char* p : {"falskIdentitet",
                          "identifikasjonsnummer",
                          "identitetsgrunnlag",
                          "kontaktinformasjonForDoedsbo",
                          "legitimasjonsdokument",
                          "status",
                          "utlendingsmyndighetenesIdentifikasjonsnummer",
                          "utenlandskPersonidentifikasjon",
                          "doedsfall",
                          "sivilstand",
                          "familierelasjon",
                          "bostedsadresse",
                          "deltBosted",
                          "oppholdsadresse",
                          "adressebeskyttelse",
                          "innflytting",
                          "utflytting",
                          "forholdTilSametingetsValgmanntall",
                          "kjoenn",
                          "statsborgerskap",
                          "foreldreansvar",
                          "foedsel",
                          "navn",
                          "foedselINorge",
                          "vergemaalEllerFremtidsfullmakt",
                          "opphold",
                          "bibehold",
                          "brukAvSamiskSpraak"}) {
      m[p] = p;
    }
    // The schema's entitet enum names these two after their types.
    m["postadresse"] = "kontaktadresse";
    m["postadresseIUtlandet"] = "kontaktadresseIUtlandet";
    return m;
  }();
  return kMap;
}

class FregFeedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<ServerProcess>(dir_->path(),
                                              std::vector<std::string>{"--demo-persons", "600"});
    ASSERT_GT(server_->port(), 0);
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

  static uint64_t Latest() {
    return std::stoull(server_->Get(Api("/hendelser/siste/sekvensnummer")).body);
  }

  static json::array Page(uint64_t seq) {
    auto r = server_->Get(Api("/hendelser/feed?seq=" + std::to_string(seq)));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u);
    return json::parse(r.body).as_array();
  }

  static void ExpectFregError(const HttpResponse& r, long status,
                              const std::string& mentions = "") {
    EXPECT_EQ(r.status, status) << r.body;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
    std::string melding(body.at("melding").as_string());
    EXPECT_FALSE(melding.empty());
    if (!mentions.empty()) {
      EXPECT_NE(melding.find(mentions), std::string::npos) << melding;
    }
    EXPECT_EQ(body.size(), 2u);
  }

  // Checks one DokumentForHendelse against the feed row it came from; returns its entries.
  static json::array ExpectEventDocument(const json::value& doc, const json::object& feed_row) {
    const auto& event = feed_row.at("hendelse").as_object();
    const auto& d = doc.as_object();
    EXPECT_EQ(d.at("dokumentidentifikator"), event.at("hendelsesdokument"));
    EXPECT_EQ(d.at("skjemaversjon").as_string(), "1.0");
    const auto& h = d.at("hendelse").as_object();
    EXPECT_EQ(h.at("folkeregisteridentifikator"), event.at("folkeregisteridentifikator"));
    EXPECT_EQ(h.at("ajourholdstidspunkt"), event.at("ajourholdstidspunkt"));
    EXPECT_FALSE(h.at("hendelsestype").as_string().empty());
    json::array entries = h.at("egenskapshendelse").as_array();
    for (const auto& entry : entries) {
      const auto& e = entry.as_object();
      const std::string entitet(e.at("entitet").as_string());
      const std::string endring(e.at("entitetsendring").as_string());
      EXPECT_TRUE(endring == "registrereNy" || endring == "korrigere" || endring == "annullere")
          << endring;
      size_t rows = 0;
      for (const auto& [key, value] : e) {
        if (key == "entitet" || key == "entitetsendring") continue;
        ++rows;
        auto it = EntitetOfProperty().find(std::string(key));
        if (it == EntitetOfProperty().end()) {
          ADD_FAILURE() << "not a Folkeregisterperson property: " << key;
          continue;
        }
        EXPECT_EQ(it->second, entitet);
        if (!value.is_object()) {
          ADD_FAILURE() << key << " is not an object";
          continue;
        }
        EXPECT_FALSE(value.as_object().contains("erGjeldende"));  // not in hendelse.v1 rows
      }
      EXPECT_EQ(rows, endring == "annullere" ? 0u : 1u) << json::serialize(entry);
    }
    return entries;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
};

TEST_F(FregFeedTest, JsonPagesOfAThousandAscending) {
  const uint64_t latest = Latest();
  ASSERT_GT(latest, kPage + 1) << "the demo register must span more than one page";
  uint64_t expected = 1;
  for (uint64_t seq = 1; seq <= latest; seq += kPage) {
    json::array page = Page(seq);
    ASSERT_EQ(page.size(), std::min<uint64_t>(kPage, latest - seq + 1)) << "seq=" << seq;
    for (const auto& item : page) {
      const auto& o = item.as_object();
      ASSERT_EQ(o.at("sekvensnummer").as_int64(), static_cast<int64_t>(expected));
      ++expected;
      const auto& h = o.at("hendelse").as_object();
      EXPECT_EQ(h.size(), 5u);
      EXPECT_EQ(h.at("folkeregisteridentifikator").as_string().size(), 11u);
      EXPECT_FALSE(h.at("hendelsetype").as_string().empty());
      EXPECT_TRUE(IsHex32(h.at("hendelsesdokument").as_string()));
      EXPECT_TRUE(IsHex32(h.at("persondokument").as_string()));
      EXPECT_NE(h.at("hendelsesdokument"), h.at("persondokument"));
      EXPECT_EQ(h.at("ajourholdstidspunkt").as_string().size(), 29u);  // ms and offset
    }
  }
  EXPECT_EQ(expected, latest + 1);
  // A page may start anywhere.
  json::array middle = Page(kPage / 2);
  ASSERT_FALSE(middle.empty());
  EXPECT_EQ(middle.front().at("sekvensnummer").as_int64(), static_cast<int64_t>(kPage / 2));
  EXPECT_EQ(Page(latest).size(), 1u);
  EXPECT_TRUE(Page(latest + 1).empty());
  EXPECT_EQ(server_->Get(Api("/hendelser/feed?seq=" + std::to_string(latest + 1))).body, "[]");
  EXPECT_EQ(server_->Get(Api("/hendelser/feed/?seq=1")).status, 200);  // trailing slash
}

TEST_F(FregFeedTest, BadSeqIs400) {
  for (const std::string query :
       {"", "?seq=", "?seq=abc", "?seq=-1", "?seq=1.5", "?seq=1a", "?seq=%2B1",
        "?seq=99999999999999999999999", "?sekvensnummer=1"}) {
    SCOPED_TRACE(query);
    ExpectFregError(server_->Get(Api("/hendelser/feed" + query)), 400, "seq");
  }
  ExpectFregError(server_->Get(Api("/hendelser/feed?seq=1"), {{"Accept", "text/html"}}), 406);
}

TEST_F(FregFeedTest, AtomFeedWithLinks) {
  const uint64_t latest = Latest();
  ASSERT_GT(latest, kPage + 3);
  json::array first_json = Page(1);
  for (const std::string accept : {"application/atom+xml", "application/xml"}) {
    SCOPED_TRACE(accept);
    auto r = server_->Get(Api("/hendelser/feed?seq=1"), {{"Accept", accept}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type").rfind(accept, 0), 0u);
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(r.body.c_str()));
    pugi::xml_node feed = doc.child("feed");
    ASSERT_TRUE(feed);
    EXPECT_STREQ(feed.attribute("xmlns").value(), "http://www.w3.org/2005/Atom");
    // As on the real service: the id is the feed's URL, links are absolute, first is seq=0.
    const std::string feed_url = server_->base_url() + Api("/hendelser/feed");
    EXPECT_EQ(feed.child_value("id"), feed_url);
    EXPECT_FALSE(std::string(feed.child_value("title")).empty());
    EXPECT_FALSE(std::string(feed.child_value("updated")).empty());
    std::map<std::string, std::string> links;
    for (pugi::xml_node link : feed.children("link")) {
      links[link.attribute("rel").value()] = link.attribute("href").value();
    }
    EXPECT_EQ(links["self"], feed_url + "?seq=1");
    EXPECT_EQ(links["first"], feed_url + "?seq=0");
    EXPECT_EQ(links["next"], feed_url + "?seq=" + std::to_string(kPage + 1));
    size_t i = 0;
    for (pugi::xml_node entry : feed.children("entry")) {
      ASSERT_LT(i, first_json.size());
      const auto& event = first_json[i].as_object();
      const auto& h = event.at("hendelse").as_object();
      EXPECT_FALSE(std::string(entry.child_value("id")).empty());
      EXPECT_EQ(entry.child_value("updated"), h.at("ajourholdstidspunkt").as_string());
      pugi::xml_node content = entry.child("content");
      EXPECT_STREQ(content.attribute("type").value(), "application/xml");
      pugi::xml_node stored = content.child("lagretHendelse");
      ASSERT_TRUE(stored);
      EXPECT_STREQ(stored.attribute("xmlns").value(),
                   "folkeregisteret:tilgjengeliggjoering:hendelse:v1");
      EXPECT_EQ(std::stoll(stored.child_value("sekvensnummer")),
                event.at("sekvensnummer").as_int64());
      pugi::xml_node x = stored.child("hendelse");
      for (const char* field : {"folkeregisteridentifikator", "hendelsetype", "hendelsesdokument",
                                "persondokument", "ajourholdstidspunkt"}) {
        EXPECT_EQ(x.child_value(field), h.at(field).as_string()) << field;
      }
      ++i;
    }
    EXPECT_EQ(i, kPage);
  }
  // The last page: fewer than 1000 events and no next link.
  auto last = server_->Get(Api("/hendelser/feed?seq=" + std::to_string(latest - 2)),
                           {{"Accept", "application/atom+xml"}});
  ASSERT_EQ(last.status, 200);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(last.body.c_str()));
  pugi::xml_node feed = doc.child("feed");
  std::set<std::string> rels;
  for (pugi::xml_node link : feed.children("link")) rels.insert(link.attribute("rel").value());
  EXPECT_EQ(rels, (std::set<std::string>{"self", "first"}));
  EXPECT_EQ(std::distance(feed.children("entry").begin(), feed.children("entry").end()), 3);
  // Past the end: a valid, empty feed.
  auto past = server_->Get(Api("/hendelser/feed?seq=" + std::to_string(latest + 1)),
                           {{"Accept", "application/atom+xml"}});
  ASSERT_EQ(past.status, 200);
  ASSERT_TRUE(doc.load_string(past.body.c_str()));
  EXPECT_TRUE(doc.child("feed"));
  EXPECT_FALSE(doc.child("feed").child("entry"));
  // Its updated is the time of the answer (the year is enough to tell it from the epoch).
  EXPECT_STRNE(std::string(doc.child("feed").child_value("updated")).substr(0, 4).c_str(), "1970");
  // Behind a proxy: the scheme from X-Forwarded-Proto (or Forwarded), the host from Host.
  auto proxied = server_->Get(Api("/hendelser/feed?seq=1"), {{"Accept", "application/atom+xml"},
                                                             {"Host", "folkeregisteret.example.no"},
                                                             {"X-Forwarded-Proto", "https"}});
  ASSERT_TRUE(doc.load_string(proxied.body.c_str()));
  EXPECT_STREQ(doc.child("feed").child_value("id"),
               ("https://folkeregisteret.example.no" + Api("/hendelser/feed")).c_str());
  auto forwarded = server_->Get(Api("/hendelser/feed?seq=1"),
                                {{"Accept", "application/atom+xml"},
                                 {"Host", "h.example.no:8443"},
                                 {"Forwarded", "for=1.2.3.4;proto=https, proto=http"}});
  ASSERT_TRUE(doc.load_string(forwarded.body.c_str()));
  EXPECT_STREQ(doc.child("feed").child_value("id"),
               ("https://h.example.no:8443" + Api("/hendelser/feed")).c_str());
  EXPECT_NE(forwarded.Header("etag"), proxied.Header("etag"));
}

// seq=0 (the real feed's `first` link) pages from the first event, in both forms.
TEST_F(FregFeedTest, SeqZeroStartsAtTheFirstEvent) {
  json::array zero = json::parse(server_->Get(Api("/hendelser/feed?seq=0")).body).as_array();
  ASSERT_EQ(zero.size(), kPage);
  EXPECT_EQ(zero.front().at("sekvensnummer").as_int64(), 1);
  EXPECT_EQ(zero, Page(1));
  auto atom = server_->Get(Api("/hendelser/feed?seq=0"), {{"Accept", "application/atom+xml"}});
  ASSERT_EQ(atom.status, 200);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(atom.body.c_str()));
  EXPECT_STREQ(doc.child("feed")
                   .child("entry")
                   .child("content")
                   .child("lagretHendelse")
                   .child_value("sekvensnummer"),
               "1");
}

TEST_F(FregFeedTest, EventDocumentsOfEveryEventType) {
  // Every event of the register, one bulk lookup per feed page (request order is kept;
  // personErOppdatert has no document).
  const uint64_t latest = Latest();
  std::vector<json::object> events;
  for (uint64_t seq = 1; seq <= latest; seq += kPage) {
    for (const auto& item : Page(seq)) events.push_back(item.as_object());
  }
  ASSERT_EQ(events.size(), latest);
  std::map<std::string, size_t> entries_by_type;
  std::map<std::string, const json::object*> one_of_each_type;
  for (size_t begin = 0; begin < events.size(); begin += kPage) {
    json::array ids;
    std::vector<const json::object*> with_document;
    for (size_t i = begin; i < std::min(events.size(), begin + kPage); ++i) {
      const auto& h = events[i].at("hendelse").as_object();
      if (h.at("hendelsetype").as_string() == "personErOppdatert") continue;
      ids.push_back(h.at("hendelsesdokument"));
      with_document.push_back(&events[i]);
    }
    auto bulk = server_->Post(Api("/hendelser/bulkoppslag"),
                              json::serialize(json::object{{"dokumentidentifikator", ids}}));
    ASSERT_EQ(bulk.status, 200) << bulk.body;
    json::array oppslag = json::parse(bulk.body).at("oppslag").as_array();
    ASSERT_EQ(oppslag.size(), with_document.size());
    for (size_t i = 0; i < oppslag.size(); ++i) {
      const auto& o = oppslag[i].as_object();
      const auto& feed_row = *with_document[i];
      EXPECT_EQ(o.at("dokumentidentifikator"), feed_row.at("hendelse").at("hendelsesdokument"));
      json::array entries = ExpectEventDocument(o.at("hendelsedokument"), feed_row);
      const std::string type(feed_row.at("hendelse").at("hendelsetype").as_string());
      entries_by_type[type] += entries.size();
      one_of_each_type.emplace(type, &feed_row);
      // The generator's events each add rows: every document says what changed.
      EXPECT_FALSE(entries.empty()) << type;
    }
  }
  EXPECT_GE(one_of_each_type.size(), 5u);
  EXPECT_GT(entries_by_type["personErOpprettet"], 0u);

  // One of every type on its own, in both forms; the rows it names are rows of the person
  // document of the same version.
  for (const auto& [type, feed_row] : one_of_each_type) {
    SCOPED_TRACE(type);
    const auto& h = feed_row->at("hendelse").as_object();
    const std::string id(h.at("hendelsesdokument").as_string());
    auto r = server_->Get(Api("/hendelser/" + id));
    ASSERT_EQ(r.status, 200) << r.body;
    json::array entries = ExpectEventDocument(json::parse(r.body), *feed_row);
    for (const auto& entry : entries) {
      for (const auto& [key, row] : entry.as_object()) {
        if (key == "entitet" || key == "entitetsendring") continue;
        auto person =
            server_->Get(Api("/personer/arkiv/" + std::string(h.at("persondokument").as_string()) +
                             "?part=historikk&part=" + std::string(key)));
        ASSERT_EQ(person.status, 200) << person.body;
        json::value in_document = json::parse(person.body).as_object()[key];
        bool found = false;
        // Event documents name identitetsgrunnlag's status as the event schemas do.
        json::value expected = row;
        if (key == "identitetsgrunnlag" && expected.as_object().contains("legitimasjonskontroll")) {
          json::value status = expected.as_object().at("legitimasjonskontroll");
          expected.as_object().erase("legitimasjonskontroll");
          expected.as_object()["identitetsgrunnlagstatus"] = std::move(status);
        }
        auto same = [&](json::value candidate) {
          candidate.as_object().erase("erGjeldende");
          return candidate == expected;
        };
        if (in_document.is_array()) {
          for (const auto& candidate : in_document.as_array()) found = found || same(candidate);
        } else if (in_document.is_object()) {
          found = same(in_document);
        }
        EXPECT_TRUE(found) << key << ": " << json::serialize(row);
      }
    }
    auto xml = server_->Get(Api("/hendelser/" + id), {{"Accept", "application/xml"}});
    ASSERT_EQ(xml.status, 200);
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(xml.body.c_str()));
    pugi::xml_node root = doc.child("dokumentForHendelse");
    ASSERT_TRUE(root) << xml.body;
    EXPECT_STREQ(root.attribute("xmlns").value(),
                 "folkeregisteret:tilgjengeliggjoering:hendelse:v1");
    EXPECT_EQ(root.child_value("dokumentidentifikator"), id);
    EXPECT_EQ(static_cast<size_t>(
                  std::distance(root.child("hendelse").children("egenskapshendelse").begin(),
                                root.child("hendelse").children("egenskapshendelse").end())),
              std::count_if(entries.begin(), entries.end(), [](const json::value& e) {
                // the event XSD has no entitet forholdTilSametingetsValgmanntall
                return e.at("entitet") != "forholdTilSametingetsValgmanntall";
              }));
  }
}

TEST_F(FregFeedTest, EventDocumentErrors) {
  json::array page = Page(1);
  const auto& h = page.front().at("hendelse").as_object();
  const std::string id(h.at("hendelsesdokument").as_string());
  ExpectFregError(server_->Get(Api("/hendelser/not-an-id")), 400, "dokumentidentifikator");
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != id) ExpectFregError(server_->Get(Api("/hendelser/" + upper)), 400);
  ExpectFregError(server_->Get(Api("/hendelser/" + id.substr(1))), 400);
  // Well-formed but unknown, or the id of a person document: 404.
  ExpectFregError(server_->Get(Api("/hendelser/00000000000000000000000000000000")), 404);
  ExpectFregError(
      server_->Get(Api("/hendelser/" + std::string(h.at("persondokument").as_string()))), 404);
  ExpectFregError(server_->Get(Api("/hendelser/" + id), {{"Accept", "text/plain"}}), 406);

  // Bulk: unknown and malformed ids are left out, order kept, XML works, limits hold.
  const std::string id2(page[1].at("hendelse").at("hendelsesdokument").as_string());
  auto bulk =
      server_->Post(Api("/hendelser/bulkoppslag"),
                    "{\"dokumentidentifikator\":[\"" + id2 + "\",\"nope\",\"" +
                        std::string(h.at("persondokument").as_string()) + "\",\"" + id + "\"]}");
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  json::array oppslag = json::parse(bulk.body).at("oppslag").as_array();
  ASSERT_EQ(oppslag.size(), 2u);
  EXPECT_EQ(oppslag[0].at("dokumentidentifikator").as_string(), id2);
  EXPECT_EQ(oppslag[1].at("dokumentidentifikator").as_string(), id);
  auto empty = server_->Post(Api("/hendelser/bulkoppslag"), "{\"dokumentidentifikator\":[]}");
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(json::parse(empty.body).at("oppslag").as_array().size(), 0u);
  auto xml =
      server_->Post(Api("/hendelser/bulkoppslag"),
                    "<request><dokumentidentifikator>" + id + "</dokumentidentifikator></request>",
                    {{"Content-Type", "application/xml"}, {"Accept", "application/xml"}});
  ASSERT_EQ(xml.status, 200) << xml.body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.body.c_str()));
  pugi::xml_node oppslag_xml = doc.document_element().child("oppslag");
  EXPECT_EQ(oppslag_xml.child_value("dokumentidentifikator"), id);
  EXPECT_EQ(oppslag_xml.child("hendelsedokument")
                .child("hendelse")
                .child_value("folkeregisteridentifikator"),
            h.at("folkeregisteridentifikator").as_string());
  std::string many = "{\"dokumentidentifikator\":[";
  for (int i = 0; i < 1001; ++i) many += (i ? ",\"" : "\"") + id + "\"";
  many += "]}";
  ExpectFregError(server_->Post(Api("/hendelser/bulkoppslag"), many), 400);
  ExpectFregError(server_->Post(Api("/hendelser/bulkoppslag"), "{not json"), 400);
  ExpectFregError(
      server_->Post(Api("/hendelser/bulkoppslag"), "{}", {{"Content-Type", "text/plain"}}), 415);
}

// A producer corrects a name and drops kjoenn: the event document says korrigere (with the new
// row) and annullere (entity only). Adds an event, like the test after it.
TEST_F(FregFeedTest, ProducerCorrectionGivesKorrigereAndAnnullere) {
  const std::string fnr(
      Page(1).front().at("hendelse").at("folkeregisteridentifikator").as_string());
  // The whole document, history and every property, so that nothing else changes.
  std::string parts =
      "?part=person-basis&part=historikk&part=identitetsgrunnlag-utvidet&part=relasjon-utvidet";
  for (const char* p :
       {"innflytting", "utflytting", "opphold", "foedselINorge", "bibehold", "brukAvSamiskSpraak",
        "forholdTilSametingetsValgmanntall", "utlendingsmyndighetenesIdentifikasjonsnummer"}) {
    parts += std::string("&part=") + p;
  }
  auto person = server_->Get(Api("/personer/" + fnr + parts));
  ASSERT_EQ(person.status, 200) << person.body;
  json::object document = json::parse(person.body).as_object();
  ASSERT_TRUE(document.contains("kjoenn"));
  json::object& navn = document.at("navn").as_array().at(0).as_object();
  ASSERT_TRUE(navn.at("erGjeldende").as_bool());
  const std::string etternavn = std::string(navn.at("etternavn").as_string()) + "SEN";
  navn["etternavn"] = etternavn;
  document.erase("kjoenn");
  auto written = server_->Post("/norreg/register/v1/personer", json::serialize(document),
                               {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer " + server_->Token("norreg:register")}});
  ASSERT_EQ(written.status, 200) << written.body;

  const uint64_t latest = Latest();
  json::array events = Page(latest);
  ASSERT_EQ(events.size(), 1u);
  const auto& h = events[0].at("hendelse").as_object();
  EXPECT_EQ(h.at("folkeregisteridentifikator").as_string(), fnr);
  EXPECT_EQ(h.at("hendelsetype").as_string(), "endringINavn");
  auto doc = server_->Get(Api("/hendelser/" + std::string(h.at("hendelsesdokument").as_string())));
  ASSERT_EQ(doc.status, 200) << doc.body;
  json::array entries = ExpectEventDocument(json::parse(doc.body), events[0].as_object());
  ASSERT_EQ(entries.size(), 2u) << doc.body;
  EXPECT_EQ(entries[0].at("entitet").as_string(), "kjoenn");  // XSD order: kjoenn before navn
  EXPECT_EQ(entries[0].at("entitetsendring").as_string(), "annullere");
  EXPECT_EQ(entries[1].at("entitet").as_string(), "navn");
  EXPECT_EQ(entries[1].at("entitetsendring").as_string(), "korrigere");
  EXPECT_EQ(entries[1].at("navn").at("etternavn").as_string(), etternavn);
}

// Runs last in the suite: it adds an event to the register.
TEST_F(FregFeedTest, ZEtagAnd304ThenANewEventChangesTheLastPage) {
  const uint64_t latest = Latest();
  const std::string last_page = Api("/hendelser/feed?seq=" + std::to_string(latest));
  auto page = server_->Get(last_page);
  ASSERT_EQ(page.status, 200);
  const std::string etag = page.Header("etag");
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  EXPECT_EQ(server_->Get(last_page).Header("etag"), etag);  // stable
  auto not_modified = server_->Get(last_page, {{"If-None-Match", etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.Header("etag"), etag);
  EXPECT_EQ(server_->Get(last_page, {{"If-None-Match", "\"other\", " + etag}}).status, 304);
  EXPECT_EQ(server_->Get(last_page, {{"If-None-Match", "\"other\""}}).status, 200);
  // Other pages and the Atom form have other validators.
  auto atom = server_->Get(last_page, {{"Accept", "application/atom+xml"}});
  EXPECT_NE(atom.Header("etag"), etag);
  EXPECT_FALSE(atom.Header("etag").empty());
  EXPECT_EQ(server_
                ->Get(last_page,
                      {{"Accept", "application/atom+xml"}, {"If-None-Match", atom.Header("etag")}})
                .status,
            304);
  auto first = server_->Get(Api("/hendelser/feed?seq=1"));
  EXPECT_NE(first.Header("etag"), etag);
  const std::string first_etag = first.Header("etag");

  // A producer writes a new version of a person: one more event on the last page.
  const std::string fnr(json::parse(page.body)
                            .as_array()
                            .front()
                            .at("hendelse")
                            .at("folkeregisteridentifikator")
                            .as_string());
  auto person = server_->Get(Api("/personer/" + fnr));
  ASSERT_EQ(person.status, 200) << person.body;
  auto written = server_->Post("/norreg/register/v1/personer", person.body,
                               {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer " + server_->Token("norreg:register")}});
  ASSERT_EQ(written.status, 200) << written.body;
  ASSERT_EQ(Latest(), latest + 1);

  auto changed = server_->Get(last_page, {{"If-None-Match", etag}});
  ASSERT_EQ(changed.status, 200);
  EXPECT_NE(changed.Header("etag"), etag);
  json::array events = json::parse(changed.body).as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at("sekvensnummer").as_int64(), static_cast<int64_t>(latest + 1));
  EXPECT_EQ(server_->Get(last_page, {{"If-None-Match", changed.Header("etag")}}).status, 304);
  // A full page did not change.
  EXPECT_EQ(server_->Get(Api("/hendelser/feed?seq=1"), {{"If-None-Match", first_etag}}).status,
            304);
  // The new event's document: none for personErOppdatert, else a valid document.
  const auto& h = events[1].at("hendelse").as_object();
  auto doc = server_->Get(Api("/hendelser/" + std::string(h.at("hendelsesdokument").as_string())));
  if (h.at("hendelsetype").as_string() == "personErOppdatert") {
    ExpectFregError(doc, 404);
  } else {
    ASSERT_EQ(doc.status, 200) << doc.body;
    ExpectEventDocument(json::parse(doc.body), events[1].as_object());
  }
}

}  // namespace
}  // namespace norreg::testing
