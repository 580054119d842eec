#pragma once
// Clients registered with the built-in development authorisation server, and the demo clients
// created with the demo data so `norreg token` works with zero configuration.
//
// On disk (all under one folder, normally <data>/auth):
//   clients.json            {"clients":[{"client_id","orgnr","name","scopes":[...],
//                             "consumer_orgs":[...],"keys":[{"kid","public_key_pem"}]}]}
//   clients/<client_id>.pem the client's private key (mode 0600) — demo clients only; a real
//                           client keeps its key itself and only its public key is registered.
// `consumer_orgs` lists the organisations the client may act for as a supplier (the grant's
// `consumer_org`); empty means it may only act for its own orgnr.
//
// Thread-safety: a loaded ClientRegistry is immutable; Find may be called from any thread.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.hpp"
#include "common/files.hpp"
#include "common/result.hpp"

namespace norreg::auth {

inline constexpr std::string_view kFregScope = "folkeregister:deling/offentligmedhjemmel";
inline constexpr std::string_view kMottakScope = "brreg:mottak";
inline constexpr std::string_view kRegisterProducerScope = "norreg:register";
inline constexpr std::string_view kMottakProducerScope = "norreg:mottak";

struct ClientKey {
  std::string kid;
  RsaKey key;  // public (private part unused by the server)
};

struct RegisteredClient {
  std::string client_id;
  std::string orgnr;  // 9 digits, check digit valid
  std::string name;
  std::vector<std::string> scopes;
  std::vector<std::string> consumer_orgs;
  std::vector<ClientKey> keys;

  bool AllowsScope(std::string_view scope) const;
  const ClientKey* FindKey(std::string_view kid) const;
};

class ClientRegistry {
 public:
  ClientRegistry() = default;
  explicit ClientRegistry(std::vector<RegisteredClient> clients);

  // Reads <dir>/clients.json. kInvalidInput naming the client and field when malformed (unknown
  // keys, bad orgnr, unreadable PEM, duplicate client_id or kid); kNotFound when absent.
  static Result<ClientRegistry> Load(const std::string& dir);
  // Writes <dir>/clients.json atomically (temp file + rename).
  Status Save(const std::string& dir) const;

  const RegisteredClient* Find(std::string_view client_id) const;
  const std::vector<RegisteredClient>& clients() const { return clients_; }

 private:
  std::vector<RegisteredClient> clients_;
};

// A demo client's private key, as stored for `norreg token`.
struct DemoClientKey {
  std::string client_id;
  std::string kid;
  std::string private_key_path;
};

// Creates the demo clients in `dir` when <dir>/clients.json does not exist (otherwise leaves
// everything as it is and returns the existing registry): three consumer organisations with
// valid synthetic orgnrs, each allowed the Folkeregisteret and mottak scopes; one supplier allowed
// to act for the first consumer (consumer_orgs); one producer (the register itself) with the
// producer scopes. Each gets a fresh 2048-bit key, private part in clients/<client_id>.pem (0600).
// Each of `extra` not yet registered (by client_id) is then added the same way, also to an
// existing registry, which is saved again only when a client was added.
struct DemoClientSpec {
  std::string client_id;
  std::string orgnr;
  std::string name;
  std::vector<std::string> scopes;
};
Result<ClientRegistry> EnsureDemoClients(const std::string& dir,
                                         std::span<const DemoClientSpec> extra = {});

// The private key of a client stored in <dir>/clients/<client_id>.pem; kNotFound when absent,
// kInvalidInput when `client_id` is not a valid client id (see below) or the file holds no RSA
// private key.
Result<RsaKey> LoadClientPrivateKey(const std::string& dir, std::string_view client_id);

// The demo clients EnsureDemoClients creates, in registry order. The orgnrs are synthetic (they
// start with 3, which no real organisation number does) with valid check digits:
//   demo-konsument-1  310000019  kFregScope kMottakScope
//   demo-konsument-2  310000027  kFregScope kMottakScope
//   demo-konsument-3  310000035  kFregScope kMottakScope
//   demo-leverandor   310000043  kFregScope kMottakScope, consumer_orgs [310000019]
//   demo-register     310000051  kRegisterProducerScope kMottakProducerScope
inline constexpr std::string_view kDemoConsumerClientIds[] = {
    "demo-konsument-1", "demo-konsument-2", "demo-konsument-3"};
inline constexpr std::string_view kDemoSupplierClientId = "demo-leverandor";
inline constexpr std::string_view kDemoProducerClientId = "demo-register";
inline constexpr std::string_view kDemoSupplierOrgnr = "310000043";
inline constexpr std::string_view kDemoProducerOrgnr = "310000051";
// The three consumer orgnrs, in order (consumer 1 first).
std::vector<std::string> DemoConsumerOrgnrs();

// A client id as the registry accepts it (and as a key file name can hold): 1..128 characters
// from [A-Za-z0-9._:-], not starting with '.'.
bool ValidClientId(std::string_view client_id);


}  // namespace norreg::auth
