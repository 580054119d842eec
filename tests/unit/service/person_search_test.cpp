// service::PersonSearch on both stores: parameter validation, soek's limit and order, entydig
// søk's combinations and uniqueness, and the scan used when no index term narrows a query.
#include "service/person_search.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/ids.hpp"
#include "freg/record_codec.hpp"
#include "unit/store/store_fixtures.hpp"

namespace norreg::service {
namespace {

using store::testing::StoreTest;

std::string Fnr(int year, int day, int individ) {
  for (int i = individ; i < individ + 50; ++i) {
    if (auto f = ids::MakeSyntheticFnr(year, 4, day, i, ids::FnrKind::kFoedselsnummer)) return *f;
  }
  return {};
}

struct PersonSpec {
  std::string fnr, fornavn, etternavn, dato, kjoenn, street, number, postnummer;
  bool dead = false;
};

store::PersonWrite Make(const PersonSpec& s, uint64_t seq) {
  store::PersonWrite p;
  p.record.fnr = s.fnr;
  p.versions.push_back({seq, freg::Hendelsetype::kPersonErOpprettet, 1'600'000'000'000});
  auto add = [&](freg::Property property, std::string json) {
    freg::Row row;
    row.property = property;
    row.from_seq = seq;
    row.json = std::move(json);
    p.record.rows.push_back(std::move(row));
  };
  add(freg::Property::kStatus,
      std::string(R"({"status":")") + (s.dead ? "doed" : "bosatt") + "\"}");
  add(freg::Property::kNavn,
      R"({"fornavn":")" + s.fornavn + R"(","etternavn":")" + s.etternavn + "\"}");
  add(freg::Property::kKjoenn, R"({"kjoenn":")" + s.kjoenn + "\"}");
  add(freg::Property::kFoedsel, R"({"foedselsdato":")" + s.dato + "\"}");
  std::string nummer =
      s.number.empty() ? "" : R"("adressenummer":{"husnummer":")" + s.number + "\"},";
  add(freg::Property::kBostedsadresse,
      R"({"vegadresse":{"kommunenummer":"0301","adressenavn":")" + s.street + "\"," + nummer +
          R"("poststed":{"postnummer":")" + s.postnummer + "\"}}}");
  freg::SortRows(p.record.rows);
  return p;
}

class PersonSearchTest : public StoreTest {
 protected:
  void Load(const std::vector<PersonSpec>& specs) {
    std::vector<store::PersonWrite> persons;
    uint64_t seq = 1;
    for (const auto& s : specs) persons.push_back(Make(s, seq++));
    ASSERT_TRUE((*store_)->BulkInsert(persons).ok());
  }
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    store_ = Open();
    ASSERT_TRUE(store_.ok());
    search_ = std::make_unique<PersonSearch>(**store_);
  }
  Result<std::unique_ptr<store::RegisterStore>> store_ = MakeError(ErrorCode::kInternal, "");
  std::unique_ptr<PersonSearch> search_;
};
NORREG_STORE_TEST_SUITE(PersonSearchTest);

const std::string kOla = Fnr(1980, 1, 100), kKari = Fnr(1982, 2, 100), kOle = Fnr(1980, 3, 100),
                  kDead = Fnr(1950, 4, 100);

std::vector<PersonSpec> Family() {
  return {{kOla, "OLA", "NORDMANN", "1980-04-01", "mann", "STORGATA", "1", "0155"},
          {kKari, "KARI", "NORDMANN", "1982-04-02", "kvinne", "STORGATA", "1", "0155"},
          {kOle, "OLE", "NORDMAN", "1980-04-03", "mann", "HAUGEN", "", "7010"},
          {kDead, "OLA", "NORDMANN", "1950-04-04", "mann", "STORGATA", "3", "0155", true}};
}

TEST_P(PersonSearchTest, SoekFindsSortedAndHonoursMaksTreff) {
  Load(Family());
  SearchParams p;
  p.navn = "Nordmann";
  auto hits = search_->Soek(p);
  ASSERT_TRUE(hits.ok()) << hits.error().message;
  std::vector<std::string> want{kOla, kKari};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*hits, want);
  p.inkluder_doede = "true";
  EXPECT_EQ(search_->Soek(p)->size(), 3u);
  p.soek_fonetisk = "true";
  EXPECT_EQ(search_->Soek(p)->size(), 4u);  // NORDMAN too
  p.maks_treff = "2";
  EXPECT_EQ(search_->Soek(p)->size(), 2u);
  SearchParams street;
  street.adressenavn = "sto";
  street.postnummer = "0155";
  street.kjoenn = "kvinne";
  EXPECT_EQ(*search_->Soek(street), std::vector<std::string>{kKari});
}

