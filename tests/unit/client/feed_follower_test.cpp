#include "client/feed_follower.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fake_http_server.hpp"

namespace norreg::client {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

constexpr std::string_view kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1/";

// A person document with the given numbers (the first current, the others historical).
std::string Document(const std::vector<std::string>& numbers, const std::string& name) {
  std::string rows;
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0) rows += ',';
    rows += "{\"erGjeldende\":" + std::string(i == 0 ? "true" : "false") +
            ",\"foedselsEllerDNummer\":\"" + numbers[i] + "\"}";
  }
  return "{\"identifikasjonsnummer\":[" + rows + "],\"navn\":[{\"fornavn\":\"" + name + "\"}]}";
}

struct Event {
  int64_t seq;
  std::string fnr;
  std::string type;
  std::string persondokument;  // "" = none
};

// An in-test feed: events, the documents they point at, pages of `page_size`, ETags.
class FakeFeed {
 public:
  explicit FakeFeed(size_t page_size = 1000)
      : page_size_(page_size), server_([this](const FakeRequest& r) { return Handle(r); }) {}

  std::string base() const { return server_.Url(""); }
  // `document` with historical numbers as the full history (part=historikk answers), and only
  // the current row without historikk (as the real API does).
  void Add(Event event, const std::vector<std::string>& numbers = {}, std::string name = "") {
    std::lock_guard lock(mutex_);
    if (!event.persondokument.empty()) {
      documents_[event.persondokument] = Document({numbers.front()}, name);
      history_[event.persondokument] = Document(numbers, name);
      numbers_[event.persondokument] = numbers;
    }
    events_.push_back(std::move(event));
  }
  // An event whose persondokument the server does not know (a missing document).
  void AddWithoutDocument(Event event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  std::vector<FakeRequest> received() const { return server_.received(); }
  // The current-document lookups (personer/bulkoppslag without part=historikk), as their bodies.
  std::vector<std::string> current_lookups() const {
    std::vector<std::string> bodies;
    for (const FakeRequest& r : server_.received()) {
      if (r.target.ends_with("personer/bulkoppslag")) bodies.push_back(r.body);
    }
    return bodies;
  }
  // The document lookups (without part=historikk) received so far, as their bodies.
  std::vector<std::string> lookups() const {
    std::vector<std::string> bodies;
    for (const FakeRequest& r : server_.received()) {
      if (r.target.find("bulkoppslag/arkiv") != std::string::npos &&
          r.target.find("historikk") == std::string::npos) {
        bodies.push_back(r.body);
      }
    }
    return bodies;
  }
  int not_modified() {
    std::lock_guard lock(mutex_);
    return not_modified_;
  }

 private:
  FakeResponse Handle(const FakeRequest& request) {
    std::lock_guard lock(mutex_);
    FakeResponse r;
    r.headers = {{"Content-Type", "application/json"}};
    std::string path = request.target.substr(kApi.size());
    if (path.starts_with("hendelser/feed?seq=")) {
      int64_t from = std::stoll(path.substr(19));
      std::string etag = "\"" + std::to_string(events_.size()) + "-" + std::to_string(from) + "\"";
      if (request.Header("if-none-match") == etag) {
        ++not_modified_;
        r.status = 304;
        return r;
      }
      r.headers.emplace_back("ETag", etag);
      r.body = "[";
      size_t n = 0;
      for (const Event& e : events_) {
        if (e.seq < from || n == page_size_) continue;
        if (n++ > 0) r.body += ',';
        r.body += "{\"sekvensnummer\":" + std::to_string(e.seq) +
                  ",\"hendelse\":{\"folkeregisteridentifikator\":\"" + e.fnr +
                  "\",\"hendelsetype\":\"" + e.type + "\",\"hendelsesdokument\":\"ffff\"," +
                  (e.persondokument.empty() ? std::string("\"persondokument\":null")
                                            : "\"persondokument\":\"" + e.persondokument + "\"") +
                  ",\"ajourholdstidspunkt\":\"2024-01-01T00:00:00.000+01:00\"}}";
      }
      r.body += "]";
      return r;
    }
    if (path == "hendelser/siste/sekvensnummer") {
      r.body = std::to_string(events_.empty() ? 0 : events_.back().seq);
      return r;
    }
    if (path.starts_with("personer/bulkoppslag") &&
        !path.starts_with("personer/bulkoppslag/arkiv")) {
      // The current document of each number: that of the latest event naming the number or
      // holding it among its document's numbers; none when that event ceased the number as a
      // dublett. Unknown numbers are left out.
      const bool historikk = path.find("historikk") != std::string::npos;
      simdjson::dom::parser parser;
      simdjson::dom::element root = parser.parse(request.body);
      r.body = "{\"oppslag\":[";
      bool first = true;
      for (auto number_element : root["foedselsEllerDNummer"].get_array()) {
        const std::string number(std::string_view(number_element.get_string()));
        const std::string* found = nullptr;
        for (auto e = events_.rbegin(); e != events_.rend() && found == nullptr; ++e) {
          if (e->type == "personErOpphoertSomDublett" && e->fnr == number) break;
          auto numbers = numbers_.find(e->persondokument);
          if (numbers == numbers_.end()) continue;  // no document the server knows
          if (e->fnr != number && std::find(numbers->second.begin(), numbers->second.end(),
                                            number) == numbers->second.end()) {
            continue;
          }
          found = &(historikk ? history_ : documents_)[e->persondokument];
        }
        if (found == nullptr) continue;
        if (!first) r.body += ',';
        first = false;
        r.body +=
            "{\"foedselsEllerDNummer\":\"" + number + "\",\"folkeregisterperson\":" + *found + "}";
      }
      r.body += "]}";
      return r;
    }
    if (path.starts_with("personer/bulkoppslag/arkiv")) {
      const bool historikk = path.find("historikk") != std::string::npos;
      simdjson::dom::parser parser;
      simdjson::dom::element root = parser.parse(request.body);
      r.body = "{\"oppslag\":[";
      bool first = true;
      for (auto id_element : root["dokumentidentifikator"].get_array()) {
        std::string id(std::string_view(id_element.get_string()));
        auto& source = historikk ? history_ : documents_;
        auto it = source.find(id);
        if (it == source.end()) continue;
        if (!first) r.body += ',';
        first = false;
        r.body +=
            "{\"dokumentidentifikator\":\"" + id + "\",\"folkeregisterperson\":" + it->second + "}";
      }
      r.body += "]}";
      return r;
    }
    r.status = 404;
    return r;
  }

  size_t page_size_;
  std::mutex mutex_;
  std::vector<Event> events_;
  std::map<std::string, std::string> documents_;
  std::map<std::string, std::string> history_;
  std::map<std::string, std::vector<std::string>> numbers_;  // by persondokument
  int not_modified_ = 0;
  FakeHttpServer server_;
};

class FeedFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("norreg_feed_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }

  std::unique_ptr<LocalCopy> Open() {
    auto copy = LocalCopy::Open(path_);
    EXPECT_TRUE(copy.ok());
    return std::move(*copy);
  }

  FeedFollowerOptions Options(const FakeFeed& feed) {
    FeedFollowerOptions options;
    options.base_url = feed.base();
    options.tokens = StaticTokenSource("t");
    options.interval = std::chrono::milliseconds(10);
    options.retry.initial_backoff = std::chrono::milliseconds(1);
    options.documents = FeedDocuments::kVersions;  // the tests of kLatest say so
    return options;
  }

  std::string DocumentOf(LocalCopy& copy, const std::string& fnr) {
    auto document = copy.Document(fnr);
    EXPECT_TRUE(document.ok());
    return document->value_or("<absent>");
  }

  std::string path_;
};

TEST_F(FeedFollowerTest, AppliesAPageAndTheCursorSurvivesReopen) {
  FakeFeed feed;
  {
    auto copy = Open();
    ASSERT_TRUE(copy->Put("111", Document({"111"}, "GAMMEL"), 10).ok());
    ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "10").ok());
  }
  feed.Add({9, "111", "endringINavn", "d9"}, {"111"}, "FOR GAMMEL");  // before the cursor
  feed.Add({11, "111", "endringINavn", "d11"}, {"111"}, "NY");
  feed.Add({12, "222", "personErOpprettet", "d12"}, {"222"}, "FØDT");
  feed.Add({13, "111", "endringIBostedsadresse", "d13"}, {"111"}, "NYERE");
  {
    auto copy = Open();
    FeedFollower follower(Options(feed), *copy);
    auto applied = follower.Step();
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    EXPECT_EQ(*applied, 3u);
    EXPECT_EQ(follower.next_seq(), 14);
    EXPECT_EQ(follower.stats().cursor, 13);
    // 111's event 11 is superseded by its event 13 in the same window: one row write less.
    EXPECT_EQ(follower.stats().upserted, 2u);
    EXPECT_EQ(follower.stats().superseded, 1u);
  }
  auto copy = Open();
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 13);
  EXPECT_EQ(DocumentOf(*copy, "111"), Document({"111"}, "NYERE"));
  EXPECT_EQ(DocumentOf(*copy, "222"), Document({"222"}, "FØDT"));
  EXPECT_EQ(*copy->Seq("111"), 13);
  EXPECT_EQ(*copy->Count(), 2);

  // The first request asked from the cursor + 1; the document lookup had each id once, and not
  // the superseded d11.
  auto received = feed.received();
  ASSERT_GE(received.size(), 2u);
  EXPECT_EQ(received[0].target, std::string(kApi) + "hendelser/feed?seq=11");
  EXPECT_EQ(received[0].Header("authorization"), "Bearer t");
  EXPECT_EQ(received[1].body, R"({"dokumentidentifikator":["d12","d13"]})");

  // A new follower continues at 14.
  feed.Add({14, "222", "endringINavn", "d14"}, {"222"}, "SENERE");
  FeedFollower again(Options(feed), *copy);
  ASSERT_EQ(*again.Step(), 1u);
  EXPECT_EQ(DocumentOf(*copy, "222"), Document({"222"}, "SENERE"));
  EXPECT_EQ(feed.received()[received.size()].target, std::string(kApi) + "hendelser/feed?seq=14");
}

