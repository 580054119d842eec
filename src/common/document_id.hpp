#pragma once
// dokumentidentifikator without an index: the 32-hex id of a person or event document is the
// AES-128 encryption (one block, ECB) of
//   [kind byte][7 zero bytes][sekvensnummer, 8 bytes big-endian]
// under a 16-byte register key. Decoding decrypts and checks the kind byte and the zero padding,
// so an id that was not made by this key and kind (random, garbled, another register) decodes to
// nullopt with probability 1 − 2^-64, and ids look random and reveal nothing about the sequence.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace norreg::ids {

// Stored in every id: append only, never renumber.
enum class DocumentKind : uint8_t { kPerson = 1, kEvent = 2 };

// Thread-safe: any number of threads may call Encode/Decode on one instance at once. The AES key
// schedule is made once per thread and instance (thread_local OpenSSL contexts, a few per thread),
// so a call costs one AES block and hex conversion and allocates nothing beyond its output.
// Copies share the key and the per-thread contexts.
class DocumentIdCipher {
 public:
  using Key = std::array<uint8_t, 16>;

  explicit DocumentIdCipher(const Key& key);
  // Key from 32 lowercase hex characters (configuration); kInvalidInput when malformed.
  static Result<DocumentIdCipher> FromHex(std::string_view hex_key);
  // A fresh random key (OpenSSL RAND_bytes). Throws std::runtime_error if the random source fails.
  static Key NewKey();

  // 32 lowercase hex characters.
  std::string Encode(DocumentKind kind, uint64_t seq) const;
  // Appends the same 32 characters to `out` (hot path: no allocation beyond `out`).
  void AppendEncoded(std::string& out, DocumentKind kind, uint64_t seq) const;
  // The encrypted 16 bytes (for binary storage); ToHex32 of it equals Encode.
  std::array<uint8_t, 16> EncodeBytes(DocumentKind kind, uint64_t seq) const;

  // The sekvensnummer of `hex`, or nullopt when `hex` is not 32 lowercase hex characters, was made
  // for another kind, or its padding is not zero (unknown id). Never fails otherwise.
  std::optional<uint64_t> Decode(DocumentKind kind, std::string_view hex) const;
  std::optional<uint64_t> DecodeBytes(DocumentKind kind,
                                      const std::array<uint8_t, 16>& bytes) const;

  const Key& key() const { return key_; }

 private:
  Key key_;
  uint64_t id_;  // identifies this key in the per-thread context cache
};

}  // namespace norreg::ids
