// Functional test of the person fields added since OAS 1.5: a document shaped like a 2023 export
// (tests/fixtures/vergemaal-2023.json: vergemaal with tjenesteomraade and a guardian without a
// Norwegian number, legal-capacity rows) is imported with `norreg import` and read back with
// GET personer/{id} in JSON and XML, whole and by part.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
constexpr const char* kFnr = "12854848281";
constexpr const char* kAllParts =
    "?part=person-basis&part=relasjon-utvidet&part=begrensningIRettsligHandleevne"
    "&part=fratattRettsligHandleevne&part=historikk";

std::string Fixture(const std::string& name) {
  return std::string(NORREG_SOURCE_DIR) + "/tests/fixtures/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FregFieldsTest, ImportedDocumentComesBackIdenticalInJsonAndXml) {
  TempDir dir;
  {
    ServerProcess server(dir.path(), {"--demo-persons", "20"});
    EXPECT_EQ(server.Stop(), 0) << server.Output();
  }
  std::string out;
  ASSERT_EQ(RunNorreg({"import", "--data", dir.path(), Fixture("vergemaal-2023.json")}, &out), 0)
      << out;

  ServerProcess server(dir.path());
  const std::string person = std::string(kApi) + "/personer/" + kFnr;
  auto whole = server.Get(person + kAllParts);
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(json::parse(whole.body), json::parse(ReadAll(Fixture("vergemaal-2023.json"))));

  auto xml = server.Get(person + kAllParts, {{"Accept", "application/xml"}});
  ASSERT_EQ(xml.status, 200) << xml.body;
  EXPECT_EQ(xml.body + "\n", ReadAll(Fixture("vergemaal-2023.xml")));

  // By part: tjenesteomraade and navnFoedselsdato come with relasjon-utvidet (current row only
  // without historikk); the legal-capacity rows only when named.
  auto relasjon =
      json::parse(server.Get(person + "?part=relasjon-utvidet&part=historikk").body).as_object();
  ASSERT_TRUE(relasjon.contains("vergemaalEllerFremtidsfullmakt"));
  EXPECT_FALSE(relasjon.contains("begrensningIRettsligHandleevne"));
  const auto& verge = relasjon.at("vergemaalEllerFremtidsfullmakt").as_array();
  ASSERT_EQ(verge.size(), 2u);
  EXPECT_EQ(verge[0].at("verge").at("tjenesteomraade").as_array().size(), 11u);
  EXPECT_EQ(verge[1].at("verge").at("navnFoedselsdato").at("statsborgerskap").as_array()[0], "SWE");

  auto begrensning =
      json::parse(server.Get(person + "?part=begrensningIRettsligHandleevne").body).as_object();
  EXPECT_EQ(begrensning.size(), 2u);  // identifikasjonsnummer is always there
  EXPECT_EQ(begrensning.at("begrensningIRettsligHandleevne").as_array().size(), 1u);
  auto fratatt = json::parse(server.Get(person + "?part=fratattRettsligHandleevne,historikk").body)
                     .as_object();
  EXPECT_EQ(fratatt.at("fratattRettsligHandleevne").as_array()[0].at("erGjeldende"), false);
  auto fratatt_xml = server.Get(person + "?part=fratattRettsligHandleevne&part=historikk",
                                {{"Accept", "application/xml"}});
  EXPECT_NE(fratatt_xml.body.find("<fratattRettsligHandleevne><ajourholdstidspunkt>"),
            std::string::npos)
      << fratatt_xml.body;

  auto basis = json::parse(server.Get(person).body).as_object();
  EXPECT_FALSE(basis.contains("vergemaalEllerFremtidsfullmakt"));
  EXPECT_FALSE(basis.contains("begrensningIRettsligHandleevne"));
  EXPECT_FALSE(basis.contains("fratattRettsligHandleevne"));
}

}  // namespace
}  // namespace norreg::testing