TEST_F(FeedFollowerTest, ANumberChangeReplacesTheRowOfTheOldNumber) {
  FakeFeed feed;
  auto copy = Open();
  ASSERT_TRUE(copy->Put("41000000001", Document({"41000000001"}, "A"), 1).ok());
  ASSERT_TRUE(copy->Put("333", Document({"333"}, "B"), 1).ok());
  ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "1").ok());
  // D-nummer -> fødselsnummer: the event names the new number; only the identifier history
  // (part=historikk) knows the old one.
  feed.Add({2, "01010112345", "endringIIdentifikasjonsnummer", "d2"},
           {"01010112345", "41000000001"}, "A");
  // Dublett: the row of the duplicate's number goes.
  feed.Add({3, "333", "personErOpphoertSomDublett", ""});
  FeedFollowerOptions options = Options(feed);
  options.once = true;
  FeedFollower follower(options, *copy);
  auto stats = follower.Run();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->events, 2u);
  EXPECT_EQ(stats->removed, 2u);
  EXPECT_EQ(DocumentOf(*copy, "41000000001"), "<absent>");
  EXPECT_EQ(DocumentOf(*copy, "333"), "<absent>");
  EXPECT_EQ(DocumentOf(*copy, "01010112345"), Document({"01010112345"}, "A"));
  EXPECT_EQ(*copy->Count(), 1);
  bool asked_history = false;
  for (const auto& r : feed.received()) {
    if (r.target.find("part=identifikasjonsnummer&part=historikk") != std::string::npos) {
      asked_history = true;
    }
  }
  EXPECT_TRUE(asked_history);
}

