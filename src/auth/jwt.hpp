#pragma once
// JSON Web Tokens with RSA signatures (RFC 7515/7517/7519/7638), on OpenSSL 3 EVP directly.
// Only the RS family (RS256/RS384/RS512) exists here: `none`, HMAC and every other algorithm are
// refused when a token is parsed, so no key/algorithm confusion is possible.
//
// Thread-safety: RsaKey is an immutable, shared handle (copies share one EVP_PKEY) and may be used
// from any thread at once. All free functions are thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace norreg::auth {

// base64url without padding (RFC 7515 §2). Decode is strict: only the url alphabet, no '=', no
// whitespace, and a length that is not 1 (mod 4); nullopt otherwise.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

enum class JwsAlg { kRs256, kRs384, kRs512 };
// "RS256" -> kRs256 ...; nullopt for anything else ("none", "HS256", "ES256", "rs256").
std::optional<JwsAlg> ParseAlg(std::string_view name);
std::string_view AlgName(JwsAlg alg);

class RsaKey {
 public:
  // A fresh key pair (bits >= 2048). kInternal when OpenSSL fails.
  static Result<RsaKey> Generate(int bits = 2048);
  // A PEM private key (PKCS#8 or PKCS#1) or public key (SPKI); kInvalidInput when it is not an
  // RSA key of at least 2048 bits.
  static Result<RsaKey> FromPem(std::string_view pem);
  // A public key from the JWK members `n` and `e` (base64url); kInvalidInput when malformed or
  // smaller than 2048 bits.
  static Result<RsaKey> FromJwk(std::string_view n, std::string_view e);
  // The public key of the leaf certificate of an `x5c` entry (standard base64 DER);
  // kInvalidInput when it is not an RSA certificate.
  static Result<RsaKey> FromX509Der64(std::string_view der_base64);

  bool has_private() const;
  int bits() const;
  std::string PrivatePem() const;  // PKCS#8; "" when has_private() is false
  std::string PublicPem() const;   // SPKI
  std::string N() const;           // base64url modulus
  std::string E() const;           // base64url exponent
  // RFC 7638 thumbprint (SHA-256 over {"e","kty","n"}, base64url): a stable `kid`.
  std::string Thumbprint() const;
  // {"kty":"RSA","kid":"..","alg":"RS256","use":"sig","n":"..","e":".."}
  std::string PublicJwkJson(std::string_view kid, JwsAlg alg = JwsAlg::kRs256) const;
  // Same public key (n and e equal).
  bool SamePublicKey(const RsaKey& other) const;

  EVP_PKEY* get() const { return key_.get(); }

 private:
  explicit RsaKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

// Signs a compact JWS: header {"alg":..,"kid":..[,"typ":typ]} (kid omitted when empty, typ omitted
// when empty) + the payload JSON as given. kInvalidInput when the key has no private part.
Result<std::string> SignJwt(const RsaKey& key, JwsAlg alg, std::string_view kid,
                            std::string_view payload_json, std::string_view typ = {});

// A compact JWS split and decoded, not yet verified.
struct ParsedJwt {
  JwsAlg alg = JwsAlg::kRs256;
  std::string kid;          // "" when the header has none
  std::string x5c_leaf;     // first entry of header `x5c` (standard base64 DER), "" when none
  std::string header_json;  // decoded
  std::string payload_json; // decoded (a JSON object; checked)
  std::string signing_input;  // "<header b64>.<payload b64>" exactly as received
  std::string signature;      // decoded bytes
};

inline constexpr std::size_t kMaxJwtBytes = 16 * 1024;

// kUnauthenticated (message says what, for the log) when: longer than max_bytes, not three
// base64url parts, header/payload not JSON objects, `alg` missing or not RS256/RS384/RS512,
// `crit` present, `kid`/`typ` not strings. Never throws.
Result<ParsedJwt> ParseJwt(std::string_view token, std::size_t max_bytes = kMaxJwtBytes);

// True when `signature` is a valid `alg` signature of `signing_input` by `key`.
bool VerifySignature(const RsaKey& key, JwsAlg alg, std::string_view signing_input,
                     std::string_view signature);

}  // namespace norreg::auth
