#include "auth/client_registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <set>
#include <utility>

#include "common/ids.hpp"

namespace norreg::auth {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kRegistryFile = "clients.json";
constexpr std::size_t kMaxKeyFileBytes = 64u << 10;

// The demo organisations (see the header). Synthetic: real orgnrs start with 8 or 9.
constexpr std::string_view kDemoConsumerOrgnrs[] = {"310000019", "310000027", "310000035"};

Error Internal(std::string what, const std::string& path, int err) {
  return MakeError(ErrorCode::kInternal, what + " " + path,
                   what + " " + path + ": " + std::strerror(err));
}

// Creates `dir` (and parents) when missing, the last folder with mode 0700 (it holds keys). An
// existing folder keeps its mode: it belongs to the operator.
Status MakePrivateDir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  fs::create_directories(dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "cannot create folder " + dir.string(),
                     "create_directories " + dir.string() + ": " + ec.message());
  }
  if (::chmod(dir.c_str(), 0700) != 0) return Internal("cannot chmod folder", dir.string(), errno);
  return Status::Ok();
}

// kInvalidInput naming the file, the client and the field.
Error Malformed(const std::string& path, const std::string& where, const std::string& what) {
  return MakeError(ErrorCode::kInvalidInput,
                   std::string(kRegistryFile) + ": " + where + ": " + what, path);
}

std::string Where(std::size_t index, std::string_view client_id) {
  std::string where = "clients[" + std::to_string(index) + "]";
  if (!client_id.empty()) where += " (" + std::string(client_id) + ")";
  return where;
}