TEST_F(FeedFollowerTest, PagesUntilCaughtUpThenPollsWithETag) {
  FakeFeed feed(/*page_size=*/2);
  for (int64_t seq = 1; seq <= 5; ++seq) {
    feed.Add({seq, "p" + std::to_string(seq % 2), "endringINavn", "d" + std::to_string(seq)},
             {"p" + std::to_string(seq % 2)}, "V" + std::to_string(seq));
  }
  auto copy = Open();
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  FeedFollower follower(options, *copy);
  EXPECT_EQ(*follower.Step(), 2u);
  EXPECT_EQ(*follower.Step(), 2u);
  EXPECT_EQ(*follower.Step(), 1u);
  EXPECT_EQ(*follower.Step(), 0u);  // empty page, remembers its ETag
  EXPECT_EQ(*follower.Step(), 0u);  // 304
  EXPECT_EQ(feed.not_modified(), 1);
  EXPECT_EQ(follower.stats().not_modified, 1u);
  auto received = feed.received();
  EXPECT_TRUE(received[received.size() - 2].Header("if-none-match").empty());
  EXPECT_EQ(received.back().Header("if-none-match"), "\"5-6\"");
  EXPECT_EQ(DocumentOf(*copy, "p1"), Document({"p1"}, "V5"));
  EXPECT_EQ(DocumentOf(*copy, "p0"), Document({"p0"}, "V4"));

  // Something new: the ETag no longer matches, the event is applied.
  feed.Add({6, "p0", "endringINavn", "d6"}, {"p0"}, "V6");
  EXPECT_EQ(*follower.Step(), 1u);
  EXPECT_EQ(DocumentOf(*copy, "p0"), Document({"p0"}, "V6"));
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 6);
}

