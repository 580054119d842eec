#pragma once
// Keeps a local copy current from the event feed (SPEC 2.4).
//
// From the cursor (the local copy's kMetaFeedSekvensnummer + 1, recorded by RunUttrekk, or
// `from`), each step reads a WINDOW of feed pages (GET hendelser/feed?seq=N, 1000 events per page,
// ascending): up to `read_ahead_pages` pages, ending early at a page shorter than `page_size`
// (caught up). It then fetches the changed persons' documents (POST calls of up to 1000 ids, run
// by `concurrency` workers with one connection each) and, in ONE SQLite transaction, applies the
// events in sekvensnummer order (upserting each document under the person's current number) and
// advances the cursor to the window's last sekvensnummer. A crash therefore leaves either the
// whole window applied or none.
//
// Which documents (FeedDocuments):
// - kLatest (default): each changed person's CURRENT document (POST personer/bulkoppslag by the
//   events' folkeregisteridentifikator), fetched after reading the latest sekvensnummer H
//   (GET hendelser/siste/sekvensnummer). Such a document already holds every change up to H, so
//   the row is stored with seq H and every later event of the person's numbers up to H needs no
//   fetch at all (FeedStats::superseded) — in this window or any later one. Catching up over a
//   long feed therefore fetches each person about once instead of once per event. Rows may be
//   newer than the cursor; once caught up the copy equals the server's current register.
//   endringIIdentifikasjonsnummer events are always fetched (with the identifier history); a
//   personErOpphoertSomDublett event removes its number's row unless a document fetched after it
//   showed that number current. The memory of which numbers are covered up to which H holds at
//   most `max_covered` numbers (entries the cursor has passed are dropped first).
// - kVersions: the document version each event names (the events' `persondokument` ids,
//   POST personer/bulkoppslag/arkiv), rows stored with the event's sekvensnummer, so after every
//   window the copy is exactly the register as it stood at the cursor. An event whose
//   folkeregisteridentifikator has a later event with a person document in the same window
//   needs no document of its own (the later document replaces the row) and is skipped
//   (FeedStats::superseded, when `skip_superseded`) — except when that number also appears in an
//   endringIIdentifikasjonsnummer or personErOpphoertSomDublett event of the window, and except
//   when the later document turns out to be missing or to be current under another number (then
//   the skipped documents are fetched after all). After a window the copy therefore holds the
//   same rows as applying every event one by one.
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
// Run() overlaps the work: while one window's documents are fetched, the next window's pages are
// read (those page reads go ahead of queued lookups), and while a window is applied, the next
// window's documents are fetched. The lookup workers also parse the documents and compress them
// with the local copy's compressor (LocalCopy::compressor), so the thread that writes the copy
// only writes.
//
// Thread-safety: a FeedFollower is used from one thread (it starts `concurrency` worker threads
// of its own, joined by the destructor; the TokenSource must be thread-safe); `stop` may be set
// from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/local_copy.hpp"
#include "client/number_map.hpp"
#include "client/uttrekk.hpp"
#include "common/result.hpp"