// Streets are indexed by their first 3 characters; a query of any length from 3 finds exactly the
// streets that begin like it, with and without postnummer.
TEST_P(PersonSearchTest, StreetPrefixesOfEveryLengthFindTheirStreets) {
  const std::string gata = Fnr(1970, 1, 200), tinget = Fnr(1971, 2, 200),
                    stoper = Fnr(1972, 3, 200), sto = Fnr(1973, 4, 200),
                    other_post = Fnr(1974, 5, 200), spaced = Fnr(1975, 6, 200);
  Load({{gata, "A", "B", "1970-04-01", "mann", "STORGATA", "1", "0155"},
        {tinget, "A", "B", "1971-04-02", "mann", "STORTINGSGATA", "2", "0155"},
        {stoper, "A", "B", "1972-04-03", "mann", "STOPERVEIEN", "3", "0155"},
        {sto, "A", "B", "1973-04-04", "mann", "STO", "4", "0155"},
        {other_post, "A", "B", "1974-04-05", "mann", "STORGATA", "5", "0160"},
        {spaced, "A", "B", "1975-04-06", "mann", "ST OLAVS VEI", "6", "0155"}});
  auto find = [&](const char* street, const char* postnummer) {
    SearchParams p;
    p.adressenavn = street;
    if (postnummer != nullptr) p.postnummer = postnummer;
    auto hits = search_->Soek(p);
    EXPECT_TRUE(hits.ok()) << street;
    return hits.ok() ? *hits : std::vector<std::string>{};
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(find("sto", "0155"), sorted({gata, tinget, stoper, sto}));
  EXPECT_EQ(find("stor", "0155"), sorted({gata, tinget}));
  EXPECT_EQ(find("storg", "0155"), std::vector<std::string>{gata});
  EXPECT_EQ(find("Stortingsgata", "0155"), std::vector<std::string>{tinget});
  EXPECT_EQ(find("storgatan", "0155"), std::vector<std::string>{});
  EXPECT_EQ(find("Storgata", nullptr), sorted({gata, other_post}));
  EXPECT_EQ(find("St Olavs", "0155"), std::vector<std::string>{spaced});
  EXPECT_EQ(find("st o", "0155"), std::vector<std::string>{spaced});
  EXPECT_EQ(find("stope", nullptr), std::vector<std::string>{stoper});
}

TEST_P(PersonSearchTest, SoekWithoutIndexTermsScans) {
  Load(Family());
  SearchParams p;
  p.kjoenn = "mann";
  p.foedselsaar_fra_og_med = "1975";
  auto hits = search_->Soek(p);
  ASSERT_TRUE(hits.ok());
  std::vector<std::string> want{kOla, kOle};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*hits, want);
  SearchParams none;
  EXPECT_EQ(search_->Soek(none)->size(), 3u);  // every living person
}