TEST_F(FeedFollowerTest, RunPollsUntilStopped) {
  FakeFeed feed;
  auto copy = Open();
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  std::atomic<bool> stop{false};
  options.stop = &stop;
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    feed.Add({1, "p", "personErOpprettet", "d1"}, {"p"}, "X");
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    stop = true;
  });
  FeedFollower follower(options, *copy);
  auto stats = follower.Run();
  producer.join();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->events, 1u);
  EXPECT_GE(stats->not_modified, 1u);
  EXPECT_EQ(DocumentOf(*copy, "p"), Document({"p"}, "X"));
}

TEST_F(FeedFollowerTest, WithoutACursorOrFromItIsInvalidInput) {
  FakeFeed feed;
  auto copy = Open();
  FeedFollower follower(Options(feed), *copy);
  auto applied = follower.Step();
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code, ErrorCode::kInvalidInput);
  EXPECT_TRUE(feed.received().empty());
}

TEST_F(FeedFollowerTest, AWindowFetchesAndAppliesOnlyThePersonsLatestDocument) {
  FakeFeed feed;
  auto copy = Open();
  for (int64_t seq = 1; seq <= 5; ++seq) {
    feed.Add({seq, "111", "endringINavn", "d" + std::to_string(seq)}, {"111"},
             "V" + std::to_string(seq));
  }
  feed.Add({6, "222", "personErOpprettet", "d6"}, {"222"}, "Y");
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  FeedFollower follower(options, *copy);
  ASSERT_EQ(*follower.Step(), 6u);
  EXPECT_EQ(feed.lookups(), std::vector<std::string>{R"({"dokumentidentifikator":["d5","d6"]})"});
  EXPECT_EQ(follower.stats().superseded, 4u);
  EXPECT_EQ(follower.stats().upserted, 2u);
  EXPECT_EQ(DocumentOf(*copy, "111"), Document({"111"}, "V5"));
  EXPECT_EQ(*copy->Seq("111"), 5);
  EXPECT_EQ(DocumentOf(*copy, "222"), Document({"222"}, "Y"));
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 6);
}

TEST_F(FeedFollowerTest, AWindowReadsAheadUntilAShortPageAndCommitsOnce) {
  FakeFeed feed(/*page_size=*/3);
  for (int64_t seq = 1; seq <= 10; ++seq) {
    const std::string fnr = "p" + std::to_string(seq);
    feed.Add({seq, fnr, "personErOpprettet", "d" + std::to_string(seq)}, {fnr}, "X");
  }
  auto copy = Open();
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  options.page_size = 3;
  options.read_ahead_pages = 3;
  options.concurrency = 2;
  FeedFollower follower(options, *copy);
  EXPECT_EQ(*follower.Step(), 9u);  // three full pages: the read-ahead limit
  EXPECT_EQ(follower.stats().pages, 3u);
  EXPECT_EQ(follower.stats().windows, 1u);
  EXPECT_EQ(*follower.Step(), 1u);  // a short page
  EXPECT_EQ(*follower.Step(), 0u);
  EXPECT_EQ(*copy->Count(), 10);
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 10);
  std::vector<std::string> gets;
  for (const auto& r : feed.received()) {
    if (r.method == "GET") gets.push_back(r.target.substr(kApi.size()));
  }
  // Pages 4 and 7 were asked for at once (numbering without gaps), each once; after the full
  // first window the next one (10, 13, 16) was asked for ahead, and only 10 turned out to exist.
  std::sort(gets.begin(), gets.end());
  EXPECT_EQ(gets, (std::vector<std::string>{"hendelser/feed?seq=1", "hendelser/feed?seq=10",
                                            "hendelser/feed?seq=11", "hendelser/feed?seq=13",
                                            "hendelser/feed?seq=16", "hendelser/feed?seq=4",
                                            "hendelser/feed?seq=7"}));
}

