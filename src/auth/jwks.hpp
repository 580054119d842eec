#pragma once
// A JWKS (RFC 7517 key set) of one issuer, cached by `kid`, loaded from a file, a URL or an
// in-process provider, and refreshed when a token names an unknown `kid` — at most once per
// `min_refresh_interval`, so garbage kids cannot make the server hammer the issuer — and when the
// keys are older than `max_age`, so that a key the issuer withdrew stops being trusted: the first
// lookup past it refreshes (the others meanwhile go on with the keys they have).
//
// Only RSA keys ("kty":"RSA" with n/e, `use` absent or "sig") of >= 2048 bits are kept; others are
// skipped. A refresh that fails keeps the previous keys.
//
// Thread-safety: Find is thread-safe (readers share a snapshot; one refresher at a time).
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.hpp"
#include "common/result.hpp"

namespace norreg::auth {

// Returns the JWKS JSON text of its source, or an error (kept for the log).
using JwksFetcher = std::function<Result<std::string>()>;

// Parses a JWKS document {"keys":[...]} into (kid, key) pairs. kInvalidInput when the text is not
// such a document; keys that are not usable RSA signing keys are skipped.
Result<std::vector<std::pair<std::string, RsaKey>>> ParseJwks(std::string_view json);

class JwksCache {
 public:
  // `fetch` is called on first use and on refresh. Defaults: 60 s between refreshes at most,
  // keys refreshed when older than 5 minutes.
  explicit JwksCache(JwksFetcher fetch,
                     std::chrono::milliseconds min_refresh_interval = std::chrono::seconds(60),
                     std::chrono::milliseconds max_age = std::chrono::minutes(5));
  // A fetcher reading a JWKS file (re-read on refresh).
  static JwksFetcher FileFetcher(std::string path);

  // The key with this kid, refreshing once (rate limited) when it is not known. nullptr when
  // still unknown.
  std::shared_ptr<const RsaKey> Find(std::string_view kid);
  // Forces a refresh now (ignores the interval). Error when the fetch or parse fails.
  Status Refresh();
  std::size_t key_count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace norreg::auth
