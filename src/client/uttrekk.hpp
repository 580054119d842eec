#pragma once
// Extracts ("uttrekk", SPEC 2.5) from the consumer side, and the call layer the extract and the
// feed follower share (FregCaller: bearer token, retries, backoff).
//
// RunUttrekk is the documented client algorithm, pipelined:
//   seq  = GET hendelser/siste/sekvensnummer
//   jobb = GET uttrekk/komplett?feedsekvensnr=seq  |  POST uttrekk/tilpasset (criteria JSON)
//   batches n = 0, 1, ...: GET uttrekk/{jobbId}/batch/{n}
//       404 = not ready: wait (backoff) and ask for the same n again; 410 = job gone;
//       an empty answer ({} or no/empty list) = done
//   each batch's ids in chunks of 1000 -> POST personer/bulkoppslag/arkiv {"dokumentidentifikator"}
//       (complete) or personer/bulkoppslag {"foedselsEllerDNummer"} (tailored), by `concurrency`
//       workers, each with its own HttpClient;
//   every `folkeregisterperson` is written as it came (raw JSON, not re-serialised) to the NDJSON
//   file (one per line) and/or the SQLite local copy.
// Chunks are written in order. Every `checkpoint_interval`, at the end and when stopped or failed,
// the output is fsynced and then the checkpoint (jobbId, seq, next batch/chunk, NDJSON length,
// persons) saved: in the local copy's meta table — in the same transaction as the rows written
// since the checkpoint before, so the copy's rows and its checkpoint always agree — else in
// "<out>.checkpoint". A rerun with a
// checkpoint of the same kind/criteria continues the same job from it: the NDJSON is first cut back
// to the checkpointed length and rows written again replace themselves, so every person is written
// exactly once. When the server answers 410 for the resumed job, the extract starts over with a new
// order and a fresh output.
//
// Thread-safety: RunUttrekk starts its own threads; the options' TokenSource must be thread-safe.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.hpp"
#include "client/local_copy.hpp"
#include "client/progress.hpp"
#include "client/token_client.hpp"
#include "common/result.hpp"

namespace norreg::client {

// Appended to the server root to reach the Folkeregisteret API.
inline constexpr std::string_view kFregApiPath = "/folkeregisteret/offentlig-med-hjemmel/api/v1/";

// Bearer tokens for the calls. `get` must be thread-safe; `invalidate` forgets the cached token
// (called once after a 401). A default-constructed TokenSource sends no Authorization header.
struct TokenSource {
  std::function<Result<std::string>()> get;
  std::function<void()> invalidate;
};
// Tokens for the Folkeregisteret scope from `client` (which must outlive the source), acting
// for `org` ("" = the client's default).
TokenSource TokenSourceFor(TokenClient& client, std::string scope, std::string org = "");
// Always the same token (tests, or a token obtained elsewhere).
TokenSource StaticTokenSource(std::string token);

// How the CLI finds its token client: a real Maskinporten client (client_id + key_file +
// issuer), else the demo clients of `data_dir` (issuer from <data>/auth/server.json, falling back
// to `base_url` as the issuer). kInvalidInput / kNotFound as DemoTokenClientOptions, or for an
// unreadable key file.
struct ConsumerAuthFlags {
  std::string data_dir;
  std::string org;
  std::string client_id;
  std::string key_file;
  std::string kid;
  std::string issuer;  // for a real client; "" = base_url
};
Result<TokenClientOptions> ConsumerTokenOptions(const ConsumerAuthFlags& flags,
                                                std::string_view scope, std::string_view base_url);

struct RetryPolicy {
  // Attempts per call for 5xx, transport errors and 429 (the first try included). Default 12:
  // with the default backoff 31–63 s of retrying, so a server restart of half a minute is
  // bridged (8 gave 11–22 s, too short for a restart on a loaded machine).
  int max_attempts = 12;
  // Backoff before retry k (k = 1, 2, ...) is uniform in [d/2, d] with
  // d = min(max_backoff, initial_backoff * 2^(k-1)). Defaults 200 ms and 10 s.
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(10)};
  // Upper bound of a 429's Retry-After (milliseconds on this API). Default 60 s.
  std::chrono::milliseconds max_retry_after{std::chrono::seconds(60)};
};

// The counters a caller adds to (shared by threads).
struct CallStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> token_refreshes{0};
};

