#include "cli/config.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string_view>

namespace norreg::cli {
namespace {

namespace json = boost::json;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

// One setter per key, shared by the file and the environment so both accept the same names.
using Setter = std::function<Status(Config&, const json::value&)>;

Setter String(std::string Config::*field) {
  return [field](Config& c, const json::value& v) -> Status {
    if (!v.is_string()) return Invalid("må være en tekst");
    c.*field = std::string(v.as_string());
    return Status::Ok();
  };
}

template <typename T>
Setter Number(T Config::*field, int64_t min, int64_t max) {
  return [field, min, max](Config& c, const json::value& v) -> Status {
    if (!v.is_int64() && !v.is_uint64()) return Invalid("må være et heltall");
    int64_t n = v.is_int64() ? v.as_int64() : static_cast<int64_t>(v.as_uint64());
    if (n < min || n > max) {
      return Invalid("må være mellom " + std::to_string(min) + " og " + std::to_string(max));
    }
    c.*field = static_cast<T>(n);
    return Status::Ok();
  };
}

Setter Bool(bool Config::*field) {
  return [field](Config& c, const json::value& v) -> Status {
    if (!v.is_bool()) return Invalid("må være true eller false");
    c.*field = v.as_bool();
    return Status::Ok();
  };
}

Setter OptionalBool(std::optional<bool> Config::*field) {
  return [field](Config& c, const json::value& v) -> Status {
    if (!v.is_bool()) return Invalid("må være true eller false");
    c.*field = v.as_bool();
    return Status::Ok();
  };
}

Setter StringList(std::vector<std::string> Config::*field) {
  return [field](Config& c, const json::value& v) -> Status {
    std::vector<std::string> items;
    if (v.is_string()) {
      if (!v.as_string().empty()) items.emplace_back(v.as_string());
    } else if (v.is_array()) {
      for (const json::value& item : v.as_array()) {
        if (!item.is_string()) return Invalid("må være en liste av tekster");
        items.emplace_back(item.as_string());
      }
    } else {
      return Invalid("må være en tekst eller en liste av tekster");
    }
    c.*field = std::move(items);
    return Status::Ok();
  };
}

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> setters = {
      {"data", String(&Config::data)},
      {"db", String(&Config::db)},
      {"listen", String(&Config::listen)},
      {"admin_listen", String(&Config::admin_listen)},
      {"sqlite_mmap_mb", Number(&Config::sqlite_mmap_mb, 0, 1 << 24)},
      {"demo_persons", Number(&Config::demo_persons, 0, 20'000'000)},
      {"seed", Number(&Config::seed, 0, INT64_MAX)},
      {"threads", Number(&Config::threads, 0, 256)},
      {"read_timeout_s", Number(&Config::read_timeout_s, 1, 3600)},
      {"min_body_rate", Number(&Config::min_body_rate, 0, 1LL << 32)},
      {"idle_timeout_s", Number(&Config::idle_timeout_s, 1, 86400)},
      {"max_body_bytes", Number(&Config::max_body_bytes, 1024, 1LL << 32)},
      {"max_connections", Number(&Config::max_connections, 0, 1'000'000)},
      {"max_connections_per_client", Number(&Config::max_connections_per_client, 0, 1'000'000)},
      {"shutdown_grace_s", Number(&Config::shutdown_grace_s, 0, 3600)},
      {"log_level", String(&Config::log_level)},
      {"access_log", Bool(&Config::access_log)},
      {"auth_server", OptionalBool(&Config::auth_server)},
      {"issuer", String(&Config::issuer)},
      {"trusted_issuers", StringList(&Config::trusted_issuers)},
      {"token_leeway_s", Number(&Config::token_leeway_s, 0, 300)},
      {"token_lifetime_s", Number(&Config::token_lifetime_s, 10, 86400)},
      {"jwks_refresh_s", Number(&Config::jwks_refresh_s, 1, 86400)},
      {"signing_key_reload_s", Number(&Config::signing_key_reload_s, 1, 3600)},
      {"insecure_no_auth", Bool(&Config::insecure_no_auth)},
      {"rate_limit_per_s", Number(&Config::rate_limit_per_s, 0, 100'000'000)},
      {"rate_limit_burst", Number(&Config::rate_limit_burst, 0, 100'000'000)},
      {"audit", Bool(&Config::audit)},
      {"audit_sync", Bool(&Config::audit_sync)},
      {"mottak_auto_receipt", Bool(&Config::mottak_auto_receipt)},
      {"uttrekk_ttl_h", Number(&Config::uttrekk_ttl_h, 1, 24 * 365)},
      {"uttrekk_kept_per_org", Number(&Config::uttrekk_kept_per_org, 1, 100'000)},
      {"mottak_retention_h", Number(&Config::mottak_retention_h, 0, 24 * 365 * 10)},
      {"uttrekk_workers", Number(&Config::uttrekk_workers, 1, 64)},
      {"uttrekk_lease_s", Number(&Config::uttrekk_lease_s, 1, 3600)},
      {"uttrekk_test_batch_size", Number(&Config::uttrekk_test_batch_size, 0, 100'000)},
      {"uttrekk_test_batch_delay_ms", Number(&Config::uttrekk_test_batch_delay_ms, 0, 60'000)},
  };
  return setters;
}

}  // namespace

Status ApplyConfigFile(const std::string& path, Config& config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid("kan ikke lese konfigurasjonsfilen " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::error_code ec;
  json::value root = json::parse(buffer.str(), ec);
  if (ec) return Invalid(path + ": ugyldig JSON (" + ec.message() + ")");
  if (!root.is_object()) return Invalid(path + ": forventet et JSON-objekt");
  for (const auto& [key, value] : root.as_object()) {
    auto it = Setters().find(std::string(key));
    if (it == Setters().end()) return Invalid(path + ": ukjent nøkkel '" + std::string(key) + "'");
    if (Status s = it->second(config, value); !s.ok()) {
      return Invalid(path + ": " + std::string(key) + " " + s.error().message);
    }
  }
  return Status::Ok();
}

Status ApplyEnvironment(Config& config) {
  for (const auto& [key, setter] : Setters()) {
    std::string name = "NORREG_";
    for (char c : key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const char* raw = std::getenv(name.c_str());
    if (raw == nullptr) continue;
    std::string text(raw);
    // Numbers and booleans are parsed as JSON; anything else is taken as a string.
    std::error_code ec;
    json::value value = json::parse(text, ec);
    // A JSON array is kept (list keys such as NORREG_TRUSTED_ISSUERS).
    if (ec || value.is_string() || value.is_object()) value = json::string(text);
    if (Status s = setter(config, value); !s.ok()) {
      return Invalid(name + " " + s.error().message);
    }
  }
  return Status::Ok();
}

// "HOST:PORT" with a port of 0..65535; `key` names the setting in the message.
Status ValidateAddress(std::string_view key, const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return Invalid(std::string(key) + " må være HOST:PORT, fikk '" + address + "'");
  }
  const std::string port = address.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoi(port) > 65535) {
    return Invalid(std::string(key) + " har ugyldig port '" + port + "'");
  }
  return Status::Ok();
}

Status Validate(const Config& config) {
  if (Status s = ValidateAddress("listen", config.listen); !s.ok()) return s;
  if (!config.admin_listen.empty()) {
    if (Status s = ValidateAddress("admin_listen", config.admin_listen); !s.ok()) return s;
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  bool level_ok = false;
  for (const char* level : kLevels) level_ok = level_ok || config.log_level == level;
  if (!level_ok) return Invalid("log_level må være trace, debug, info, warn, error eller off");
  if (config.data.empty()) return Invalid("data kan ikke være tom");
  if (!config.db.empty() && !config.db.starts_with("postgresql://") &&
      !config.db.starts_with("postgres://")) {
    return Invalid("db må være en postgresql://-adresse (eller tom for SQLite i data)");
  }
  for (const std::string& entry : config.trusted_issuers) {
    if (auto parsed = ParseTrustedIssuer(entry); !parsed.ok()) return parsed.error();
  }
  if (!config.issuer.empty() && config.issuer.back() != '/') {
    return Invalid("issuer må slutte med '/', fikk '" + config.issuer + "'");
  }
  if (!AuthServerOn(config) && config.trusted_issuers.empty() && !config.insecure_no_auth) {
    return Invalid("auth_server er av og ingen trusted_issuers er satt: ingen token kan godtas");
  }
  return Status::Ok();
}

Result<TrustedIssuer> ParseTrustedIssuer(const std::string& text) {
  const auto scheme = text.find("://");
  const auto eq = text.find('=', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || eq == std::string::npos || eq + 1 == text.size()) {
    return Invalid("trusted_issuers: forventet ISSUER=JWKS (fil eller URL), fikk '" + text + "'");
  }
  TrustedIssuer issuer{text.substr(0, eq), text.substr(eq + 1)};
  if (issuer.issuer.back() != '/') {
    return Invalid("trusted_issuers: issuer må slutte med '/' (eksakt som i token), fikk '" +
                   issuer.issuer + "'");
  }
  // Keys fetched over plain HTTP could be swapped on the way: only from this machine.
  if (std::string_view jwks = issuer.jwks; jwks.starts_with("http://")) {
    std::string_view host = jwks.substr(7, jwks.find_first_of("/?#", 7) - 7);
    if (host.starts_with("[")) {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
      return Invalid(
          "trusted_issuers: JWKS må hentes med https:// (http:// bare fra denne "
          "maskinen), fikk '" +
          issuer.jwks + "'");
    }
  }
  return issuer;
}

bool AuthServerOn(const Config& config) {
  return config.auth_server.value_or(config.trusted_issuers.empty());
}

}  // namespace norreg::cli