TEST_F(FeedFollowerTest, ANumberChangeInsideAWindowLeavesNoRowUnderTheOldNumber) {
  FakeFeed feed;
  auto copy = Open();
  ASSERT_TRUE(copy->Put("41000000001", Document({"41000000001"}, "A0"), 1).ok());
  ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "1").ok());
  const std::vector<std::string> both = {"01010112345", "41000000001"};
  feed.Add({2, "41000000001", "endringINavn", "d2"}, {"41000000001"}, "A2");
  feed.Add({3, "41000000001", "endringIBostedsadresse", "d3"}, {"41000000001"}, "A3");
  feed.Add({4, "01010112345", "endringIIdentifikasjonsnummer", "d4"}, both, "A4");
  feed.Add({5, "01010112345", "endringINavn", "d5"}, both, "A5");
  FeedFollowerOptions options = Options(feed);
  options.once = true;
  FeedFollower follower(options, *copy);
  auto stats = follower.Run();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->events, 4u);
  EXPECT_EQ(stats->windows, 1u);
  EXPECT_EQ(stats->superseded, 1u);
  EXPECT_EQ(DocumentOf(*copy, "41000000001"), "<absent>");
  EXPECT_EQ(DocumentOf(*copy, "01010112345"), Document({"01010112345"}, "A5"));
  EXPECT_EQ(*copy->Seq("01010112345"), 5);
  EXPECT_EQ(*copy->Count(), 1);
  // d2 is superseded by d3 (same number, no number change under it); d4 and d5 are both kept
  // because their number took part in a number change in the window.
  EXPECT_EQ(feed.lookups(),
            std::vector<std::string>{R"({"dokumentidentifikator":["d3","d4","d5"]})"});
}

TEST_F(FeedFollowerTest, ALaterDocumentThatDoesNotCoverFetchesTheSkippedOnes) {
  FakeFeed feed;
  auto copy = Open();
  // 111's last event has no document at the server: the earlier one must be applied.
  feed.Add({1, "111", "endringINavn", "d1"}, {"111"}, "V1");
  feed.AddWithoutDocument({2, "111", "endringINavn", "gone"});
  // 222's last document is current under another number: the earlier one is applied too.
  feed.Add({3, "222", "endringINavn", "d3"}, {"222"}, "W3");
  feed.Add({4, "222", "endringIIdentitetsgrunnlag", "d4"}, {"333"}, "W4");
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  FeedFollower follower(options, *copy);
  ASSERT_EQ(*follower.Step(), 4u);
  EXPECT_EQ(feed.lookups(), (std::vector<std::string>{R"({"dokumentidentifikator":["d4","gone"]})",
                                                      R"({"dokumentidentifikator":["d1","d3"]})"}));
  EXPECT_EQ(follower.stats().superseded, 0u);
  EXPECT_EQ(follower.stats().missing, 1u);
  EXPECT_EQ(DocumentOf(*copy, "111"), Document({"111"}, "V1"));
  EXPECT_EQ(DocumentOf(*copy, "222"), "<absent>");
  EXPECT_EQ(DocumentOf(*copy, "333"), Document({"333"}, "W4"));
}

