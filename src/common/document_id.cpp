#include "common/document_id.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <stdexcept>

#include "common/ids.hpp"

namespace norreg::ids {
namespace {

// Fetched once (OpenSSL 3 explicit fetch: EVP_aes_128_ecb() would look the provider up on every
// init). Kept for the life of the process.
const EVP_CIPHER* Aes128Ecb() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  if (cipher == nullptr) throw std::runtime_error("OpenSSL: AES-128-ECB unavailable");
  return cipher;
}

std::atomic<uint64_t> next_cipher_id{1};

// EVP_CIPHER_CTX is not shareable between threads, and initialising one (the key schedule) costs
// more than encrypting a block. Each thread therefore keeps keyed contexts for the last few
// cipher instances it used. Ids are never reused, so a slot cannot be mistaken for another key.
class ThreadContexts {
 public:
  struct Slot {
    uint64_t owner = 0;
    EVP_CIPHER_CTX* enc = nullptr;
    EVP_CIPHER_CTX* dec = nullptr;
  };

  ThreadContexts() = default;
  ThreadContexts(const ThreadContexts&) = delete;
  ThreadContexts& operator=(const ThreadContexts&) = delete;
  ~ThreadContexts() {
    for (Slot& s : slots_) {
      EVP_CIPHER_CTX_free(s.enc);
      EVP_CIPHER_CTX_free(s.dec);
    }
  }

  Slot& Get(uint64_t owner, const DocumentIdCipher::Key& key) {
    for (Slot& s : slots_) {
      if (s.owner == owner) return s;
    }
    Slot& s = slots_[next_];
    next_ = (next_ + 1) % slots_.size();
    s.owner = 0;
    if (s.enc == nullptr) s.enc = EVP_CIPHER_CTX_new();
    if (s.dec == nullptr) s.dec = EVP_CIPHER_CTX_new();
    if (s.enc == nullptr || s.dec == nullptr ||
        EVP_EncryptInit_ex2(s.enc, Aes128Ecb(), key.data(), nullptr, nullptr) != 1 ||
        EVP_DecryptInit_ex2(s.dec, Aes128Ecb(), key.data(), nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(s.enc, 0) != 1 || EVP_CIPHER_CTX_set_padding(s.dec, 0) != 1) {
      throw std::runtime_error("OpenSSL: AES context initialisation failed");
    }
    s.owner = owner;
    return s;
  }

 private:
  std::array<Slot, 4> slots_;
  size_t next_ = 0;
};

ThreadContexts::Slot& Contexts(uint64_t owner, const DocumentIdCipher::Key& key) {
  thread_local ThreadContexts contexts;
  return contexts.Get(owner, key);
}

void AesBlock(EVP_CIPHER_CTX* ctx, const uint8_t* in, uint8_t* out, bool encrypt) {
  int len = 0;
  const int ok = encrypt ? EVP_EncryptUpdate(ctx, out, &len, in, 16)
                         : EVP_DecryptUpdate(ctx, out, &len, in, 16);
  if (ok != 1 || len != 16) throw std::runtime_error("OpenSSL: AES block operation failed");
}

}  // namespace

DocumentIdCipher::DocumentIdCipher(const Key& key)
    : key_(key), id_(next_cipher_id.fetch_add(1, std::memory_order_relaxed)) {}

Result<DocumentIdCipher> DocumentIdCipher::FromHex(std::string_view hex_key) {
  const auto key = ParseHex32(hex_key);
  if (!key) {
    return MakeError(ErrorCode::kInvalidInput, "ugyldig nøkkel for dokumentidentifikator",
                     "document id key must be 32 lowercase hex characters");
  }
  return DocumentIdCipher(*key);
}

DocumentIdCipher::Key DocumentIdCipher::NewKey() {
  Key key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return key;
}

std::array<uint8_t, 16> DocumentIdCipher::EncodeBytes(DocumentKind kind, uint64_t seq) const {
  std::array<uint8_t, 16> plain{};
  plain[0] = static_cast<uint8_t>(kind);
  for (int i = 0; i < 8; ++i) plain[15 - i] = static_cast<uint8_t>(seq >> (8 * i));
  std::array<uint8_t, 16> cipher{};
  AesBlock(Contexts(id_, key_).enc, plain.data(), cipher.data(), true);
  return cipher;
}

std::string DocumentIdCipher::Encode(DocumentKind kind, uint64_t seq) const {
  std::string out;
  out.reserve(32);
  AppendEncoded(out, kind, seq);
  return out;
}

void DocumentIdCipher::AppendEncoded(std::string& out, DocumentKind kind, uint64_t seq) const {
  AppendHex32(out, EncodeBytes(kind, seq));
}

std::optional<uint64_t> DocumentIdCipher::DecodeBytes(DocumentKind kind,
                                                      const std::array<uint8_t, 16>& bytes) const {
  std::array<uint8_t, 16> plain{};
  AesBlock(Contexts(id_, key_).dec, bytes.data(), plain.data(), false);
  if (plain[0] != static_cast<uint8_t>(kind)) return std::nullopt;
  for (int i = 1; i < 8; ++i) {
    if (plain[i] != 0) return std::nullopt;
  }
  uint64_t seq = 0;
  for (int i = 8; i < 16; ++i) seq = seq << 8 | plain[i];
  return seq;
}

std::optional<uint64_t> DocumentIdCipher::Decode(DocumentKind kind, std::string_view hex) const {
  const auto bytes = ParseHex32(hex);
  if (!bytes) return std::nullopt;
  return DecodeBytes(kind, *bytes);
}

}  // namespace norreg::ids