namespace norreg::client {

struct FeedStats {
  int64_t cursor = 0;         // last applied sekvensnummer (0 = none yet)
  uint64_t pages = 0;         // non-empty pages applied
  uint64_t windows = 0;       // windows (transactions) applied
  uint64_t events = 0;        // events applied
  uint64_t upserted = 0;      // person rows written
  uint64_t superseded = 0;    // events that needed no document of their own (see the top)
  uint64_t removed = 0;       // rows of earlier numbers / dubletter removed
  uint64_t missing = 0;       // events whose person document the server did not return
  uint64_t not_modified = 0;  // 304 answers
  uint64_t retries = 0;
};

enum class FeedDocuments { kLatest, kVersions };

struct FeedFollowerOptions {
  // The server root, e.g. "http://127.0.0.1:8080". Required.
  std::string base_url;
  // The API's path under it: "offentlig med hjemmel" by default, or another access package's base
  // path + '/' (docs/packages.md).
  std::string api_path = std::string(kFregApiPath);
  // The package's feed is thin (LagretTynnHendelse: no document ids): only kLatest works, and
  // every event but personErOpphoertSomDublett is taken as a change of its person.
  bool thin_feed = false;
  TokenSource tokens;
  // First sekvensnummer to fetch; nullopt = the recorded cursor + 1.
  std::optional<int64_t> from;
  // Poll interval once caught up. Default 2 s.
  std::chrono::milliseconds interval{std::chrono::seconds(2)};
  // Stop as soon as caught up (an empty page or 304). Default false.
  bool once = false;
  // Parallel document lookups, each worker with its own connection (1..64; 1 = on the calling
  // thread). Default 4.
  int concurrency = 4;
  // Pages per window (>= 1). Default 32.
  size_t read_ahead_pages = 32;
  // The server's page size (SPEC 2.4: fixed at 1000); a shorter page ends the window. Default 1000.
  size_t page_size = 1000;
  // Which documents are fetched (see the top). Default kLatest.
  FeedDocuments documents = FeedDocuments::kLatest;
  // kVersions: skip the documents of superseded events (see the top). Default true; false
  // fetches and applies every event's document (the plain serial algorithm).
  bool skip_superseded = true;
  // kLatest: how many numbers the follower remembers as covered (16 bytes each, plus the hash
  // table's overhead). Default 4 000 000.
  size_t max_covered = 4'000'000;
  RetryPolicy retry;
  HttpClientOptions http;
  // Run() returns (ok) soon after this becomes true.
  const std::atomic<bool>* stop = nullptr;
  // Called after each applied window (e.g. for a log line); may be empty.
  std::function<void(const FeedStats&)> on_page;
};

class FeedFollower {
 public:
  // `copy` must outlive the follower.
  FeedFollower(FeedFollowerOptions options, LocalCopy& copy);

  FeedFollower(const FeedFollower&) = delete;
  FeedFollower& operator=(const FeedFollower&) = delete;
  ~FeedFollower();

  // Applies windows until stopped (or caught up with `once`). kInvalidInput when there is no
  // recorded cursor and no `from` or a bad concurrency/read_ahead_pages/page_size; API/store
  // errors as described above (a window read ahead is applied before a later failure is
  // returned).
  Result<FeedStats> Run();
  // One window: reads the pages from the cursor and applies them; the number of events applied
  // (0 = caught up: an empty first page or 304).
  Result<size_t> Step();

  // The next sekvensnummer to fetch (after the cursor is initialised by the first Step).
  int64_t next_seq() const { return next_; }
  FeedStats stats() const;

 private:
  struct Window;
  class LookupPool;

  Status Init();
  struct Prefetch;

  Result<std::unique_ptr<Window>> ReadWindow(int64_t from);
  // Asks for read_ahead_pages pages from `from` on the pool (replacing any earlier prefetch);
  // ReadWindow(from) takes them.
  void StartPrefetch(int64_t from);
  // Waits for the prefetch in flight, if any, and forgets it.
  void DropPrefetch();
  Status Plan(Window& window);
  Status PlanLatest(Window& window);
  bool Covered(std::string_view fnr, int64_t seq) const;
  void Cover(std::string_view fnr, int64_t head);
  void Submit(Window& window, bool second_round);
  Status Finish(Window& window);
  Status Apply(Window& window);
  Status ApplyLatest(Window& window, FeedStats& delta);
  Status ApplyVersions(Window& window, FeedStats& delta);

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
  std::unique_ptr<LookupPool> pool_;    // created on first use when concurrency > 1
  std::unique_ptr<Prefetch> prefetch_;  // the next window's pages, asked for ahead
  // kLatest: number (as an integer) -> the H its row's document is current at.
  NumberMap covered_;
};

}  // namespace norreg::client
