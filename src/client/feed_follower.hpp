#pragma once
// Keeps a local copy current from the event feed (SPEC 2.4).
//
// From the cursor (the local copy's kMetaFeedSekvensnummer + 1, recorded by RunUttrekk, or
// `from`), each step GETs hendelser/feed?seq=N (1000 events per page, ascending), fetches the
// changed persons' documents (the events' `persondokument` ids, POST personer/bulkoppslag/arkiv in
// calls of up to 1000) and, in ONE SQLite transaction, upserts each document under the person's
// current number and advances the cursor to the page's last sekvensnummer. A crash therefore
// leaves either the whole page applied or none of it.
//
// A person's number can change: the row of every other number the person had is removed — the
// numbers in the document's identifikasjonsnummer rows, the event's folkeregisteridentifikator
// (the number at the time of the event), and for endringIIdentifikasjonsnummer events also the
// identifier history (a second lookup with part=identifikasjonsnummer&part=historikk).
// personErOpphoertSomDublett (no person document) removes the row of the event's number.
//
// When caught up (an empty page) the same page is polled every `interval` with If-None-Match
// (304 = nothing new). Retries/backoff/401 as FregCaller.
//
// Thread-safety: a FeedFollower is used from one thread; `stop` may be set from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "client/local_copy.hpp"
#include "client/uttrekk.hpp"
#include "common/result.hpp"

namespace norreg::client {

struct FeedStats {
  int64_t cursor = 0;         // last applied sekvensnummer (0 = none yet)
  uint64_t pages = 0;         // non-empty pages applied
  uint64_t events = 0;        // events applied
  uint64_t upserted = 0;      // person rows written
  uint64_t removed = 0;       // rows of earlier numbers / dubletter removed
  uint64_t missing = 0;       // events whose person document the server did not return
  uint64_t not_modified = 0;  // 304 answers
  uint64_t retries = 0;
};

struct FeedFollowerOptions {
  // The server root, e.g. "http://127.0.0.1:8080". Required.
  std::string base_url;
  TokenSource tokens;
  // First sekvensnummer to fetch; nullopt = the recorded cursor + 1.
  std::optional<int64_t> from;
  // Poll interval once caught up. Default 2 s.
  std::chrono::milliseconds interval{std::chrono::seconds(2)};
  // Stop as soon as caught up (an empty page or 304). Default false.
  bool once = false;
  RetryPolicy retry;
  HttpClientOptions http;
  // Run() returns (ok) soon after this becomes true.
  const std::atomic<bool>* stop = nullptr;
  // Called after each applied page (e.g. for a log line); may be empty.
  std::function<void(const FeedStats&)> on_page;
};

class FeedFollower {
 public:
  // `copy` must outlive the follower.
  FeedFollower(FeedFollowerOptions options, LocalCopy& copy);

  // Applies pages until stopped (or caught up with `once`). kInvalidInput when there is no
  // recorded cursor and no `from`; API/store errors as described above.
  Result<FeedStats> Run();
  // One request: fetches the page at the cursor and applies it; the number of events applied
  // (0 = caught up: an empty page or 304).
  Result<size_t> Step();

  // The next sekvensnummer to fetch (after the cursor is initialised by the first Step).
  int64_t next_seq() const { return next_; }
  FeedStats stats() const;

 private:
  Status Init();

  FeedFollowerOptions options_;
  LocalCopy& copy_;
  CallStats call_stats_;
  std::atomic<bool> never_{false};
  FregCaller caller_;
  FeedStats stats_;
  bool initialised_ = false;
  int64_t next_ = 0;
  std::string etag_;  // the ETag of the page at etag_seq_
  int64_t etag_seq_ = -1;
};

}  // namespace norreg::client
