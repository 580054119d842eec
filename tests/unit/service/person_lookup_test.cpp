// service::PersonLookup on both stores: every kind of answer is minimised for the caller's
// package and recorded in the disclosure log under the caller's record, and an answer that
// cannot be recorded is not given.
#include "service/person_lookup.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/ids.hpp"
#include "freg/record_codec.hpp"
#include "unit/store/store_fixtures.hpp"

namespace norreg::service {
namespace {

using store::testing::StoreTest;
using store::testing::TempFolder;

std::string Fnr(int day, int individ) {
  for (int i = individ; i < individ + 50; ++i) {
    if (auto f = ids::MakeSyntheticFnr(1980, 5, day, i, ids::FnrKind::kFoedselsnummer)) return *f;
  }
  return {};
}

// A person living in Lindernveien, with a spouse and the given address protection.
store::PersonWrite Person(const std::string& fnr, std::string_view gradering, uint64_t seq) {
  store::PersonWrite p;
  p.record.fnr = fnr;
  p.versions.push_back({seq, freg::Hendelsetype::kPersonErOpprettet, 1'600'000'000'000});
  auto add = [&](freg::Property property, std::string json) {
    freg::Row row;
    row.property = property;
    row.from_seq = seq;
    row.json = std::move(json);
    p.record.rows.push_back(std::move(row));
  };
  add(freg::Property::kIdentifikasjonsnummer, R"({"status":"iBruk","foedselsEllerDNummer":")" +
                                                  fnr +
                                                  R"(","identifikatortype":"foedselsnummer"})");
  add(freg::Property::kStatus, R"({"status":"bosatt"})");
  add(freg::Property::kNavn, R"({"fornavn":"RETTFERDIG","etternavn":"SKRIVEBORD"})");
  add(freg::Property::kFoedsel, R"({"foedselsdato":"1980-05-)" + fnr.substr(0, 2) + "\"}");
  add(freg::Property::kSivilstand,
      R"({"sivilstand":"gift","relatertVedSivilstand":"21828130061"})");
  add(freg::Property::kBostedsadresse,
      R"({"vegadresse":{"kommunenummer":"0301","adressenavn":"Lindernveien","poststed":{"postnummer":"0360"}}})");
  add(freg::Property::kAdressebeskyttelse,
      R"({"graderingsnivaa":")" + std::string(gradering) + "\"}");
  freg::SortRows(p.record.rows);
  return p;
}

class PersonLookupTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    auto opened = Open();
    ASSERT_TRUE(opened.ok()) << opened.error().detail;
    store_ = std::move(opened).value();
    open_ = Fnr(11, 100);
    fortrolig_ = Fnr(12, 100);
    const std::vector<store::PersonWrite> persons = {Person(open_, "ugradert", 1),
                                                     Person(fortrolig_, "fortrolig", 2)};
    ASSERT_TRUE(store_->BulkInsert(persons).ok());
    store::AuditOptions options;
    options.dir = dir_.path() + "/audit";
    auto audit = store::OpenAuditLog(options);
    ASSERT_TRUE(audit.ok()) << audit.error().detail;
    audit_ = std::move(audit).value();
    search_ = std::make_unique<PersonSearch>(*store_);
    lookup_ = std::make_unique<PersonLookup>(*store_, ids::DocumentIdCipher(store_->DocumentKey()),
                                             audit_.get(), search_.get());
  }

  static Caller As(std::string_view package, std::string endpoint) {
    Caller caller;
    caller.package = freg::PackageById(package);
    caller.disclosure.consumer_orgnr = "310000019";
    caller.disclosure.client_id = "klient";
    caller.disclosure.endpoint = std::move(endpoint);
    return caller;
  }
  static freg::PartSelection Parts(const Caller& caller,
                                   std::vector<std::string_view> values = {}) {
    auto parts = freg::ParseParts(values, *caller.package);
    EXPECT_TRUE(parts.ok());
    return parts.ok() ? *parts : freg::PartSelection();
  }
  // The endpoints of the disclosures naming `fnr`.
  std::multiset<std::string> Endpoints(const std::string& fnr) {
    EXPECT_TRUE(audit_->Flush().ok());
    store::AuditQuery query;
    query.person = fnr;
    auto found = audit_->Query(query);
    EXPECT_TRUE(found.ok());
    std::multiset<std::string> endpoints;
    if (found.ok()) {
      for (const auto& d : *found) {
        EXPECT_EQ(d.consumer_orgnr, "310000019");
        endpoints.insert(d.endpoint);
      }
    }
    return endpoints;
  }

  TempFolder dir_;
  std::unique_ptr<store::RegisterStore> store_;
  std::unique_ptr<store::AuditLog> audit_;
  std::unique_ptr<PersonSearch> search_;
  std::unique_ptr<PersonLookup> lookup_;
  std::string open_, fortrolig_;
};

