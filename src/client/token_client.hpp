#pragma once
// Maskinporten access tokens for a client (SPEC 4): the RFC 7523 JWT grant, an in-memory cache
// and an optional file cache shared between processes (so repeated `norreg` invocations reuse one
// token instead of asking for a new one each time).
//
// The grant: POST <token_endpoint> with form
//   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>
// where the assertion is signed RS256 with header `kid` and has the claims
//   aud = issuer, iss = client_id, scope, iat = now, exp = now + 60, jti = fresh UUID,
//   consumer_org (only when acting for another organisation).
// The answer {"access_token","token_type","expires_in","scope"} is cached until
// now + expires_in; a token is handed out while more than `refresh_margin` of it is left.
//
// Thread-safety: TokenClient is thread-safe. Cached tokens are returned without waiting for a
// request in flight; requests to the token endpoint are made one at a time (a second caller
// waiting for the same scope gets the token the first one fetched).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "client/http_client.hpp"
#include "common/result.hpp"

namespace norreg::client {

inline constexpr std::string_view kJwtBearerGrantType =
    "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct TokenClientOptions {
  // The authorisation server's issuer, exact (with trailing '/'): the grant's `aud`,
  // e.g. "http://127.0.0.1:8080/" or "https://test.maskinporten.no/". Required.
  std::string issuer;
  // "" = issuer + "token".
  std::string token_endpoint;
  // The registered client (the assertion's `iss`). Required.
  std::string client_id;
  // The registered key id, sent as the assertion header `kid`. "" = the key's RFC 7638 thumbprint.
  std::string kid;
  // The client's private key. Required. (std::optional only because RsaKey has no empty state.)
  std::optional<auth::RsaKey> key;
  // Used as `consumer_org` when Token() is called without one ("" = act for the client's own
  // organisation). Set by DemoTokenClientOptions when the demo client is a supplier.
  std::string consumer_org;
  // JSON file shared by processes, mode 0600, written atomically; "" = no file cache.
  std::string cache_file;
  // A cached token is renewed when less than this is left. Default 15 s.
  std::chrono::seconds refresh_margin{15};
  // Lifetime of the assertion (exp - iat). Default 60 s (Maskinporten allows at most 120 s).
  std::chrono::seconds assertion_lifetime{60};
  // Transport settings of the token requests.
  HttpClientOptions http;
};

class TokenClient {
 public:
  explicit TokenClient(TokenClientOptions options);
  ~TokenClient();
  TokenClient(const TokenClient&) = delete;
  TokenClient& operator=(const TokenClient&) = delete;

  // An access token for `scope` (space-separated scopes allowed), acting for `consumer_org`
  // ("0192:NNN" or "NNN"; "" = options.consumer_org). Returns a cached token while it has more
  // than refresh_margin left, else asks the token endpoint. Errors:
  //   kInvalidInput    - empty scope, or options lacking issuer/client_id/private key;
  //   kUnauthenticated - the endpoint refused the grant (400/401); the message holds the OAuth
  //                      `error` and `error_description`;
  //   kRateLimited     - the endpoint answered 429;
  //   kInternal        - transport failure (IsTransportError true), another status, or an
  //                      answer that is not a token.
  Result<std::string> Token(std::string_view scope, std::string_view consumer_org = "");

  // Forgets the cached token for (scope, consumer_org) in memory and in the file cache, e.g.
  // after a resource server refused it with 401.
  void Invalidate(std::string_view scope, std::string_view consumer_org = "");

  // How many times the token endpoint was asked (for tests and metrics).
  uint64_t requests_made() const;

  const TokenClientOptions& options() const { return options_; }

 private:
  struct Cached {
    std::string token;
    int64_t exp = 0;  // seconds since the epoch
  };
  std::string CacheKey(std::string_view scope, std::string_view consumer_org) const;
  std::optional<Cached> FromMemory(const std::string& key, int64_t now) const;
  Result<Cached> Fetch(std::string_view scope, std::string_view consumer_org);

  TokenClientOptions options_;
  std::string key_thumbprint_;
  mutable std::mutex cache_mutex_;        // guards memory_
  std::map<std::string, Cached> memory_;  // CacheKey -> token
  std::mutex fetch_mutex_;                // one token request at a time; guards http_
  std::unique_ptr<HttpClient> http_;      // created on first request
  uint64_t requests_made_ = 0;            // guarded by cache_mutex_
};

// The form body of one RFC 7523 grant (SPEC 4): grant_type + an RS256 assertion with header kid
// and claims aud = options.issuer, iss = client_id, scope, iat, exp = iat + assertion_lifetime, a
// fresh jti, and consumer_org when non-empty. kInvalidInput without a private key.
Result<std::string> MakeGrantForm(const TokenClientOptions& options, std::string_view scope,
                                  std::string_view consumer_org, int64_t iat);

// Zero-configuration options for the built-in development authorisation server and its demo
// clients (auth::EnsureDemoClients), from the data folder `data_dir`:
//   - issuer/token_endpoint from <data>/auth/server.json (written by `norreg serve`), or from
//     `url` when non-empty (the issuer/base URL; a trailing '/' is added when missing);
//   - the client from <data>/auth/clients.json: with `org` ("0192:NNN" or "NNN") the client whose
//     orgnr is `org` and which allows `scope`, else a client that may act for `org` (its
//     consumer_orgs) and allows `scope` (options.consumer_org is then `org`); without `org` the
//     first client allowing `scope`. Its private key from <data>/auth/clients/<id>.pem;
//   - cache_file = <data>/auth/token-cache.json.
// Errors: kInvalidInput for a malformed org or empty scope; kNotFound when server.json (and no
// `url`), the registry or the key is missing, or no client fits ("no demo client for org X with
// scope Y; known: ...").
Result<TokenClientOptions> DemoTokenClientOptions(const std::string& data_dir,
                                                  std::string_view scope, std::string_view org,
                                                  std::string_view url);

// "0192:NNN" or "NNN" -> "NNN" when NNN is a valid organisasjonsnummer; nullopt otherwise.
std::optional<std::string> NormalizeOrg(std::string_view org);

}  // namespace norreg::client
