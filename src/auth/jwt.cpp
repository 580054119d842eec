#include "auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <boost/json.hpp>
#include <cstring>
#include <exception>
#include <vector>

namespace norreg::auth {
namespace {

namespace json = boost::json;

// Keys larger than this are refused: OpenSSL itself refuses to verify with moduli above 16384
// bits, and a huge attacker-chosen key in a JWKS or x5c would make every verification slow.
constexpr int kMaxRsaBits = 16384;
constexpr int kMinRsaBits = 2048;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) { return {key, PkeyFree{}}; }

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

using DecodeTable = std::array<int8_t, 256>;

constexpr DecodeTable MakeTable(const char* alphabet) {
  DecodeTable t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr DecodeTable kUrlTable = MakeTable(kUrlAlphabet);
constexpr DecodeTable kStdTable = MakeTable(kStdAlphabet);

// Decodes unpadded base64 with `table`. Strict: every character from the alphabet, length not
// 1 (mod 4), and the unused low bits of the last character zero (one canonical text per value).
std::optional<std::string> DecodeUnpadded(std::string_view text, const DecodeTable& table) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Encode(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

// Standard base64 (x5c): padded to a multiple of 4, or unpadded.
std::optional<std::string> Base64StdDecode(std::string_view text) {
  if (!text.empty() && text.back() == '=') {
    if (text.size() % 4 != 0) return std::nullopt;
    text.remove_suffix(1);
    if (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 0) return std::nullopt;  // "====" style padding
  }
  return DecodeUnpadded(text, kStdTable);
}

// Digests fetched once: EVP_sha256() and friends would re-fetch the implementation on every
// EVP_DigestSignInit/VerifyInit call.
const EVP_MD* Digest(JwsAlg alg) {
  static const std::array<EVP_MD*, 3> kMds = {
      EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA384", nullptr),
      EVP_MD_fetch(nullptr, "SHA512", nullptr),
  };
  return kMds[static_cast<std::size_t>(alg)];
}

Error InvalidKey(std::string detail) {
  ERR_clear_error();
  return MakeError(ErrorCode::kInvalidInput, "Ugyldig RSA-nøkkel.", std::move(detail));
}

std::string BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (key == nullptr || EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    ERR_clear_error();
    return {};
  }
  BnPtr holder(bn);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  return Base64UrlEncode(bytes);
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

Error ParseError(std::string detail) {
  std::string message = "Ugyldig tilgangstoken: " + detail;
  return MakeError(ErrorCode::kUnauthenticated, std::move(message), std::move(detail));
}

// Small inputs only (the token is at most a few KB): a shallow depth limit keeps hostile nesting
// cheap.
json::parse_options ParseOptions() {
  json::parse_options opts;
  opts.max_depth = 16;
  return opts;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kUrlAlphabet, false); }

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return DecodeUnpadded(text, kUrlTable);
}

std::optional<JwsAlg> ParseAlg(std::string_view name) {
  if (name == "RS256") return JwsAlg::kRs256;
  if (name == "RS384") return JwsAlg::kRs384;
  if (name == "RS512") return JwsAlg::kRs512;
  return std::nullopt;
}

std::string_view AlgName(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kRs256:
      return "RS256";
    case JwsAlg::kRs384:
      return "RS384";
    case JwsAlg::kRs512:
      return "RS512";
  }
  return "RS256";
}

namespace {

// Takes ownership of `raw`; the shared key when it is an RSA key of an accepted size.
Result<std::shared_ptr<EVP_PKEY>> CheckRsa(EVP_PKEY* raw, std::string_view what) {
  PkeyPtr key(raw);
  if (!key) return InvalidKey(std::string(what) + ": not readable");
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) {
    return InvalidKey(std::string(what) + ": not an RSA key");
  }
  int bits = EVP_PKEY_get_bits(key.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return InvalidKey(std::string(what) + ": RSA key of " + std::to_string(bits) +
                      " bits (need 2048..16384)");
  }
  ERR_clear_error();
  return Share(key.release());
}

}  // namespace

Result<RsaKey> RsaKey::Generate(int bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return MakeError(ErrorCode::kInvalidInput, "Ugyldig nøkkellengde.",
                     "RSA key size " + std::to_string(bits) + " not in 2048..16384");
  }
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  if (raw == nullptr) {
    ERR_clear_error();
    return MakeError(ErrorCode::kInternal, "Intern feil.", "EVP_PKEY_Q_keygen failed");
  }
  return RsaKey(Share(raw));
}

Result<RsaKey> RsaKey::FromPem(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(1) << 20) return InvalidKey("PEM too large");
  const bool is_private = pem.find("PRIVATE KEY-----") != std::string_view::npos;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InvalidKey("BIO_new_mem_buf failed");
  EVP_PKEY* raw = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  auto checked = CheckRsa(raw, is_private ? "PEM private key" : "PEM public key");
  if (!checked) return checked.error();
  return RsaKey(std::move(checked.value()));
}