// A string array member; nullopt with `problem` set when it is not an array of strings.
std::optional<std::vector<std::string>> StringArray(const json::value& v, std::string& problem) {
  if (!v.is_array()) {
    problem = "must be an array of strings";
    return std::nullopt;
  }
  std::vector<std::string> out;
  out.reserve(v.get_array().size());
  for (const json::value& item : v.get_array()) {
    if (!item.is_string() || item.get_string().empty()) {
      problem = "must be an array of non-empty strings";
      return std::nullopt;
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

Result<RegisteredClient> ParseClient(const json::value& value, std::size_t index,
                                     const std::string& path) {
  if (!value.is_object()) return Malformed(path, Where(index, {}), "must be an object");
  const json::object& o = value.get_object();
  RegisteredClient client;
  // client_id first, so every later message can name the client.
  const json::value* id = o.if_contains("client_id");
  if (id == nullptr) return Malformed(path, Where(index, {}), "\"client_id\" is missing");
  if (!id->is_string() || !ValidClientId(id->get_string())) {
    return Malformed(path, Where(index, {}),
                     "\"client_id\" must be 1..128 characters of [A-Za-z0-9._:-]");
  }
  client.client_id = std::string(id->get_string());
  const std::string where = Where(index, client.client_id);

  bool has_orgnr = false, has_scopes = false, has_keys = false;
  for (const auto& member : o) {
    const std::string_view key = member.key();
    const json::value& v = member.value();
    std::string problem;
    if (key == "client_id") {
      continue;
    } else if (key == "orgnr") {
      if (!v.is_string() || !ids::ValidOrgnr(v.get_string())) {
        return Malformed(path, where, "\"orgnr\" is not a valid organisasjonsnummer");
      }
      client.orgnr = std::string(v.get_string());
      has_orgnr = true;
    } else if (key == "name") {
      if (!v.is_string()) return Malformed(path, where, "\"name\" must be a string");
      client.name = std::string(v.get_string());
    } else if (key == "scopes") {
      auto scopes = StringArray(v, problem);
      if (!scopes) return Malformed(path, where, "\"scopes\" " + problem);
      for (const std::string& scope : *scopes) {
        if (scope.find_first_of(" \t\r\n") != std::string::npos) {
          return Malformed(path, where, "\"scopes\" entry \"" + scope + "\" contains whitespace");
        }
      }
      client.scopes = std::move(*scopes);
      has_scopes = true;
    } else if (key == "consumer_orgs") {
      auto orgs = StringArray(v, problem);
      if (!orgs) return Malformed(path, where, "\"consumer_orgs\" " + problem);
      for (const std::string& org : *orgs) {
        if (!ids::ValidOrgnr(org)) {
          return Malformed(path, where,
                           "\"consumer_orgs\" entry \"" + org + "\" is not a valid orgnr");
        }
      }
      client.consumer_orgs = std::move(*orgs);
    } else if (key == "keys") {
      if (!v.is_array() || v.get_array().empty()) {
        return Malformed(path, where, "\"keys\" must be a non-empty array");
      }
      std::size_t k = 0;
      for (const json::value& entry : v.get_array()) {
        const std::string kw = "\"keys\"[" + std::to_string(k++) + "]";
        if (!entry.is_object()) return Malformed(path, where, kw + " must be an object");
        const json::object& ko = entry.get_object();
        const json::value* kid = nullptr;
        const json::value* pem = nullptr;
        for (const auto& km : ko) {
          if (km.key() == "kid") {
            kid = &km.value();
          } else if (km.key() == "public_key_pem") {
            pem = &km.value();
          } else {
            return Malformed(path, where,
                             kw + " has unknown key \"" + std::string(km.key()) + "\"");
          }
        }
        if (kid == nullptr || !kid->is_string() || kid->get_string().empty()) {
          return Malformed(path, where, kw + ".kid must be a non-empty string");
        }
        if (pem == nullptr || !pem->is_string()) {
          return Malformed(path, where, kw + ".public_key_pem must be a string");
        }
        auto key_value = RsaKey::FromPem(pem->get_string());
        if (!key_value.ok()) {
          return Malformed(path, where,
                           kw + ".public_key_pem is not an RSA key of at least 2048 bits");
        }
        if (key_value->has_private()) {
          // The server only needs the public part; a private key here is a leak waiting to happen.
          return Malformed(path, where, kw + ".public_key_pem holds a private key");
        }
        if (client.FindKey(kid->get_string()) != nullptr) {
          return Malformed(path, where,
                           kw + ".kid \"" + std::string(kid->get_string()) + "\" is a duplicate");
        }
        client.keys.push_back(ClientKey{std::string(kid->get_string()), std::move(*key_value)});
      }
      has_keys = true;
    } else {
      return Malformed(path, where, "unknown key \"" + std::string(key) + "\"");
    }
  }
  if (!has_orgnr) return Malformed(path, where, "\"orgnr\" is missing");
  if (!has_scopes) return Malformed(path, where, "\"scopes\" is missing");
  if (!has_keys) return Malformed(path, where, "\"keys\" is missing");
  return client;
}

// Indented JSON for a file people read and edit (Boost.JSON only writes one line).
void AppendPretty(std::string& out, const json::value& v, int indent) {
  const auto newline = [&out](int n) {
    out.push_back('\n');
    out.append(static_cast<std::size_t>(n), ' ');
  };
  if (v.is_object()) {
    const json::object& o = v.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out.push_back('{');
    bool first = true;
    for (const auto& member : o) {
      if (!first) out.push_back(',');
      first = false;
      newline(indent + 2);
      out += json::serialize(json::string(member.key()));
      out += ": ";
      AppendPretty(out, member.value(), indent + 2);
    }
    newline(indent);
    out.push_back('}');
  } else if (v.is_array()) {
    const json::array& a = v.get_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    bool first = true;
    for (const json::value& item : a) {
      if (!first) out.push_back(',');
      first = false;
      newline(indent + 2);
      AppendPretty(out, item, indent + 2);
    }
    newline(indent);
    out.push_back(']');
  } else {
    out += json::serialize(v);
  }
}

json::array StringsToJson(const std::vector<std::string>& strings) {
  json::array a;
  for (const std::string& s : strings) a.emplace_back(s);
  return a;
}

}  // namespace

bool RegisteredClient::AllowsScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

const ClientKey* RegisteredClient::FindKey(std::string_view kid) const {
  for (const ClientKey& key : keys) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

ClientRegistry::ClientRegistry(std::vector<RegisteredClient> clients)
    : clients_(std::move(clients)) {}

const RegisteredClient* ClientRegistry::Find(std::string_view client_id) const {
  // A development server has a handful of clients: a scan beats a map here.
  for (const RegisteredClient& client : clients_) {
    if (client.client_id == client_id) return &client;
  }
  return nullptr;
}

Result<ClientRegistry> ClientRegistry::Load(const std::string& dir) {
  const std::string path = (fs::path(dir) / kRegistryFile).string();
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.error();
  json::error_code ec;
  json::value root = json::parse(*text, ec);
  if (ec) return Malformed(path, "file", "not JSON (" + ec.message() + ")");
  if (!root.is_object()) return Malformed(path, "file", "must be a JSON object");
  const json::value* clients = nullptr;
  for (const auto& member : root.get_object()) {
    if (member.key() != "clients") {
      return Malformed(path, "file", "unknown key \"" + std::string(member.key()) + "\"");
    }
    clients = &member.value();
  }
  if (clients == nullptr || !clients->is_array()) {
    return Malformed(path, "file", "\"clients\" must be an array");
  }
  std::vector<RegisteredClient> parsed;
  parsed.reserve(clients->get_array().size());
  std::set<std::string, std::less<>> seen;
  std::size_t index = 0;
  for (const json::value& entry : clients->get_array()) {
    auto client = ParseClient(entry, index, path);
    if (!client.ok()) return client.error();
    if (!seen.insert(client->client_id).second) {
      return Malformed(path, Where(index, client->client_id), "\"client_id\" is a duplicate");
    }
    parsed.push_back(std::move(*client));
    ++index;
  }
  return ClientRegistry(std::move(parsed));
}

Status ClientRegistry::Save(const std::string& dir) const {
  json::array clients;
  for (const RegisteredClient& client : clients_) {
    json::object o;
    o["client_id"] = client.client_id;
    o["orgnr"] = client.orgnr;
    o["name"] = client.name;
    o["scopes"] = StringsToJson(client.scopes);
    o["consumer_orgs"] = StringsToJson(client.consumer_orgs);
    json::array keys;
    for (const ClientKey& key : client.keys) {
      json::object k;
      k["kid"] = key.kid;
      k["public_key_pem"] = key.key.PublicPem();
      keys.push_back(std::move(k));
    }
    o["keys"] = std::move(keys);
    clients.push_back(std::move(o));
  }
  json::object root;
  root["clients"] = std::move(clients);
  std::string text;
  AppendPretty(text, root, 0);
  text.push_back('\n');
  if (Status s = MakePrivateDir(dir); !s.ok()) return s;
  return WriteFileAtomically((fs::path(dir) / kRegistryFile).string(), text, 0644);
}

std::vector<std::string> DemoConsumerOrgnrs() {
  return {std::begin(kDemoConsumerOrgnrs), std::end(kDemoConsumerOrgnrs)};
}

bool ValidClientId(std::string_view client_id) {
  if (client_id.empty() || client_id.size() > 128 || client_id.front() == '.') return false;
  return std::all_of(client_id.begin(), client_id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

namespace {

// A demo client with a fresh key, its private part written to <key_dir>/<client_id>.pem first.
Result<RegisteredClient> MakeDemoClient(const fs::path& key_dir, const DemoClientSpec& spec,
                                        std::vector<std::string> consumer_orgs) {
  auto key = RsaKey::Generate(2048);
  if (!key.ok()) return key.error();
  const std::string key_path = (key_dir / (spec.client_id + ".pem")).string();
  if (Status s = WriteFileAtomically(key_path, key->PrivatePem(), 0600); !s.ok()) {
    return s.error();
  }
  auto public_key = RsaKey::FromPem(key->PublicPem());
  if (!public_key.ok()) return public_key.error();
  RegisteredClient client;
  client.client_id = spec.client_id;
  client.orgnr = spec.orgnr;
  client.name = spec.name;
  client.scopes = spec.scopes;
  client.consumer_orgs = std::move(consumer_orgs);
  client.keys.push_back(ClientKey{key->Thumbprint(), std::move(*public_key)});
  return client;
}

}  // namespace

Result<ClientRegistry> EnsureDemoClients(const std::string& dir,
                                         std::span<const DemoClientSpec> extra) {
  std::error_code ec;
  const fs::path key_dir = fs::path(dir) / "clients";
  std::vector<RegisteredClient> clients;
  bool changed = false;
  if (fs::exists(fs::path(dir) / kRegistryFile, ec)) {
    auto existing = ClientRegistry::Load(dir);
    if (!existing.ok()) return existing.error();
    clients = existing->clients();
  } else {
    if (Status s = MakePrivateDir(dir); !s.ok()) return s.error();
    if (Status s = MakePrivateDir(key_dir); !s.ok()) return s.error();
    const std::string consumers[] = {std::string(kFregScope), std::string(kMottakScope)};
    const std::vector<std::string> consumer_scopes(std::begin(consumers), std::end(consumers));
    const std::pair<DemoClientSpec, std::vector<std::string>> specs[] = {
        {{std::string(kDemoConsumerClientIds[0]), std::string(kDemoConsumerOrgnrs[0]),
          "Demo konsument 1", consumer_scopes},
         {}},
        {{std::string(kDemoConsumerClientIds[1]), std::string(kDemoConsumerOrgnrs[1]),
          "Demo konsument 2", consumer_scopes},
         {}},
        {{std::string(kDemoConsumerClientIds[2]), std::string(kDemoConsumerOrgnrs[2]),
          "Demo konsument 3", consumer_scopes},
         {}},
        {{std::string(kDemoSupplierClientId), std::string(kDemoSupplierOrgnr),
          "Demo leverandør (for konsument 1)", consumer_scopes},
         {std::string(kDemoConsumerOrgnrs[0])}},
        {{std::string(kDemoProducerClientId),
          std::string(kDemoProducerOrgnr),
          "Demo register (produsent)",
          {std::string(kRegisterProducerScope), std::string(kMottakProducerScope)}},
         {}},
    };
    for (const auto& [spec, consumer_orgs] : specs) {
      auto client = MakeDemoClient(key_dir, spec, consumer_orgs);
      if (!client.ok()) return client.error();
      clients.push_back(std::move(*client));
    }
    changed = true;
  }
  for (const DemoClientSpec& spec : extra) {
    const bool known = std::any_of(clients.begin(), clients.end(), [&](const RegisteredClient& c) {
      return c.client_id == spec.client_id;
    });
    if (known) continue;
    if (Status s = MakePrivateDir(key_dir); !s.ok()) return s.error();
    auto client = MakeDemoClient(key_dir, spec, {});
    if (!client.ok()) return client.error();
    clients.push_back(std::move(*client));
    changed = true;
  }
  // Private keys first and the registry last: clients.json names only clients whose keys exist.
  ClientRegistry registry(std::move(clients));
  if (changed) {
    if (Status s = registry.Save(dir); !s.ok()) return s.error();
  }
  return registry;
}

Result<RsaKey> LoadClientPrivateKey(const std::string& dir, std::string_view client_id) {
  if (!ValidClientId(client_id)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "invalid client_id \"" + std::string(client_id.substr(0, 128)) + "\"");
  }
  const std::string path = (fs::path(dir) / "clients" / (std::string(client_id) + ".pem")).string();
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.error();
  if (text->size() > kMaxKeyFileBytes) {
    return MakeError(ErrorCode::kInvalidInput, "key file " + path + " is too large");
  }
  auto key = RsaKey::FromPem(*text);
  if (!key.ok() || !key->has_private()) {
    return MakeError(ErrorCode::kInvalidInput, "key file " + path + " holds no RSA private key");
  }
  return key;
}

}  // namespace norreg::auth