// A generated sequence with number changes (keyed by the new or the old number), stale keys,
// dubletter, missing documents and events without a document: the windowed, parallel follower
// ends with the same copy as the plain serial one.
TEST_F(FeedFollowerTest, MatchesTheSerialAlgorithmOnAGeneratedSequence) {
  FakeFeed feed(/*page_size=*/7);
  std::mt19937 random(12345);
  struct Person {
    std::vector<std::string> numbers;  // current first
  };
  std::vector<Person> persons;
  std::set<std::string> all_numbers;
  int next_number = 100;
  auto new_number = [&] {
    std::string n = "n" + std::to_string(next_number++);
    all_numbers.insert(n);
    return n;
  };
  for (int i = 0; i < 40; ++i) persons.push_back({{new_number()}});
  const std::vector<std::string> types = {"endringINavn", "endringIBostedsadresse",
                                          "endringISivilstand", "personErOppdatert"};
  for (int64_t seq = 1; seq <= 700; ++seq) {
    Person& p = persons[random() % 8 == 0 ? random() % persons.size() : random() % 6];
    const std::string id = "d" + std::to_string(seq);
    const std::string name = "N" + std::to_string(seq);
    const unsigned roll = random() % 100;
    if (roll < 6) {
      const std::string old = p.numbers.front();
      p.numbers.insert(p.numbers.begin(), new_number());
      const std::string key = random() % 2 == 0 ? p.numbers.front() : old;
      feed.Add({seq, key, "endringIIdentifikasjonsnummer", id}, p.numbers, name);
    } else if (roll < 9) {
      feed.Add({seq, p.numbers.front(), "personErOpphoertSomDublett", ""});
    } else if (roll < 12) {
      feed.AddWithoutDocument({seq, p.numbers.front(), "endringINavn", id});
    } else if (roll < 14) {
      feed.AddWithoutDocument({seq, p.numbers.front(), "personErOppdatert", ""});
    } else if (roll < 18 && p.numbers.size() > 1) {
      // A stale key: the event names an earlier number.
      feed.Add({seq, p.numbers[1], "endringINavn", id}, p.numbers, name);
    } else {
      feed.Add({seq, p.numbers.front(), types[random() % types.size()], id}, p.numbers, name);
    }
  }

  enum class Mode { kSerial, kWindowed, kLatest };
  // `compressed`: the copy has its dictionary before the run, so the lookup workers compress
  // the documents they fetch.
  auto run = [&](const std::string& path, Mode mode, bool compressed = false) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto opened = LocalCopy::Open(path);
    EXPECT_TRUE(opened.ok());
    std::unique_ptr<LocalCopy> copy = std::move(*opened);
    if (compressed) {
      EXPECT_TRUE(copy->Begin().ok());
      for (size_t i = 0; i < LocalCopy::kDictionarySamples; ++i) {
        const std::string n = "t" + std::to_string(i);
        EXPECT_TRUE(copy->Put(n,
                              Document({n, "x" + std::to_string(i * 7919 % 1000)},
                                       "Navn" + std::to_string(i % 97) + " Etternavn" +
                                           std::to_string(i * 31 % 1009)),
                              0)
                        .ok());
        EXPECT_TRUE(copy->Remove(n).ok());
      }
      EXPECT_TRUE(copy->Commit().ok());
      EXPECT_TRUE(copy->compressing());
    }
    for (size_t i = 0; i < persons.size(); i += 3) {
      EXPECT_TRUE(copy->Put(persons[i].numbers.back(), "{}", 0).ok());
    }
    FeedFollowerOptions options = Options(feed);
    options.from = 1;
    options.once = true;
    options.page_size = 7;
    if (mode == Mode::kSerial) {
      options.concurrency = 1;
      options.read_ahead_pages = 1;
      options.skip_superseded = false;
    } else {
      options.concurrency = 3;
      options.read_ahead_pages = 4;
    }
    if (mode == Mode::kLatest) options.documents = FeedDocuments::kLatest;
    FeedFollower follower(options, *copy);
    auto stats = follower.Run();
    EXPECT_TRUE(stats.ok()) << stats.error().message;
    EXPECT_EQ(stats->cursor, 700);
    EXPECT_EQ(stats->events, 700u);
    std::map<std::string, std::pair<std::string, int64_t>> rows;
    for (const std::string& n : all_numbers) {
      auto document = copy->Document(n);
      if (document->has_value()) rows[n] = {**document, **copy->Seq(n)};
    }
    EXPECT_EQ(*copy->Count(), static_cast<int64_t>(rows.size()));
    copy.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return std::make_pair(rows, *stats);
  };
  const size_t lookups_before = feed.lookups().size();
  auto [serial_rows, serial_stats] = run(path_ + ".serial.db", Mode::kSerial);
  const size_t serial_lookups = feed.lookups().size() - lookups_before;
  auto [window_rows, window_stats] = run(path_ + ".window.db", Mode::kWindowed);
  const size_t window_lookups = feed.lookups().size() - lookups_before - serial_lookups;
  EXPECT_FALSE(serial_rows.empty());
  EXPECT_EQ(window_rows, serial_rows);
  EXPECT_GT(window_stats.superseded, 100u);
  EXPECT_EQ(window_stats.upserted + window_stats.superseded + window_stats.missing,
            serial_stats.upserted + serial_stats.missing);
  EXPECT_LT(window_lookups, serial_lookups);

  // kLatest ends with the same documents under the same numbers; its rows are current at least
  // as late, and far fewer documents were fetched.
  auto [latest_rows, latest_stats] = run(path_ + ".latest.db", Mode::kLatest);
  ASSERT_EQ(latest_rows.size(), serial_rows.size());
  for (const auto& [number, row] : serial_rows) {
    ASSERT_TRUE(latest_rows.contains(number)) << number;
    EXPECT_EQ(latest_rows[number].first, row.first) << number;
    EXPECT_GE(latest_rows[number].second, row.second) << number;
  }
  EXPECT_LT(latest_stats.upserted, window_stats.upserted);
  // The same with documents compressed by the lookup workers.
  auto [compressed_rows, compressed_stats] =
      run(path_ + ".compressed.db", Mode::kLatest, /*compressed=*/true);
  EXPECT_EQ(compressed_rows, latest_rows);
  EXPECT_EQ(compressed_stats.upserted, latest_stats.upserted);

  // After every window (not only at the end) both copies agree.
  auto open_fresh = [&](const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto opened = LocalCopy::Open(path);
    EXPECT_TRUE(opened.ok());
    return std::move(*opened);
  };
  auto rows_of = [&](LocalCopy& copy) {
    std::map<std::string, std::pair<std::string, int64_t>> rows;
    for (const std::string& n : all_numbers) {
      auto document = copy.Document(n);
      if (document->has_value()) rows[n] = {**document, **copy.Seq(n)};
    }
    return rows;
  };
  {
    auto serial_copy = open_fresh(path_ + ".s.db");
    auto window_copy = open_fresh(path_ + ".w.db");
    FeedFollowerOptions serial_options = Options(feed);
    serial_options.from = 1;
    serial_options.page_size = 7;
    serial_options.concurrency = 1;
    serial_options.read_ahead_pages = 1;
    serial_options.skip_superseded = false;
    FeedFollowerOptions window_options = serial_options;
    window_options.concurrency = 2;
    window_options.read_ahead_pages = 3;
    window_options.skip_superseded = true;
    FeedFollower serial(serial_options, *serial_copy);
    FeedFollower windowed(window_options, *window_copy);
    int windows = 0;
    while (true) {
      auto applied = windowed.Step();
      ASSERT_TRUE(applied.ok()) << applied.error().message;
      if (*applied == 0) break;
      ++windows;
      while (serial.next_seq() == 0 || serial.next_seq() < windowed.next_seq()) {
        auto step = serial.Step();
        ASSERT_TRUE(step.ok()) << step.error().message;
        ASSERT_GT(*step, 0u);
      }
      ASSERT_EQ(serial.next_seq(), windowed.next_seq());
      ASSERT_EQ(rows_of(*window_copy), rows_of(*serial_copy)) << "after window " << windows;
    }
    EXPECT_EQ(windows, 34);  // 100 pages of 7 in windows of 3
  }
  for (const char* name : {".s.db", ".w.db"}) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_ + name + suffix);
    }
  }
}

