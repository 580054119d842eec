#pragma once
// Where the built-in authorisation server keeps its state: its signing keys and the jti values of
// the grants it accepted. Two implementations each: files/memory here (one node, the default) and
// PostgreSQL in store/postgres/auth_stores.hpp (several nodes sharing one database, `--db`), so
// the auth library knows nothing of libpq.
//
// Thread-safety: every implementation's methods are thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace norreg::auth {

// One signing key as stored: its kid (the JWK thumbprint of its public key) and the private key
// as PKCS#8 PEM.
struct StoredSigningKey {
  std::string kid;
  std::string private_pem;
};

class SigningKeyStore {
 public:
  virtual ~SigningKeyStore() = default;
  // The stored keys, newest first: [0] the current key, [1] the previous one when there is one.
  // Empty when no key has been made yet. kInvalidInput when a stored key is unreadable (never
  // replaced silently); kInternal when the store cannot be read.
  virtual Result<std::vector<StoredSigningKey>> Load() = 0;
  // Stores `key` as the first key unless there is a key already, in which case nothing changes
  // (several nodes starting at once each offer one; the first stored wins and all Load() it).
  virtual Status CreateFirst(const StoredSigningKey& key) = 0;
  // Makes `key` the current key; the current one becomes the previous one, older ones are
  // dropped. Crash-safe: afterwards, or after a crash part-way, Load() returns usable keys.
  virtual Status Rotate(const StoredSigningKey& key) = 0;
  // Where the keys are, for messages ("<dir>/signing", "PostgreSQL (--db)"; never a password).
  virtual std::string Describe() const = 0;
};

// The keys in <dir>/signing/current.pem and previous.pem (0600, folder 0700; created when
// missing), written atomically: previous.pem before current.pem on rotation. A previous.pem equal
// to current.pem (a rotation interrupted between its renames) loads as no previous key.
Result<std::unique_ptr<SigningKeyStore>> OpenFileSigningKeyStore(const std::string& dir);

// (client_id, jti) of accepted grants, each remembered until its assertion's exp: an assertion
// is refused after its exp anyway, so an entry may be forgotten from then on.
class ReplayStore {
 public:
  enum class Outcome {
    kFresh,   // not seen (or seen with an exp <= now): remembered now with `exp`
    kReplay,  // seen with an exp > now: refuse the grant
    kFull,    // cannot remember more now (the store's bound, in all or for this client):
              // refuse, try again later
  };
  // Unexpired entries one client may have at most: one client that signs assertions without
  // end cannot fill the store for the others. At 120-s assertions that is 166 grants a second,
  // kept up, from one client; a client that caches its tokens makes one a minute or so.
  static constexpr std::size_t kMaxPerClient = 20'000;
  virtual ~ReplayStore() = default;
  // Remembers (client_id, jti) until `exp` unless it is remembered with an exp after `now`.
  // Exactly one of concurrent calls with the same pair gets kFresh (also across the nodes of a
  // shared store). kInternal when the store cannot be reached (the grant is then refused).
  virtual Result<Outcome> Remember(std::string_view client_id, std::string_view jti, int64_t exp,
                                   int64_t now) = 0;
};

// One process's replay store in memory: at most `max_entries` unexpired entries, and
// `max_per_client` of one client (kFull beyond), expired ones purged every 1024 inserts and when
// full.
std::unique_ptr<ReplayStore> MakeMemoryReplayStore(
    std::size_t max_entries = 1'000'000, std::size_t max_per_client = ReplayStore::kMaxPerClient);

}  // namespace norreg::auth