// A store whose whole-register reads wait at their first person until released.
class HeldScanStore final : public store::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status SnapshotScan(uint64_t seq, store::SnapshotRecords records,
                      const std::function<Status(const store::SnapshotEntry&)>& each) override {
    ++started;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return released_; });
    lock.unlock();
    return ForwardingStore::SnapshotScan(seq, records, each);
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::atomic<int> started{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

// Searches that read every person run kMaxScans at a time; one more is refused (429) at once,
// while searches the index narrows go on. Once a scan ends, its slot serves the next.
TEST_P(PersonSearchTest, ScansBeyondTheirSlotsAreRefused) {
  Load(Family());
  auto store = Open();
  ASSERT_TRUE(store.ok());
  HeldScanStore held(std::move(*store));
  PersonSearch search(held, 1);
  SearchParams scan;
  scan.kjoenn = "mann";
  std::thread first([&] {
    auto hits = search.Soek(scan);
    EXPECT_TRUE(hits.ok());
    EXPECT_EQ(hits.ok() ? hits->size() : 0u, 2u);
  });
  while (held.started.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto refused = search.Soek(scan);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_NE(refused.error().message.find("Avgrens søket"), std::string::npos);
  SearchParams narrowed;
  narrowed.navn = "Kari Nordmann";
  EXPECT_EQ(*search.Soek(narrowed), std::vector<std::string>{kKari});
  held.Release();
  first.join();
  EXPECT_TRUE(search.Soek(scan).ok());
  EXPECT_EQ(held.started.load(), 2);
}

TEST_P(PersonSearchTest, SoekRefusesMoreThanTenThousandHits) {
  std::vector<PersonSpec> many;
  for (int i = 0; i < 10'001; ++i) {
    const int year = 1900 + i % 100, day = 1 + (i / 100) % 28;
    const std::string fnr = Fnr(year, day, (i / 2800) * 60);
    ASSERT_FALSE(fnr.empty());
    many.push_back({fnr, "PER", "HANSEN", "1990-01-01", "mann", "VEIEN", "2", "0150"});
  }
  Load(many);
  SearchParams p;
  p.navn = "HANSEN";
  auto hits = search_->Soek(p);
  ASSERT_FALSE(hits.ok());
  EXPECT_EQ(hits.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(hits.error().message.find("konkretiseres"), std::string::npos);
  p.kjoenn = "kvinne";
  ASSERT_TRUE(search_->Soek(p).ok());
  EXPECT_TRUE(search_->Soek(p)->empty());
  SearchParams scan;  // no index term: the scan stops at the limit too
  scan.kjoenn = "mann";
  EXPECT_EQ(search_->Soek(scan).error().code, ErrorCode::kInvalidInput);
}

TEST_P(PersonSearchTest, EntydigNeedsACombinationAndExactlyOnePerson) {
  Load(Family());
  std::string buffer;
  SearchParams p;
  p.navn = "Ola Nordmann";
  EXPECT_EQ(search_->Entydig(p, buffer).error().code, ErrorCode::kInvalidInput);  // navn alone
  p.foedselsdato = "19800401";
  auto hit = search_->Entydig(p, buffer);
  ASSERT_TRUE(hit.ok()) << hit.error().message;
  EXPECT_EQ(freg::DecodeRecord(buffer)->fnr, kOla);
  // Two persons: the living OLA and the dead one share name and address.
  SearchParams two;
  two.navn = "Ola Nordmann";
  two.postnummer = "0155";
  EXPECT_EQ(search_->Entydig(two, buffer).error().code, ErrorCode::kNotFound);
  // navn + adressenavn without husnummer identifies only an address without one.
  SearchParams street;
  street.navn = "OLE NORDMAN";
  street.adressenavn = "Haugen";
  EXPECT_TRUE(search_->Entydig(street, buffer).ok());
  street.navn = "KARI NORDMANN";
  street.adressenavn = "Storgata";
  EXPECT_EQ(search_->Entydig(street, buffer).error().code, ErrorCode::kNotFound);
  street.husnummer = "1";
  EXPECT_TRUE(search_->Entydig(street, buffer).ok());
  // identifikasjonsnummer narrows to that person; another name does not match it.
  SearchParams id;
  id.navn = "KARI NORDMANN";
  id.identifikasjonsnummer = kOla;
  EXPECT_EQ(search_->Entydig(id, buffer).error().code, ErrorCode::kNotFound);
  id.navn = "OLA NORDMANN";
  EXPECT_TRUE(search_->Entydig(id, buffer).ok());
  // The first word must be a fornavn, the last an etternavn.
  SearchParams order;
  order.navn = "NORDMANN OLA";
  order.foedselsdato = "19800401";
  EXPECT_EQ(search_->Entydig(order, buffer).error().code, ErrorCode::kNotFound);
  // A one-word navn gives no right to a hit.
  SearchParams one;
  one.navn = "OLA";
  one.foedselsdato = "19800401";
  EXPECT_EQ(search_->Entydig(one, buffer).error().code, ErrorCode::kInvalidInput);
}

TEST(PersonSearchParams, BadValuesAreRefusedWithTheirName) {
  auto refused = [](SearchParams p, std::string_view name) {
    auto c = ParseCriteria(p, false);
    ASSERT_FALSE(c.ok()) << name;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(c.error().message.find(name), std::string::npos) << c.error().message;
  };
  SearchParams p;
  p.kjoenn = "annet";
  refused(p, "kjoenn");
  p = {};
  p.foedselsdato = "19810231";
  refused(p, "foedselsdato");
  p = {};
  p.adressenavn = "st";
  refused(p, "adressenavn");
  p = {};
  p.husnummer = "x1";
  refused(p, "husnummer");
  p = {};
  p.postnummer = "155";
  refused(p, "postnummer");
  p = {};
  p.fylkesnummer = "3";
  refused(p, "fylkesnummer");
  p = {};
  p.soek_fonetisk = "ja";
  refused(p, "soekFonetisk");
  p = {};
  p.opplysningsgrunnlag = "alt";
  refused(p, "opplysningsgrunnlag");
  p = {};
  p.foedselsaar_fra_og_med = "80";
  refused(p, "foedselsaarFraOgMed");
  p = {};
  p.navn = std::string(kMaxParamBytes + 1, 'A');
  refused(p, "lengre");
  p = {};
  p.husnummer = "10b";
  auto c = ParseCriteria(p, false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->husnummer, 10u);
  EXPECT_EQ(c->husbokstav, "B");
  p.foedselsdato = "1981-10-13";
  EXPECT_EQ(ParseCriteria(p, false)->foedselsdato, "1981-10-13");
  SearchParams e;
  e.identifikasjonsnummer = "12345678901";
  EXPECT_FALSE(ParseCriteria(e, true).ok());
}

}  // namespace
}  // namespace norreg::service