TEST_F(FeedFollowerTest, LatestFetchesEachPersonOnceAndSkipsWhatItCovers) {
  FakeFeed feed(/*page_size=*/2);
  feed.Add({1, "111", "endringINavn", "d1"}, {"111"}, "V1");
  feed.Add({2, "222", "personErOpprettet", "d2"}, {"222"}, "W2");
  feed.Add({3, "111", "endringIBostedsadresse", "d3"}, {"111"}, "V3");
  feed.Add({4, "111", "endringINavn", "d4"}, {"111"}, "V4");
  auto copy = Open();
  FeedFollowerOptions options = Options(feed);
  options.documents = FeedDocuments::kLatest;
  options.from = 1;
  options.read_ahead_pages = 1;
  FeedFollower follower(options, *copy);
  // Events 1-2: the current documents, which already hold event 3 and 4 of 111 (head 4).
  ASSERT_EQ(*follower.Step(), 2u);
  EXPECT_EQ(DocumentOf(*copy, "111"), Document({"111"}, "V4"));
  EXPECT_EQ(*copy->Seq("111"), 4);
  EXPECT_EQ(DocumentOf(*copy, "222"), Document({"222"}, "W2"));
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 2);
  // Events 3-4 need nothing fetched.
  ASSERT_EQ(*follower.Step(), 2u);
  EXPECT_EQ(feed.current_lookups(),
            std::vector<std::string>{R"({"foedselsEllerDNummer":["111","222"]})"});
  EXPECT_TRUE(feed.lookups().empty());
  EXPECT_EQ(follower.stats().upserted, 2u);
  EXPECT_EQ(follower.stats().superseded, 2u);
  EXPECT_EQ(*copy->GetMetaInt(kMetaFeedSekvensnummer), 4);
  // A later change is fetched again.
  feed.Add({5, "111", "endringINavn", "d5"}, {"111"}, "V5");
  ASSERT_EQ(*follower.Step(), 1u);
  EXPECT_EQ(DocumentOf(*copy, "111"), Document({"111"}, "V5"));
  EXPECT_EQ(*copy->Seq("111"), 5);
}

