#include "freg/person_record.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace norreg::freg {
namespace {

TEST(PropertyTest, NamesRoundTripInXsdOrder) {
  std::set<std::string_view> seen;
  for (int i = 0; i < kPropertyCount; ++i) {
    const auto p = static_cast<Property>(i);
    const std::string_view name = PropertyName(p);
    ASSERT_FALSE(name.empty()) << i;
    EXPECT_TRUE(seen.insert(name).second) << name;
    auto back = PropertyFromName(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, p);
  }
  EXPECT_EQ(PropertyName(Property::kFalskIdentitet), "falskIdentitet");
  EXPECT_EQ(PropertyName(Property::kBostedsadresse), "bostedsadresse");
  EXPECT_EQ(PropertyName(Property::kUtlendingsmyndighetenesIdentifikasjonsnummer),
            "utlendingsmyndighetenesIdentifikasjonsnummer");
  EXPECT_EQ(PropertyName(Property::kBrukAvSamiskSpraak), "brukAvSamiskSpraak");
}

TEST(PropertyTest, UnknownNamesAreRejected) {
  for (std::string_view name : {"", "Navn", "navn ", "person-basis", "historikk",
                                "oppholdPaaSvalbard", "zzz", "aaa", "erGjeldende"}) {
    EXPECT_FALSE(PropertyFromName(name).has_value()) << name;
  }
}

TEST(PropertyTest, SingleObjectsAndAddresses) {
  int singles = 0;
  for (int i = 0; i < kPropertyCount; ++i) singles += IsSingleObject(static_cast<Property>(i));
  EXPECT_EQ(singles, 2);
  EXPECT_TRUE(IsSingleObject(Property::kDoedsfall));
  EXPECT_TRUE(IsSingleObject(Property::kFalskIdentitet));
  EXPECT_FALSE(IsSingleObject(Property::kNavn));

  std::set<Property> addresses;
  for (int i = 0; i < kPropertyCount; ++i) {
    if (IsAddressProperty(static_cast<Property>(i))) addresses.insert(static_cast<Property>(i));
  }
  EXPECT_EQ(addresses, (std::set<Property>{Property::kBostedsadresse, Property::kDeltBosted,
                                           Property::kOppholdsadresse, Property::kPostadresse,
                                           Property::kPostadresseIUtlandet,
                                           Property::kPreferertKontaktadresse}));
}

TEST(HendelsetypeTest, NamesRoundTrip) {
  std::set<std::string_view> seen;
  const int count = static_cast<int>(Hendelsetype::kEndringIFratattRettsligHandleevne) + 1;
  for (int i = 0; i < count; ++i) {
    const auto t = static_cast<Hendelsetype>(i);
    const std::string_view name = HendelsetypeName(t);
    ASSERT_FALSE(name.empty()) << i;
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_EQ(HendelsetypeFromName(name), t) << name;
  }
  EXPECT_EQ(HendelsetypeName(Hendelsetype::kPersonErOpprettet), "personErOpprettet");
  EXPECT_EQ(HendelsetypeName(Hendelsetype::kEndringIBostedsadresse), "endringIBostedsadresse");
  EXPECT_EQ(HendelsetypeName(Hendelsetype::kEndringIBostedsadresseUtenFlytting),
            "endringIBostedsadresseUtenFlytting");
  EXPECT_EQ(HendelsetypeName(Hendelsetype::kPersonErOpphoertSomDublett),
            "personErOpphoertSomDublett");
  EXPECT_EQ(HendelsetypeName(Hendelsetype::kEndringIPreferertKontaktadresse),
            "endringIPreferertKontaktadresse");
  EXPECT_EQ(HendelsetypeName(Hendelsetype::kEndringIRettsligHandleevne),
            "endringIRettsligHandleevne");
  EXPECT_EQ(HendelsetypeName(Hendelsetype::kEndringIFratattRettsligHandleevne),
            "endringIFratattRettsligHandleevne");
  EXPECT_FALSE(HendelsetypeFromName("EndringINavn").has_value());
  EXPECT_FALSE(HendelsetypeFromName("").has_value());
  EXPECT_TRUE(HendelsetypeName(static_cast<Hendelsetype>(count)).empty());
}

TEST(SortRowsTest, GroupsByPropertyNewestFirstAndStable) {
  auto row = [](Property p, uint64_t from, std::string json) {
    Row r;
    r.property = p;
    r.from_seq = from;
    r.json = std::move(json);
    return r;
  };
  std::vector<Row> rows = {
      row(Property::kNavn, 1, "a"),          row(Property::kStatus, 1, "b"),
      row(Property::kNavn, 7, "c"),          row(Property::kIdentifikasjonsnummer, 1, "d"),
      row(Property::kStatus, 5, "e"),        row(Property::kStatus, 5, "f"),
      row(Property::kFalskIdentitet, 2, "g")};
  SortRows(rows);
  std::string order;
  for (const Row& r : rows) order += r.json;
  EXPECT_EQ(order, "gdefbca");
}

}  // namespace
}  // namespace norreg::freg
