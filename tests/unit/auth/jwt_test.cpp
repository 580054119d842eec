#include "auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

namespace norreg::auth {
namespace {

// Key generation is slow: one pair of keys for the whole file.
const RsaKey& KeyA() {
  static const RsaKey key = RsaKey::Generate(2048).value();
  return key;
}
const RsaKey& KeyB() {
  static const RsaKey key = RsaKey::Generate(2048).value();
  return key;
}

std::string B64(std::string_view s) { return Base64UrlEncode(s); }

TEST(Base64UrlTest, RoundTripsAllLengths) {
  std::string bytes;
  for (int len = 0; len < 70; ++len) {
    std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << len;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(len * 37 + 251));
  }
}

TEST(Base64UrlTest, KnownVectors) {
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8").value(), "\xfb\xff");
}

TEST(Base64UrlTest, RejectsNonCanonicalText) {
  for (const char* bad : {"Zg==", "Zg=", "Z", "Zm9vY", "Zm 9v", "Zm+v", "Zm/v", "Zm9v\n", "Zh",
                          "Zm9", "Zm8\x01", "\xc3\xa5"}) {
    // "Zh" and "Zm9" carry non-zero unused bits ("f" is "Zg", "fo" is "Zm8"); the rest use
    // characters outside the alphabet or have length 1 (mod 4).
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
  EXPECT_TRUE(Base64UrlDecode("").has_value());
}

TEST(JwsAlgTest, ParsesOnlyTheRsFamily) {
  EXPECT_EQ(ParseAlg("RS256"), JwsAlg::kRs256);
  EXPECT_EQ(ParseAlg("RS384"), JwsAlg::kRs384);
  EXPECT_EQ(ParseAlg("RS512"), JwsAlg::kRs512);
  for (const char* bad : {"none", "HS256", "ES256", "PS256", "rs256", "RS256 ", ""}) {
    EXPECT_FALSE(ParseAlg(bad).has_value()) << bad;
  }
  EXPECT_EQ(AlgName(JwsAlg::kRs384), "RS384");
}

TEST(RsaKeyTest, GeneratedKeyHasPrivatePartAndPemRoundTrips) {
  const RsaKey& key = KeyA();
  EXPECT_TRUE(key.has_private());
  EXPECT_EQ(key.bits(), 2048);
  auto from_private = RsaKey::FromPem(key.PrivatePem());
  ASSERT_TRUE(from_private.ok()) << from_private.error().detail;
  EXPECT_TRUE(from_private->has_private());
  EXPECT_TRUE(from_private->SamePublicKey(key));
  auto from_public = RsaKey::FromPem(key.PublicPem());
  ASSERT_TRUE(from_public.ok()) << from_public.error().detail;
  EXPECT_FALSE(from_public->has_private());
  EXPECT_EQ(from_public->PrivatePem(), "");
  EXPECT_TRUE(from_public->SamePublicKey(key));
  EXPECT_FALSE(from_public->SamePublicKey(KeyB()));
}

TEST(RsaKeyTest, RejectsSmallAndForeignKeys) {
  EXPECT_FALSE(RsaKey::Generate(1024).ok());
  EXPECT_EQ(RsaKey::FromPem("not a pem").error().code, ErrorCode::kInvalidInput);
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  // An EC public key in SPKI PEM.
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, ec), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  EXPECT_EQ(RsaKey::FromPem(pem).error().code, ErrorCode::kInvalidInput);
  // A 1024-bit RSA key read from PEM.
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  ASSERT_NE(small, nullptr);
  bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, small), 1);
  len = BIO_get_mem_data(bio, &data);
  pem.assign(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(small);
  EXPECT_EQ(RsaKey::FromPem(pem).error().code, ErrorCode::kInvalidInput);
}