Result<RsaKey> RsaKey::FromJwk(std::string_view n, std::string_view e) {
  auto n_bytes = Base64UrlDecode(n);
  auto e_bytes = Base64UrlDecode(e);
  if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty()) {
    return InvalidKey("JWK n/e not base64url");
  }
  if (n_bytes->size() > kMaxRsaBits / 8 + 1 || e_bytes->size() > 8) {
    return InvalidKey("JWK n/e too large");
  }
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n_bytes->data()),
                       static_cast<int>(n_bytes->size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e_bytes->data()),
                       static_cast<int>(e_bytes->size()), nullptr));
  if (!bn_n || !bn_e) return InvalidKey("BN_bin2bn failed");
  // An even or tiny exponent is not an RSA public key.
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) return InvalidKey("JWK e is not valid");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return InvalidKey("OSSL_PARAM_BLD failed");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return InvalidKey("EVP_PKEY_fromdata_init failed");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return InvalidKey("EVP_PKEY_fromdata failed");
  }
  auto checked = CheckRsa(raw, "JWK");
  if (!checked) return checked.error();
  return RsaKey(std::move(checked.value()));
}

Result<RsaKey> RsaKey::FromX509Der64(std::string_view der_base64) {
  auto der = Base64StdDecode(der_base64);
  if (!der || der->empty()) return InvalidKey("x5c entry not base64");
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, static_cast<long>(der->size())));
  if (!cert) return InvalidKey("x5c entry not a DER certificate");
  if (p != reinterpret_cast<const unsigned char*>(der->data()) + der->size()) {
    return InvalidKey("x5c entry has trailing bytes");
  }
  auto checked = CheckRsa(X509_get_pubkey(cert.get()), "x5c certificate");
  if (!checked) return checked.error();
  return RsaKey(std::move(checked.value()));
}

bool RsaKey::has_private() const {
  BIGNUM* d = nullptr;
  if (key_ == nullptr || EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_D, &d) != 1) {
    ERR_clear_error();
    return false;
  }
  BN_clear_free(d);
  return true;
}

int RsaKey::bits() const { return key_ ? EVP_PKEY_get_bits(key_.get()) : 0; }

std::string RsaKey::PrivatePem() const {
  if (!has_private()) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return BioToString(bio.get());
}

std::string RsaKey::PublicPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!key_ || !bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    ERR_clear_error();
    return {};
  }
  return BioToString(bio.get());
}

std::string RsaKey::N() const { return BnParam(key_.get(), OSSL_PKEY_PARAM_RSA_N); }
std::string RsaKey::E() const { return BnParam(key_.get(), OSSL_PKEY_PARAM_RSA_E); }

std::string RsaKey::Thumbprint() const {
  // RFC 7638 §3.2: the required members in lexicographic order, no whitespace. n and e are
  // base64url, so they need no JSON escaping.
  std::string canonical = "{\"e\":\"" + E() + "\",\"kty\":\"RSA\",\"n\":\"" + N() + "\"}";
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(canonical.data(), canonical.size(), md.data(), &len, Digest(JwsAlg::kRs256),
                 nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

std::string RsaKey::PublicJwkJson(std::string_view kid, JwsAlg alg) const {
  json::object jwk;
  jwk["kty"] = "RSA";
  jwk["kid"] = kid;
  jwk["alg"] = AlgName(alg);
  jwk["use"] = "sig";
  jwk["n"] = N();
  jwk["e"] = E();
  return json::serialize(jwk);
}

bool RsaKey::SamePublicKey(const RsaKey& other) const {
  if (!key_ || !other.key_) return false;
  return N() == other.N() && E() == other.E();
}

Result<std::string> SignJwt(const RsaKey& key, JwsAlg alg, std::string_view kid,
                            std::string_view payload_json, std::string_view typ) {
  if (key.get() == nullptr || !key.has_private()) {
    return MakeError(ErrorCode::kInvalidInput, "Nøkkelen kan ikke signere.",
                     "SignJwt: key has no private part");
  }
  json::object header;
  header["alg"] = AlgName(alg);
  if (!kid.empty()) header["kid"] = kid;
  if (!typ.empty()) header["typ"] = typ;
  std::string token = Base64UrlEncode(json::serialize(header));
  token.push_back('.');
  token += Base64UrlEncode(payload_json);

  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, Digest(alg), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kInternal, "Intern feil.", "EVP_DigestSign (size) failed");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kInternal, "Intern feil.", "EVP_DigestSign failed");
  }
  sig.resize(sig_len);
  token.push_back('.');
  token += Base64UrlEncode(sig);
  return token;
}