// The error code of an HTTP status: kInvalidInput (400), kUnauthenticated (401), kForbidden (403),
// kNotFound (404), kNotAcceptable (406), kGone (410), kTooLarge (413), kUnsupportedMedia (415),
// kRateLimited (429), else kInternal.
ErrorCode ErrorCodeForStatus(long status);

// The error for an unexpected answer of the Folkeregisteret API: ErrorCodeForStatus; the message
// names `what`, the status and the answer's {kode, melding} when present.
Error ErrorForAnswer(std::string_view what, const HttpResponse& response);

// How a caller speaks to one API: its path under the server root, the Accept header every call
// carries, how an unexpected answer becomes an Error, and which 5xx answers are answers to return
// rather than failures to retry.
struct ApiDialect {
  std::string_view path;    // under the server root, with leading and trailing '/'
  std::string_view accept;  // "" = no Accept header of its own
  Error (*error_for)(std::string_view what, const HttpResponse& response) = &ErrorForAnswer;
  bool (*is_answer)(const HttpResponse& response) = nullptr;
};
// Folkeregisteret: kFregApiPath, Accept: application/json, ErrorForAnswer.
extern const ApiDialect kFregDialect;

// One thread's caller of one API: owns one HttpClient (keep-alive).
// Call() adds Authorization: Bearer (and the dialect's Accept), retries 5xx (500, 502, 503, 504;
// not those the dialect calls answers) and transport errors with jittered exponential backoff,
// waits Retry-After milliseconds on 429, and on 401 invalidates the token and tries once more with
// a fresh one. Any other answer (2xx, 304, 4xx) is returned as is. Errors: the token source's
// error; when attempts run out kRateLimited (429) or kInternal (5xx / transport,
// IsTransportError kept); kInternal "cancelled" when `cancel` became true while waiting.
// Thread-safety: not thread-safe (one per thread); `stats` and `cancel` may be shared.
class ApiCaller {
 public:
  // `path`: the API's path under the server root instead of the dialect's ("" = the dialect's),
  // with leading and trailing '/' (e.g. an access package's base path).
  ApiCaller(std::string base_url, const ApiDialect& dialect, const TokenSource& tokens,
            RetryPolicy retry = {}, HttpClientOptions http = {}, CallStats* stats = nullptr,
            const std::atomic<bool>* cancel = nullptr, std::string_view path = {});

  // `path` is relative to the API root, e.g. "hendelser/feed?seq=1" (a leading '/' is ignored).
  Result<HttpResponse> Call(std::string_view method, std::string_view path,
                            std::string_view body = {}, const HttpHeaders& extra = {});

  // Sleeps `duration`, waking early when cancelled; false when cancelled.
  bool SleepFor(std::chrono::milliseconds duration);
  bool cancelled() const;
  std::string Url(std::string_view path) const;

 private:
  std::chrono::milliseconds Backoff(int retry);

  std::string api_root_;  // base + dialect.path
  const ApiDialect& dialect_;
  const TokenSource& tokens_;
  RetryPolicy retry_;
  HttpClient http_;
  CallStats* stats_;
  const std::atomic<bool>* cancel_;
};

// The caller of the Folkeregisteret API (kFregDialect) at `api_path`: kFregApiPath, or another
// access package's base path with a trailing '/' (docs/packages.md).
class FregCaller : public ApiCaller {
 public:
  FregCaller(std::string base_url, const TokenSource& tokens, RetryPolicy retry = {},
             HttpClientOptions http = {}, CallStats* stats = nullptr,
             const std::atomic<bool>* cancel = nullptr, std::string_view api_path = kFregApiPath)
      : ApiCaller(std::move(base_url), kFregDialect, tokens, retry, std::move(http), stats, cancel,
                  api_path) {}
};

// One person document out of a bulk lookup answer. Views point into the answer body.
struct BulkPerson {
  std::string_view key;       // the item's dokumentidentifikator or foedselsEllerDNummer
  std::string_view document;  // raw folkeregisterperson JSON
};
// Parses {"oppslag":[{"dokumentidentifikator"|"foedselsEllerDNummer": …, "folkeregisterperson":
// {…}}, …]} (items with a feilmelding and no folkeregisterperson are skipped). `body` gets
// SIMDJSON padding appended to its capacity (its size is unchanged). kInternal when malformed.
Result<std::vector<BulkPerson>> ParseBulkAnswer(std::string& body);