TEST(RsaKeyTest, JwkRoundTripAndThumbprint) {
  const RsaKey& key = KeyA();
  EXPECT_EQ(key.E(), "AQAB");
  auto from_jwk = RsaKey::FromJwk(key.N(), key.E());
  ASSERT_TRUE(from_jwk.ok()) << from_jwk.error().detail;
  EXPECT_TRUE(from_jwk->SamePublicKey(key));
  EXPECT_FALSE(from_jwk->has_private());
  EXPECT_EQ(from_jwk->Thumbprint(), key.Thumbprint());
  EXPECT_NE(key.Thumbprint(), KeyB().Thumbprint());
  EXPECT_EQ(key.Thumbprint().size(), 43u);  // 32 bytes base64url

  std::string jwk = key.PublicJwkJson("k1", JwsAlg::kRs512);
  EXPECT_NE(jwk.find("\"kid\":\"k1\""), std::string::npos) << jwk;
  EXPECT_NE(jwk.find("\"alg\":\"RS512\""), std::string::npos) << jwk;
  EXPECT_NE(jwk.find("\"n\":\"" + key.N() + "\""), std::string::npos);
  EXPECT_EQ(jwk.find("\"d\""), std::string::npos);
}

TEST(RsaKeyTest, Rfc7638ThumbprintVector) {
  // RFC 7638 §3.1 example key and thumbprint.
  const std::string n =
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
      "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
      "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
      "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
  auto key = RsaKey::FromJwk(n, "AQAB");
  ASSERT_TRUE(key.ok()) << key.error().detail;
  EXPECT_EQ(key->Thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(RsaKeyTest, FromJwkRejectsMalformed) {
  const RsaKey& key = KeyA();
  const std::string n = key.N();
  struct Case {
    std::string n, e;
  };
  for (const Case& c : std::vector<Case>{{"", "AQAB"},
                                         {n, ""},
                                         {n + "=", "AQAB"},
                                         {n, "AQ=="},
                                         {"AQAB", "AQAB"},            // 24-bit modulus
                                         {n.substr(0, 170), "AQAB"},  // ~1020 bits
                                         {n, "Ag"},                   // even exponent
                                         {n, "AQ"},                   // e = 1
                                         {n, "AQABAQABAQABAQAB"}}) {  // 12-byte exponent
    EXPECT_FALSE(RsaKey::FromJwk(c.n, c.e).ok()) << c.n.substr(0, 10) << " " << c.e;
  }
}

TEST(RsaKeyTest, FromX509Der64ReadsCertificateKey) {
  // A self-signed certificate for KeyA, made here with OpenSSL.
  X509* cert = X509_new();
  ASSERT_NE(cert, nullptr);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, KeyA().get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  ASSERT_GT(X509_sign(cert, KeyA().get(), EVP_sha256()), 0);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  ASSERT_GT(len, 0);
  std::string der_bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  X509_free(cert);

  // Standard base64 with padding, as x5c carries it.
  std::string b64(static_cast<std::size_t>(4 * ((der_bytes.size() + 2) / 3)) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                          reinterpret_cast<const unsigned char*>(der_bytes.data()),
                          static_cast<int>(der_bytes.size()));
  b64.resize(static_cast<std::size_t>(n));
  auto key = RsaKey::FromX509Der64(b64);
  ASSERT_TRUE(key.ok()) << key.error().detail;
  EXPECT_TRUE(key->SamePublicKey(KeyA()));
  EXPECT_FALSE(key->has_private());

  EXPECT_FALSE(RsaKey::FromX509Der64("").ok());
  EXPECT_FALSE(RsaKey::FromX509Der64("not base64!").ok());
  EXPECT_FALSE(RsaKey::FromX509Der64(Base64UrlEncode("garbage")).ok());
  EXPECT_FALSE(RsaKey::FromX509Der64(b64.substr(0, b64.size() / 2)).ok());
}

TEST(SignJwtTest, RoundTripsEveryAlgorithm) {
  for (JwsAlg alg : {JwsAlg::kRs256, JwsAlg::kRs384, JwsAlg::kRs512}) {
    const std::string payload = R"({"iss":"https://test.maskinporten.no/","exp":1})";
    auto token = SignJwt(KeyA(), alg, "kid-1", payload, "at+jwt");
    ASSERT_TRUE(token.ok()) << token.error().detail;
    auto parsed = ParseJwt(*token);
    ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
    EXPECT_EQ(parsed->alg, alg);
    EXPECT_EQ(parsed->kid, "kid-1");
    EXPECT_EQ(parsed->payload_json, payload);
    EXPECT_EQ(parsed->signature.size(), 256u);
    EXPECT_EQ(parsed->signing_input, token->substr(0, token->rfind('.')));
    EXPECT_NE(parsed->header_json.find("\"typ\":\"at+jwt\""), std::string::npos);
    EXPECT_TRUE(VerifySignature(KeyA(), alg, parsed->signing_input, parsed->signature));
    EXPECT_FALSE(VerifySignature(KeyB(), alg, parsed->signing_input, parsed->signature));
    // Another algorithm of the family over the same bytes does not verify.
    JwsAlg other = alg == JwsAlg::kRs256 ? JwsAlg::kRs512 : JwsAlg::kRs256;
    EXPECT_FALSE(VerifySignature(KeyA(), other, parsed->signing_input, parsed->signature));
    std::string tampered = parsed->signing_input;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifySignature(KeyA(), alg, tampered, parsed->signature));
  }
}

TEST(SignJwtTest, OmitsEmptyKidAndTypAndRefusesPublicKeys) {
  auto token = SignJwt(KeyA(), JwsAlg::kRs256, "", "{}");
  ASSERT_TRUE(token.ok());
  auto parsed = ParseJwt(*token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header_json, R"({"alg":"RS256"})");
  EXPECT_EQ(parsed->kid, "");
  auto pub = RsaKey::FromPem(KeyA().PublicPem()).value();
  EXPECT_EQ(SignJwt(pub, JwsAlg::kRs256, "k", "{}").error().code, ErrorCode::kInvalidInput);
}

TEST(SignJwtTest, EscapesKidInHeader) {
  auto token = SignJwt(KeyA(), JwsAlg::kRs256, "a\"b", "{}");
  ASSERT_TRUE(token.ok());
  auto parsed = ParseJwt(*token);
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  EXPECT_EQ(parsed->kid, "a\"b");
}

// More (key, alg) pairs than the per-thread verify contexts: slots are replaced and reused,
// and a context never verifies for another key.
TEST(VerifySignatureTest, ManyKeysAndAlgorithmsInTurn) {
  static const RsaKey key_c = RsaKey::Generate(2048).value();
  const std::vector<const RsaKey*> keys = {&KeyA(), &KeyB(), &key_c};
  const std::vector<JwsAlg> algs = {JwsAlg::kRs256, JwsAlg::kRs384, JwsAlg::kRs512};
  for (int round = 0; round < 3; ++round) {
    for (std::size_t k = 0; k < keys.size(); ++k) {
      for (JwsAlg alg : algs) {
        auto parsed = ParseJwt(SignJwt(*keys[k], alg, "k", "{}").value()).value();
        EXPECT_TRUE(VerifySignature(*keys[k], alg, parsed.signing_input, parsed.signature));
        const RsaKey& other = *keys[(k + 1) % keys.size()];
        EXPECT_FALSE(VerifySignature(other, alg, parsed.signing_input, parsed.signature));
      }
    }
  }
}

TEST(VerifySignatureTest, RejectsEmptyAndTruncatedSignatures) {
  auto token = SignJwt(KeyA(), JwsAlg::kRs256, "k", "{}").value();
  auto parsed = ParseJwt(token).value();
  EXPECT_FALSE(VerifySignature(KeyA(), JwsAlg::kRs256, parsed.signing_input, ""));
  EXPECT_FALSE(
      VerifySignature(KeyA(), JwsAlg::kRs256, parsed.signing_input, parsed.signature.substr(1)));
}

// A token with hand-made header and payload JSON and a real signature by KeyA (RS256).
std::string Forge(std::string_view header_json, std::string_view payload_json) {
  std::string input = B64(header_json) + "." + B64(payload_json);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, KeyA().get());
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  return input + "." + B64(sig);
}

