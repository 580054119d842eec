#pragma once
// norreg's configuration: one JSON file (unknown keys rejected), every key also settable by an
// environment variable (NORREG_<KEY in upper case>) and by a command-line flag. Precedence:
// defaults < file < environment < flags. Validated once at start-up (fail fast).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace norreg::cli {

struct Config {
  std::string data = "./data";  // data folder of the SQLite register (`--data`)
  // The register's database: "" = SQLite in `data` (the default); a postgresql:// (or
  // postgres://) URI = that PostgreSQL database, which several server nodes may share (`--db`).
  // With `db` the built-in authorisation server's signing keys and jti replay store, the rate
  // limits and the extract jobs are there too (shared by the nodes); the other state (demo
  // clients, disclosure log, mottak) stays in `data`.
  std::string db;
  std::string listen = "127.0.0.1:8080";  // HOST:PORT the server listens on (`--listen`)
  // HOST:PORT of a second listener with only /metrics and /health/* (`--admin-listen`), which
  // the main listener then does not serve; "" = they are on the main listener.
  std::string admin_listen;
  // The SQLite register's readers map up to this many MiB of register.db (PRAGMA mmap_size)
  // instead of reading pages with pread: faster searches that read many records, while the mapped
  // pages count in the server's RSS (docs/deployment.md, "Memory"). 0 = no mapping.
  uint64_t sqlite_mmap_mb = 0;
  uint64_t demo_persons = 10000;       // demo population generated into an empty data folder
  uint64_t seed = 1;                   // generator seed for the demo population
  int threads = 0;                     // server io threads; 0 = cores (2 × cores with db)
  int read_timeout_s = 30;             // a request's headers and body must arrive within this
  uint64_t min_body_rate = 4096;       // ... plus the time the body takes at this many bytes/s
  int idle_timeout_s = 60;             // keep-alive connections idle longer are closed
  uint64_t max_body_bytes = 8u << 20;  // larger request bodies -> 413
  uint64_t max_connections = 10'000;   // open connections at most (then 503); 0 = no cap
  uint64_t max_connections_per_client = 1'000;  // from one client address; 0 = no cap
  int shutdown_grace_s = 20;                    // in-flight requests get this long after SIGTERM
  std::string log_level = "info";               // trace, debug, info, warn, error
  bool access_log = true;                       // one structured line per request

  // --- Maskinporten security (SPEC 4) ---
  // The built-in development authorisation server (POST /token, GET /jwk, metadata) on the same
  // listener, with demo clients in <data>/auth. Its tokens are trusted by the APIs. Unset: on
  // unless trusted_issuers are given (a production set-up gets no demo clients unless it asks).
  std::optional<bool> auth_server;
  std::string issuer;  // built-in issuer; "" = http://<listen address>/
  // Other trusted issuers, each "ISSUER=JWKS" where JWKS is a file path or an http(s) URL, e.g.
  // "https://test.maskinporten.no/=https://test.maskinporten.no/jwk".
  std::vector<std::string> trusted_issuers;
  int token_leeway_s = 10;     // clock skew allowed on a token's exp/iat
  int token_lifetime_s = 120;  // lifetime of tokens the built-in server issues
  int jwks_refresh_s = 60;     // at most one JWKS refresh per issuer per this interval
  // With `db`: the built-in server's signing keys are read from the database again this often (a
  // key rotated by `norreg rotate-signing-key --db` or another node is used within this time).
  int signing_key_reload_s = 10;
  bool insecure_no_auth = false;  // serve the APIs WITHOUT tokens (benchmarks only)
  int rate_limit_per_s = 5000;    // calls per second per consumer organisation (with `db`: in
                                  // sum over the nodes, auth::SharedRateLimiter); 0 = off
  int rate_limit_burst = 0;       // bucket size; 0 = 2 x rate_limit_per_s
  bool audit = true;              // record every disclosure in <data>/audit
  // An answer that disclosed persons leaves once its disclosure lines are on disk (a flush shared
  // by the answers of one moment, ~1 ms); false: once they are in the page cache (a crash of the
  // process keeps them, a power loss may not).
  bool audit_sync = true;
  bool mottak_auto_receipt = true;  // answer every mottak upload with a receipt reply

  // --- extracts (uttrekk, SPEC 2.5) ---
  int uttrekk_ttl_h = 24;         // extract results are deleted this long after the order
  int uttrekk_kept_per_org = 20;  // unexpired extract jobs one organisation may have (then 429)
  int mottak_retention_h = 720;   // confirmed mottak replies are deleted this long after confirm
  int uttrekk_workers = 2;        // background threads computing extract jobs
  // With --db (jobs shared by the nodes in PostgreSQL): a node's claim on a job lasts this long
  // after its last renewal (renewed every third of it); a node that dies mid-job loses it then
  // and another node computes it.
  int uttrekk_lease_s = 30;
  // TEST ONLY, leave at 0: ids per extract batch instead of SPEC 2.5's 100 000 / 10 000 (0 =
  // those), and a pause after each stored batch, so that functional tests can stop or kill a
  // node while it computes a job of a small register.
  int uttrekk_test_batch_size = 0;
  int uttrekk_test_batch_delay_ms = 0;
};

// One trusted issuer from Config::trusted_issuers.
struct TrustedIssuer {
  std::string issuer;
  std::string jwks;  // file path or http(s) URL
};
// Splits "ISSUER=JWKS" at the first '=' after the issuer's scheme; kInvalidInput when malformed.
Result<TrustedIssuer> ParseTrustedIssuer(const std::string& text);

// Whether the built-in authorisation server runs (Config::auth_server, or its default).
bool AuthServerOn(const Config& config);

// Applies a JSON config file on top of `config`. kInvalidInput naming the key when the file is
// unreadable, not JSON, has an unknown key or a value of the wrong type/range.
Status ApplyConfigFile(const std::string& path, Config& config);
// Applies NORREG_* environment variables (NORREG_DATA, NORREG_LISTEN, NORREG_DEMO_PERSONS, ...).
Status ApplyEnvironment(Config& config);
// Checks ranges and formats (listen must be HOST:PORT, ...).
Status Validate(const Config& config);

}  // namespace norreg::cli