// The identifikasjonsnummer rows of a person document: `current` is the number of the first
// current row (erGjeldende true, else the first row); `all` every number in the rows.
struct PersonNumbers {
  std::string current;
  std::vector<std::string> all;
};
// `document` must lie in a buffer readable for SIMDJSON_PADDING bytes past its end (true for
// views from ParseBulkAnswer) or be copied by the caller; `padded_capacity` is how many bytes from
// document.data() are readable. Reads the document only up to the end of its
// identifikasjonsnummer array (documents from ParseBulkAnswer are whole JSON values already).
// kInternal when malformed up to there; current empty when there are no rows.
Result<PersonNumbers> ParsePersonNumbers(std::string_view document, size_t padded_capacity);

// GET hendelser/siste/sekvensnummer: the latest sekvensnummer (kInternal when the answer is not
// a number; API errors as ErrorForAnswer).
Result<int64_t> LatestSekvensnummer(FregCaller& caller);

// {"name":["a","b",…]}. Ids are expected to be digits/hex; any '"' '\\' or control character makes
// it kInvalidInput.
Result<std::string> IdListBody(std::string_view name, const std::vector<std::string>& ids,
                               size_t begin, size_t end);

struct UttrekkOptions {
  // The server root, e.g. "http://127.0.0.1:8080". Required.
  std::string base_url;
  // The API's path under it: "offentlig med hjemmel" by default, or another access package's
  // base path + '/' (a tailored extract only: the complete one is "med hjemmel"'s alone).
  std::string api_path = std::string(kFregApiPath);
  TokenSource tokens;
  // The tailored extract's criteria (POST uttrekk/tilpasset body); nullopt = complete extract.
  std::optional<std::string> tilpasset;
  // Outputs; at least one. NDJSON: one person document per line. Local copy: LocalCopy file.
  std::string ndjson_path;
  std::string db_path;
  LocalCopyOptions db_options;
  // Parallel bulk lookups, each with its own connection. Default 4 (1..64).
  int concurrency = 4;
  // Ids per bulk lookup (the API allows at most 1000). Default 1000.
  size_t chunk_size = 1000;
  RetryPolicy retry;
  HttpClientOptions http;
  // Waiting for a batch that is not ready (404): backoff from `not_ready_initial` doubling to
  // `not_ready_max`, for at most `not_ready_timeout` per batch. Defaults 100 ms, 5 s, 1 h.
  std::chrono::milliseconds not_ready_initial{100};
  std::chrono::milliseconds not_ready_max{std::chrono::seconds(5)};
  std::chrono::milliseconds not_ready_timeout{std::chrono::hours(1)};
  // How often the output is made durable (fdatasync) and the checkpoint saved; always at the end
  // and when stopped. A rerun after a crash repeats at most this much work. Default 2 s.
  std::chrono::milliseconds checkpoint_interval{std::chrono::seconds(2)};
  // Stops the run (as if interrupted) when set; the checkpoint stays for a rerun.
  const std::atomic<bool>* cancel = nullptr;
  // Test hook: behave as if interrupted after this many chunks were committed (0 = never).
  uint64_t stop_after_chunks = 0;
};

struct UttrekkSummary {
  bool completed = false;  // false when cancelled / stopped by the hook (checkpoint kept)
  std::string jobb_id;
  int64_t sekvensnummer = 0;  // the extract's feed position (for the follower)
  uint64_t persons = 0;       // persons in the output (resumed runs included)
  uint64_t missing = 0;       // ids the bulk lookups did not answer for (this process)
  uint64_t batches = 0;       // batches fetched by this process
  uint64_t chunks = 0;        // chunks committed by this process
  uint64_t retries = 0;
  bool resumed = false;
  bool restarted = false;  // the resumed job was gone (410): started over
  double seconds = 0;
};

// Runs (or resumes) an extract as described at the top. Errors: kInvalidInput for bad options
// or criteria (400), kUnauthenticated/kForbidden from the API, kRateLimited when the order is
// refused with 429 after all retries, kGone when a fresh job vanished, kInternal for I/O,
// transport failures after retries or a batch not ready within not_ready_timeout.
Result<UttrekkSummary> RunUttrekk(const UttrekkOptions& options, Progress& progress);

}  // namespace norreg::client
