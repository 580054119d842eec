#include "client/feed_follower.hpp"

#include <simdjson.h>

#include <algorithm>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace norreg::client {
namespace {

constexpr size_t kMaxIdsPerLookup = 1000;
constexpr std::string_view kDublett = "personErOpphoertSomDublett";
constexpr std::string_view kNewNumber = "endringIIdentifikasjonsnummer";

struct FeedEvent {
  int64_t seq = 0;
  std::string fnr;
  std::string type;
  std::string persondokument;
};

Error Malformed(simdjson::error_code code) {
  return MakeError(ErrorCode::kInternal,
                   std::string("feed page: malformed JSON: ") + simdjson::error_message(code));
}

Result<std::vector<FeedEvent>> ParsePage(std::string& body) {
  std::vector<FeedEvent> events;
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array list;
  auto error = parser.iterate(body.data(), body.size(), body.capacity()).get(doc);
  if (!error) error = doc.get_array().get(list);
  if (error) return Malformed(error);
  for (auto item_result : list) {
    simdjson::ondemand::object item;
    if ((error = item_result.get_object().get(item))) return Malformed(error);
    FeedEvent event;
    for (auto field : item) {
      std::string_view key;
      if ((error = field.unescaped_key().get(key))) return Malformed(error);
      if (key == "sekvensnummer") {
        if ((error = field.value().get_int64().get(event.seq))) return Malformed(error);
      } else if (key == "hendelse") {
        simdjson::ondemand::object hendelse;
        if ((error = field.value().get_object().get(hendelse))) return Malformed(error);
        for (auto h : hendelse) {
          std::string_view name;
          if ((error = h.unescaped_key().get(name))) return Malformed(error);
          std::string* target = name == "folkeregisteridentifikator" ? &event.fnr
                                : name == "hendelsetype"             ? &event.type
                                : name == "persondokument"           ? &event.persondokument
                                                                     : nullptr;
          if (target == nullptr) continue;
          simdjson::ondemand::value value;
          if ((error = h.value().get(value))) return Malformed(error);
          bool is_null = false;
          if ((error = value.is_null().get(is_null))) return Malformed(error);
          if (is_null) continue;
          std::string_view text;
          if ((error = value.get_string().get(text))) return Malformed(error);
          *target = text;
        }
      }
    }
    if (event.seq <= 0) {
      return MakeError(ErrorCode::kInternal, "feed page: event without sekvensnummer");
    }
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace

FeedFollower::FeedFollower(FeedFollowerOptions options, LocalCopy& copy)
    : options_(std::move(options)),
      copy_(copy),
      caller_(options_.base_url, options_.tokens, options_.retry, options_.http, &call_stats_,
              options_.stop != nullptr ? options_.stop : &never_) {}

FeedStats FeedFollower::stats() const {
  FeedStats s = stats_;
  s.retries = call_stats_.retries.load();
  return s;
}

Status FeedFollower::Init() {
  if (initialised_) return {};
  auto cursor = copy_.GetMetaInt(kMetaFeedSekvensnummer);
  if (!cursor.ok()) return cursor.error();
  if (options_.from) {
    if (*options_.from < 1) return MakeError(ErrorCode::kInvalidInput, "--from must be >= 1");
    next_ = *options_.from;
  } else if (cursor->has_value()) {
    next_ = **cursor + 1;
  } else {
    return MakeError(ErrorCode::kInvalidInput,
                     "the local copy has no recorded sekvensnummer: run an extract first or give "
                     "a starting sekvensnummer");
  }
  stats_.cursor = next_ - 1;
  initialised_ = true;
  return {};
}

Result<size_t> FeedFollower::Step() {
  if (Status s = Init(); !s.ok()) return s.error();
  const std::string path = "hendelser/feed?seq=" + std::to_string(next_);
  HttpHeaders headers;
  if (etag_seq_ == next_ && !etag_.empty()) headers.emplace_back("If-None-Match", etag_);
  auto response = caller_.Call("GET", path, {}, headers);
  if (!response.ok()) return response.error();
  if (response->status == 304) {
    ++stats_.not_modified;
    return size_t{0};
  }
  if (response->status != 200) return ErrorForAnswer("GET " + path, *response);
  if (auto etag = response->Header("etag")) {
    etag_ = *etag;
    etag_seq_ = next_;
  } else {
    etag_.clear();
  }
  auto parsed = ParsePage(response->body);
  if (!parsed.ok()) return parsed.error();
  std::vector<FeedEvent>& events = *parsed;
  // Only what lies at or after the cursor, in order (the server answers ascending anyway).
  std::erase_if(events, [&](const FeedEvent& e) { return e.seq < next_; });
  std::stable_sort(events.begin(), events.end(),
                   [](const FeedEvent& a, const FeedEvent& b) { return a.seq < b.seq; });
  if (events.empty()) return size_t{0};

  // The documents: bodies kept in a deque (stable addresses) with views into them.
  std::vector<std::string> wanted;
  std::vector<std::string> history_wanted;
  for (const FeedEvent& e : events) {
    if (e.persondokument.empty() || e.type == kDublett) continue;
    wanted.push_back(e.persondokument);
    if (e.type == kNewNumber) history_wanted.push_back(e.persondokument);
  }
  auto unique = [](std::vector<std::string>& ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  };
  unique(wanted);
  unique(history_wanted);

  std::deque<std::string> bodies;
  std::unordered_map<std::string_view, std::string_view> documents;
  std::unordered_map<std::string_view, std::vector<std::string>> history;
  auto lookup = [&](const std::vector<std::string>& ids, std::string_view query,
                    bool is_history) -> Status {
    const std::string lookup_path = "personer/bulkoppslag/arkiv" + std::string(query);
    for (size_t begin = 0; begin < ids.size(); begin += kMaxIdsPerLookup) {
      auto body = IdListBody("dokumentidentifikator", ids, begin, begin + kMaxIdsPerLookup);
      if (!body.ok()) return body.error();
      auto answer =
          caller_.Call("POST", lookup_path, *body, {{"Content-Type", "application/json"}});
      if (!answer.ok()) return answer.error();
      if (answer->status != 200) return ErrorForAnswer("POST " + lookup_path, *answer);
      std::string& text = bodies.emplace_back(std::move(answer->body));
      auto persons = ParseBulkAnswer(text);
      if (!persons.ok()) return persons.error();
      for (const BulkPerson& p : *persons) {
        if (!is_history) {
          documents[p.key] = p.document;
          continue;
        }
        auto numbers = ParsePersonNumbers(
            p.document, static_cast<size_t>(text.data() + text.capacity() - p.document.data()));
        if (!numbers.ok()) return numbers.error();
        history[p.key] = std::move(numbers->all);
      }
    }
    return {};
  };
  if (Status s = lookup(wanted, "", false); !s.ok()) return s.error();
  if (Status s = lookup(history_wanted, "?part=identifikasjonsnummer&part=historikk", true);
      !s.ok()) {
    return s.error();
  }
  // Find the padded capacity of a document view: the body holding it.
  auto capacity_of = [&](std::string_view document) -> size_t {
    for (const std::string& body : bodies) {
      if (document.data() >= body.data() && document.data() < body.data() + body.size()) {
        return static_cast<size_t>(body.data() + body.capacity() - document.data());
      }
    }
    return 0;
  };

  if (Status s = copy_.Begin(); !s.ok()) return s.error();
  FeedStats page = stats_;
  auto fail = [&](Error error) -> Result<size_t> {
    copy_.Rollback();
    return error;
  };
  for (const FeedEvent& e : events) {
    if (e.type == kDublett) {
      if (!e.fnr.empty()) {
        auto removed = copy_.Remove(e.fnr);
        if (!removed.ok()) return fail(removed.error());
        page.removed += *removed ? 1 : 0;
      }
      continue;
    }
    if (e.persondokument.empty()) continue;
    auto it = documents.find(e.persondokument);
    if (it == documents.end()) {
      ++page.missing;
      continue;
    }
    std::string_view document = it->second;
    auto numbers = ParsePersonNumbers(document, capacity_of(document));
    if (!numbers.ok()) return fail(numbers.error());
    std::string current = numbers->current.empty() ? e.fnr : numbers->current;
    if (current.empty()) {
      ++page.missing;
      continue;
    }
    std::vector<std::string> old = std::move(numbers->all);
    if (!e.fnr.empty()) old.push_back(e.fnr);
    if (auto h = history.find(e.persondokument); h != history.end()) {
      old.insert(old.end(), h->second.begin(), h->second.end());
    }
    unique(old);
    auto removed = copy_.Replace(current, old, document, e.seq);
    if (!removed.ok()) return fail(removed.error());
    page.removed += static_cast<uint64_t>(*removed);
    ++page.upserted;
  }
  const int64_t last = events.back().seq;
  if (Status s = copy_.SetMeta(kMetaFeedSekvensnummer, std::to_string(last)); !s.ok()) {
    return fail(s.error());
  }
  if (Status s = copy_.Commit(); !s.ok()) return s.error();
  page.cursor = last;
  ++page.pages;
  page.events += events.size();
  stats_ = page;
  next_ = last + 1;
  return events.size();
}

Result<FeedStats> FeedFollower::Run() {
  auto stopped = [&] { return options_.stop != nullptr && options_.stop->load(); };
  while (!stopped()) {
    auto applied = Step();
    if (!applied.ok()) {
      if (stopped()) break;  // a cancelled call, not a failure
      return applied.error();
    }
    if (*applied > 0) {
      if (options_.on_page) options_.on_page(stats());
      continue;
    }
    if (options_.once) break;
    if (!caller_.SleepFor(options_.interval)) break;
  }
  return stats();
}

}  // namespace norreg::client