namespace {

// EVP_DigestVerifyInit costs about as much as the RSA operation itself (it looks up the
// signature implementation and builds a provider context). Each thread keeps a few initialised
// contexts per (key, alg) and copies one per verification instead. A slot holds a reference on
// its EVP_PKEY, so the pointer used as the lookup key cannot be reused by another key meanwhile.
EVP_MD_CTX* VerifyTemplate(EVP_PKEY* key, JwsAlg alg) {
  struct Slot {
    PkeyPtr key;
    JwsAlg alg = JwsAlg::kRs256;
    MdCtxPtr ctx;
  };
  thread_local std::array<Slot, 8> slots;
  thread_local std::size_t next = 0;
  for (Slot& slot : slots) {
    if (slot.key.get() == key && slot.alg == alg) return slot.ctx.get();
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, Digest(alg), nullptr, key) != 1 ||
      EVP_PKEY_up_ref(key) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  Slot& slot = slots[next++ % slots.size()];
  slot.ctx.reset();
  slot.key.reset(key);
  slot.alg = alg;
  slot.ctx = std::move(ctx);
  return slot.ctx.get();
}

}  // namespace

bool VerifySignature(const RsaKey& key, JwsAlg alg, std::string_view signing_input,
                     std::string_view signature) {
  if (key.get() == nullptr || signature.empty()) return false;
  EVP_MD_CTX* tmpl = VerifyTemplate(key.get(), alg);
  thread_local MdCtxPtr work(EVP_MD_CTX_new());
  if (tmpl == nullptr || !work || EVP_MD_CTX_copy_ex(work.get(), tmpl) != 1) {
    ERR_clear_error();
    return false;
  }
  int rc = EVP_DigestVerify(
      work.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  if (rc != 1) ERR_clear_error();
  return rc == 1;
}

Result<ParsedJwt> ParseJwt(std::string_view token, std::size_t max_bytes) {
  try {
    if (token.empty()) return ParseError("empty token");
    if (token.size() > max_bytes) {
      return ParseError("token of " + std::to_string(token.size()) + " bytes exceeds " +
                        std::to_string(max_bytes));
    }
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
      return ParseError("not three dot-separated parts");
    }
    const std::string_view header_b64 = token.substr(0, dot1);
    const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view sig_b64 = token.substr(dot2 + 1);
    if (header_b64.empty() || payload_b64.empty()) return ParseError("empty header or payload");
    if (sig_b64.empty()) return ParseError("empty signature (unsigned token)");

    ParsedJwt out;
    auto header = Base64UrlDecode(header_b64);
    if (!header) return ParseError("header is not base64url");
    auto payload = Base64UrlDecode(payload_b64);
    if (!payload) return ParseError("payload is not base64url");
    auto sig = Base64UrlDecode(sig_b64);
    if (!sig) return ParseError("signature is not base64url");

    // Both JSON documents are small: parse into a stack buffer, spilling to the heap only for
    // unusually large tokens.
    std::array<unsigned char, 4096> buffer;
    const json::parse_options opts = ParseOptions();
    {
      json::monotonic_resource mr(buffer.data(), buffer.size());
      boost::system::error_code ec;
      json::value hv = json::parse(*header, ec, &mr, opts);
      if (ec || !hv.is_object()) return ParseError("header is not a JSON object");
      const json::object& h = hv.get_object();
      const json::value* alg = h.if_contains("alg");
      if (alg == nullptr) return ParseError("alg missing");
      if (!alg->is_string()) return ParseError("alg is not a string");
      const std::string_view alg_name(alg->get_string());
      auto parsed_alg = ParseAlg(alg_name);
      if (!parsed_alg)
        return ParseError("alg " + std::string(alg_name.substr(0, 32)) + " not allowed");
      out.alg = *parsed_alg;
      if (h.contains("crit")) return ParseError("crit header not supported");
      if (const json::value* kid = h.if_contains("kid")) {
        if (!kid->is_string()) return ParseError("kid is not a string");
        out.kid = std::string_view(kid->get_string());
      }
      if (const json::value* typ = h.if_contains("typ"); typ != nullptr && !typ->is_string()) {
        return ParseError("typ is not a string");
      }
      if (const json::value* x5c = h.if_contains("x5c")) {
        if (!x5c->is_array() || x5c->get_array().empty() || !x5c->get_array().front().is_string()) {
          return ParseError("x5c is not an array of strings");
        }
        out.x5c_leaf = std::string_view(x5c->get_array().front().get_string());
      }
    }
    {
      json::monotonic_resource mr(buffer.data(), buffer.size());
      boost::system::error_code ec;
      json::value pv = json::parse(*payload, ec, &mr, opts);
      if (ec || !pv.is_object()) return ParseError("payload is not a JSON object");
    }
    out.header_json = std::move(*header);
    out.payload_json = std::move(*payload);
    out.signing_input = std::string(token.substr(0, dot2));
    out.signature = std::move(*sig);
    return out;
  } catch (const std::exception& e) {
    return ParseError(std::string("parse failed: ") + e.what());
  }
}

}  // namespace norreg::auth