TEST(ParseJwtTest, AcceptsForgedWellFormedToken) {
  auto parsed = ParseJwt(Forge(R"({"alg":"RS256","kid":"k","x5c":["AAAA","BBBB"]})", "{}"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  EXPECT_EQ(parsed->x5c_leaf, "AAAA");
  EXPECT_TRUE(VerifySignature(KeyA(), parsed->alg, parsed->signing_input, parsed->signature));
}

TEST(ParseJwtTest, RefusesMalformedTokens) {
  const std::string good = SignJwt(KeyA(), JwsAlg::kRs256, "k", "{}").value();
  const std::string sig = good.substr(good.rfind('.') + 1);
  const std::string payload = B64("{}");
  struct Case {
    std::string name;
    std::string token;
    std::string detail;  // substring of the expected detail
  };
  const std::vector<Case> cases = {
      {"empty", "", "empty"},
      {"garbage", "Basic dXNlcjpwYXNz", "three"},
      {"two parts", B64(R"({"alg":"RS256"})") + "." + payload, "three"},
      {"four parts", good + "." + sig, "three"},
      {"alg none unsigned", B64(R"({"alg":"none"})") + "." + payload + ".", "signature"},
      {"alg none with signature", B64(R"({"alg":"none"})") + "." + payload + "." + sig,
       "alg none not allowed"},
      {"alg HS256", B64(R"({"alg":"HS256"})") + "." + payload + "." + sig, "alg HS256 not allowed"},
      {"alg ES256", B64(R"({"alg":"ES256"})") + "." + payload + "." + sig, "not allowed"},
      {"alg lower case", B64(R"({"alg":"rs256"})") + "." + payload + "." + sig, "not allowed"},
      {"alg missing", B64(R"({"kid":"k"})") + "." + payload + "." + sig, "alg missing"},
      {"alg not string", B64(R"({"alg":256})") + "." + payload + "." + sig, "alg"},
      {"crit", B64(R"({"alg":"RS256","crit":["exp"]})") + "." + payload + "." + sig, "crit"},
      {"kid number", B64(R"({"alg":"RS256","kid":1})") + "." + payload + "." + sig, "kid"},
      {"typ object", B64(R"({"alg":"RS256","typ":{}})") + "." + payload + "." + sig, "typ"},
      {"x5c string", B64(R"({"alg":"RS256","x5c":"AAAA"})") + "." + payload + "." + sig, "x5c"},
      {"header array", B64(R"(["alg","RS256"])") + "." + payload + "." + sig, "header"},
      {"header not json", B64(R"({"alg":"RS256")") + "." + payload + "." + sig, "header"},
      {"payload array", B64(R"({"alg":"RS256"})") + "." + B64("[1]") + "." + sig, "payload"},
      {"payload string", B64(R"({"alg":"RS256"})") + "." + B64("\"x\"") + "." + sig, "payload"},
      {"payload trailing", B64(R"({"alg":"RS256"})") + "." + B64("{}x") + "." + sig, "payload"},
      {"payload deep", B64(R"({"alg":"RS256"})") + "." + B64(std::string(40, '[')) + "." + sig,
       "payload"},
      {"header padded", B64(R"({"alg":"RS256"})") + "=." + payload + "." + sig, "base64url"},
      {"payload std alphabet", B64(R"({"alg":"RS256"})") + ".e30+." + sig, "base64url"},
      {"signature bad char", good.substr(0, good.rfind('.') + 1) + "a*b", "base64url"},
      {"empty header", "." + payload + "." + sig, "empty"},
      {"empty signature", good.substr(0, good.rfind('.') + 1), "signature"},
      {"oversize",
       B64(R"({"alg":"RS256"})") + "." + B64(std::string(kMaxJwtBytes, ' ') + "{}") + "." + sig,
       "exceeds"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseJwt(c.token);
    ASSERT_FALSE(parsed.ok()) << c.name;
    EXPECT_EQ(parsed.error().code, ErrorCode::kUnauthenticated) << c.name;
    EXPECT_NE(parsed.error().detail.find(c.detail), std::string::npos)
        << c.name << ": " << parsed.error().detail;
  }
}

TEST(ParseJwtTest, HonoursMaxBytes) {
  const std::string good = SignJwt(KeyA(), JwsAlg::kRs256, "k", "{}").value();
  EXPECT_TRUE(ParseJwt(good, good.size()).ok());
  EXPECT_FALSE(ParseJwt(good, good.size() - 1).ok());
}

}  // namespace
}  // namespace norreg::auth