TEST_F(FeedFollowerTest, LatestMovesRowsOnANumberChangeAndRemovesDubletter) {
  FakeFeed feed;
  auto copy = Open();
  ASSERT_TRUE(copy->Put("41000000001", Document({"41000000001"}, "A"), 1).ok());
  ASSERT_TRUE(copy->Put("333", Document({"333"}, "B"), 1).ok());
  ASSERT_TRUE(copy->SetMeta(kMetaFeedSekvensnummer, "1").ok());
  // An ordinary event under the old number comes first: its current document is already under
  // the new number, and the number change itself is fetched with the identifier history.
  feed.Add({2, "41000000001", "endringINavn", "d2"}, {"41000000001"}, "A2");
  feed.Add({3, "01010112345", "endringIIdentifikasjonsnummer", "d3"},
           {"01010112345", "41000000001"}, "A3");
  feed.Add({4, "333", "personErOpphoertSomDublett", ""});
  FeedFollowerOptions options = Options(feed);
  options.documents = FeedDocuments::kLatest;
  options.once = true;
  FeedFollower follower(options, *copy);
  auto stats = follower.Run();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->events, 3u);
  EXPECT_EQ(DocumentOf(*copy, "41000000001"), "<absent>");
  EXPECT_EQ(DocumentOf(*copy, "333"), "<absent>");
  EXPECT_EQ(DocumentOf(*copy, "01010112345"), Document({"01010112345"}, "A3"));
  EXPECT_EQ(*copy->Count(), 1);
  bool asked_history = false;
  for (const auto& r : feed.received()) {
    asked_history =
        asked_history || (r.target.find("personer/bulkoppslag?part=identifikasjonsnummer&part="
                                        "historikk") != std::string::npos &&
                          r.body == R"({"foedselsEllerDNummer":["01010112345"]})");
  }
  EXPECT_TRUE(asked_history);
}

// A feed whose sekvensnummer has gaps: the pages asked for at once do not line up, and the
// window still holds every event exactly once, in order.
// A new person "p<seq>" for each of `seqs`, with the document "X<seq>".
void AddNewPersons(FakeFeed& feed, const std::vector<int64_t>& seqs) {
  for (int64_t seq : seqs) {
    feed.Add({seq, "p" + std::to_string(seq), "personErOpprettet", "d" + std::to_string(seq)},
             {"p" + std::to_string(seq)}, "X" + std::to_string(seq));
  }
}

TEST_F(FeedFollowerTest, PagesAskedForAtOnceAreCheckedAgainstGaps) {
  FakeFeed feed(/*page_size=*/3);
  std::vector<int64_t> seqs;
  for (int64_t seq = 1; seq <= 40; ++seq) {
    if (seq % 4 != 0) seqs.push_back(seq);  // a gap every fourth number
  }
  AddNewPersons(feed, seqs);
  auto copy = Open();
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  options.page_size = 3;
  options.read_ahead_pages = 4;
  options.concurrency = 3;
  options.once = true;
  FeedFollower follower(options, *copy);
  auto stats = follower.Run();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->events, seqs.size());
  EXPECT_EQ(stats->cursor, 39);
  EXPECT_EQ(*copy->Count(), static_cast<int64_t>(seqs.size()));
  for (int64_t seq : seqs) {
    EXPECT_EQ(DocumentOf(*copy, "p" + std::to_string(seq)),
              Document({"p" + std::to_string(seq)}, "X" + std::to_string(seq)));
  }
}

TEST_F(FeedFollowerTest, TheNextWindowsPagesAskedForAheadAreUsedNotFetchedAgain) {
  FakeFeed feed(/*page_size=*/3);
  std::vector<int64_t> seqs(40);
  std::iota(seqs.begin(), seqs.end(), 1);
  AddNewPersons(feed, seqs);
  auto copy = Open();
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  options.page_size = 3;
  options.read_ahead_pages = 2;
  options.concurrency = 2;
  options.once = true;
  FeedFollower follower(options, *copy);
  auto stats = follower.Run();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->events, 40u);
  EXPECT_EQ(stats->windows, 7u);  // 14 pages (the last one short) in windows of 2
  EXPECT_EQ(*copy->Count(), 40);
  std::map<std::string, int> asked;
  for (const auto& r : feed.received()) {
    if (r.method == "GET" && r.target.find("hendelser/feed") != std::string::npos) {
      ++asked[r.target.substr(r.target.find("seq="))];
    }
  }
  for (int64_t seq = 1; seq <= 40; seq += 3) {
    EXPECT_EQ(asked["seq=" + std::to_string(seq)], 1) << seq;  // each page once
  }
  // Past the end only the one window asked for ahead of the last full one.
  EXPECT_LE(asked.size(), 14u + 1u);
}

TEST_F(FeedFollowerTest, RejectsABadConcurrency) {
  FakeFeed feed;
  auto copy = Open();
  FeedFollowerOptions options = Options(feed);
  options.from = 1;
  options.concurrency = 0;
  FeedFollower follower(options, *copy);
  auto applied = follower.Step();
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code, ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace norreg::client