NORREG_STORE_TEST_SUITE(PersonLookupTest);

// A store that counts the numbers bulk look-ups ask it for.
class CountingStore final : public store::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status FindRawByFnrs(std::span<const std::string> fnrs, std::string& buffer,
                       const RawVisitor& each) override {
    for (const std::string& fnr : fnrs) asked.push_back(fnr);
    return ForwardingStore::FindRawByFnrs(fnrs, buffer, each);
  }
  std::vector<std::string> asked;
};

// somBestilt=true answers every entry in order, a repeated number as often as it is asked for;
// the person is read and rendered once, the repeats are copies of its first answer, and the
// request discloses the person once.
TEST_P(PersonLookupTest, ARepeatedNumberIsReadOnceAndAnsweredEachTime) {
  auto opened = Open();
  ASSERT_TRUE(opened.ok());
  CountingStore counting(std::move(*opened));
  PersonSearch search(counting);
  PersonLookup lookup(counting, ids::DocumentIdCipher(counting.DocumentKey()), audit_.get(),
                      &search);
  const Caller omh = As("offentlig-med-hjemmel", "omh:gjentatt");
  for (Format format : {Format::kJson, Format::kXml}) {
    counting.asked.clear();
    std::string out;
    const std::vector<std::string> fnrs{open_, "12345678901", open_, fortrolig_, open_, "1"};
    ASSERT_TRUE(lookup.Bulk(omh, fnrs, true, Parts(omh), format, out).ok());
    EXPECT_EQ(std::count(counting.asked.begin(), counting.asked.end(), open_), 1) << out;
    const std::string person = format == Format::kJson ? "\"folkeregisterperson\":"
                                                       : "<oppslag><foedselsEllerDNummer>" + open_;
    size_t count = 0;
    for (size_t at = out.find(person); at != std::string::npos; at = out.find(person, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, format == Format::kJson ? 4u : 3u) << out;
    EXPECT_LT(out.find(open_), out.find("12345678901"));  // in the order asked
    // Every repeat is the first answer's bytes: the person as a single look-up renders it.
    std::string plain;
    ASSERT_TRUE(
        lookup.Bulk(omh, std::vector<std::string>{open_}, true, Parts(omh), format, plain).ok());
    const std::string before =
        format == Format::kJson ? "\"folkeregisterperson\":" : "</foedselsEllerDNummer>";
    const size_t begin = plain.find(before) + before.size();
    const size_t end = format == Format::kJson ? plain.size() - 3 : plain.rfind("</oppslag>");
    const std::string answer = plain.substr(begin, end - begin);
    size_t copies = 0;
    for (size_t at = out.find(answer); at != std::string::npos; at = out.find(answer, at + 1)) {
      ++copies;
    }
    EXPECT_EQ(copies, 3u) << out;
  }
  EXPECT_EQ(Endpoints(open_).count("omh:gjentatt"), 4u);  // once per request
}

TEST_P(PersonLookupTest, EveryAnswerIsMinimisedAndDisclosed) {
  const Caller omh = As("offentlig-med-hjemmel", "omh:person");
  const Caller finans = As("finans", "finans:person");
  std::string out;
  ASSERT_TRUE(lookup_->Person(omh, fortrolig_, Parts(omh), Format::kJson, out).ok());
  EXPECT_NE(out.find("Lindernveien"), std::string::npos);
  EXPECT_NE(out.find("21828130061"), std::string::npos);
  out.clear();
  ASSERT_TRUE(lookup_->Person(finans, fortrolig_, Parts(finans), Format::kXml, out).ok());
  EXPECT_EQ(out.find("Lindernveien"), std::string::npos) << out;
  const Caller uhj = As("privatutenhjemmel", "puh:bulk");
  out.clear();
  ASSERT_TRUE(lookup_
                  ->Bulk(uhj, std::vector<std::string>{open_, fortrolig_, "12345678901"}, true,
                         Parts(uhj), Format::kJson, out)
                  .ok());
  EXPECT_EQ(out.find("21828130061"), std::string::npos) << out;  // the spouse's number
  EXPECT_NE(out.find("Fant ikke person"), std::string::npos);
  // Searches: the fortrolig person is found by address only with confidential data.
  SearchParams by_address;
  by_address.adressenavn = "Lindernveien";
  by_address.postnummer = "0360";
  out.clear();
  ASSERT_TRUE(
      lookup_->Soek(As("offentlig-med-hjemmel", "omh:soek"), by_address, Format::kJson, out).ok());
  EXPECT_NE(out.find(fortrolig_), std::string::npos) << out;
  out.clear();
  ASSERT_TRUE(lookup_->Soek(As("eid", "eid:soek"), by_address, Format::kJson, out).ok());
  EXPECT_EQ(out.find(fortrolig_), std::string::npos) << out;
  EXPECT_NE(out.find(open_), std::string::npos) << out;
  // A search by an identifier the package may not see is refused.
  SearchParams by_duf;
  by_duf.foedselsdato = "1980-05-11";
  by_duf.utlendingsmyndighetenes_identifikasjonsnummer = "123456789012";
  out.clear();
  EXPECT_EQ(
      lookup_->Entydig(As("finans", "finans:entydig"), by_duf, Parts(finans), Format::kJson, out)
          .error()
          .code,
      ErrorCode::kInvalidInput);
  // Archive and event documents by id.
  const ids::DocumentIdCipher cipher(store_->DocumentKey());
  out.clear();
  ASSERT_TRUE(lookup_
                  ->ArchivedPerson(omh, cipher.Encode(ids::DocumentKind::kPerson, 2), Parts(omh),
                                   Format::kJson, out)
                  .ok());
  out.clear();
  ASSERT_TRUE(lookup_
                  ->EventBulk(omh,
                              std::vector<std::string>{cipher.Encode(ids::DocumentKind::kEvent, 1),
                                                       cipher.Encode(ids::DocumentKind::kEvent, 2)},
                              Format::kJson, out)
                  .ok());
  EXPECT_TRUE(lookup_->Disclose(As("finans", "finans:batch"), {fortrolig_}).ok());

  EXPECT_EQ(Endpoints(fortrolig_),
            (std::multiset<std::string>{"omh:person", "finans:person", "puh:bulk", "omh:soek",
                                        "omh:person", "omh:person", "finans:batch"}));
  EXPECT_EQ(Endpoints(open_),
            (std::multiset<std::string>{"puh:bulk", "omh:soek", "eid:soek", "omh:person"}));
}

TEST_P(PersonLookupTest, ErrorsDiscloseNothing) {
  const Caller omh = As("offentlig-med-hjemmel", "omh:person");
  std::string out;
  EXPECT_EQ(lookup_->Person(omh, "123", Parts(omh), Format::kJson, out).error().code,
            ErrorCode::kInvalidInput);
  EXPECT_EQ(lookup_->Person(omh, Fnr(20, 200), Parts(omh), Format::kJson, out).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(lookup_->ArchivedPerson(omh, "xyz", Parts(omh), Format::kJson, out).error().code,
            ErrorCode::kInvalidInput);
  EXPECT_EQ(lookup_->EventDocument(omh, std::string(32, 'a'), Format::kJson, out).error().code,
            ErrorCode::kNotFound);
  EXPECT_TRUE(Endpoints(open_).empty());
  EXPECT_TRUE(Endpoints(fortrolig_).empty());
}

}  // namespace
}  // namespace norreg::service
