// `norreg audit [--data DIR] [--db postgresql://...] [--org ORGNR] [--person FNR] [--since T]
// [--until T] [--limit N] [--json]`: who was given which person data, from the disclosure audit
// log. Without --db: the log of one node, <data>/audit (its SQLite index and journal). With --db
// (the servers' own): the index all nodes share in PostgreSQL, plus the journal tail of
// <data>/audit when that folder is a node's. Opens the log read-only, so it runs beside servers
// writing it.
#include "cli/audit_command.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <tuple>

#include "cli/commands.hpp"
#include "common/escape.hpp"
#include "common/time.hpp"

namespace norreg::cli {
namespace {

struct AuditArgs {
  std::string org;
  std::string person;
  std::string since;
  std::string until;
  size_t limit = 100;
  bool json = false;
};

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

void AppendPadded(std::string& out, std::string_view cell, size_t width) {
  out += cell;
  out.append(width - DisplayWidth(cell), ' ');
}

int Run(const CommandContext& context, const AuditArgs& args) {
  store::AuditQuery query;
  query.limit = args.limit;
  query.person = args.person;
  if (!args.org.empty()) {
    auto org = ParseOrgArgument(args.org);
    if (!org) {
      std::fprintf(stderr, "norreg audit: ugyldig organisasjonsnummer %s\n", args.org.c_str());
      return kExitInvalid;
    }
    query.orgnr = *org;
  }
  for (auto [text, end_of_day, target, name] :
       {std::tuple{&args.since, false, &query.since_ms, "--since"},
        std::tuple{&args.until, true, &query.until_ms, "--until"}}) {
    if (text->empty()) continue;
    auto ms = ParseAuditTime(*text, end_of_day);
    if (!ms) {
      std::fprintf(stderr, "norreg audit: ugyldig tidspunkt for %s: %s\n", name, text->c_str());
      return kExitInvalid;
    }
    *target = *ms;
  }

  const std::string& db = context.config.db;
  std::string dir = (std::filesystem::path(context.config.data) / "audit").string();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    if (db.empty()) {
      std::fprintf(stderr, "ingen utleveringer funnet (ingen revisjonslogg i %s)\n", dir.c_str());
      return 0;
    }
    dir.clear();  // the shared index alone
  }
  auto log = store::OpenAuditLog({.dir = dir, .db = db, .read_only = true});
  if (!log.ok()) {
    // The detail names the folder or libpq's reason, never the connection string.
    std::fprintf(stderr, "norreg audit: kan ikke åpne revisjonsloggen %s: %s\n",
                 db.empty() ? dir.c_str() : "i PostgreSQL (--db)", log.error().detail.c_str());
    return kExitFailure;
  }
  auto found = (*log)->Query(query);
  if (!found.ok()) {
    std::fprintf(stderr, "norreg audit: %s\n", found.error().detail.c_str());
    return kExitFailure;
  }
  if (found->empty()) {
    std::fprintf(stderr, "ingen utleveringer funnet\n");
    return 0;
  }
  const std::string out =
      args.json ? FormatAuditNdjson(*found) : FormatAuditTable(*found, !args.person.empty());
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

std::optional<std::string> ParseOrgArgument(std::string_view s) {
  if (s.starts_with("0192:")) s.remove_prefix(5);
  if (s.size() != 9) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::string(s);
}

std::optional<int64_t> ParseAuditTime(std::string_view s, bool end_of_day) {
  if (auto days = timefmt::ParseDate(s)) {
    int year = 0;
    int month = 0;
    int day = 0;
    timefmt::CivilFromDays(*days + (end_of_day ? 1 : 0), year, month, day);
    auto start = timefmt::ParseOsloLocal(timefmt::FormatDate(year, month, day) + "T00:00:00");
    if (!start) return std::nullopt;
    return end_of_day ? *start - 1 : *start;
  }
  if (auto ms = timefmt::ParseDateTime(s)) return ms;
  return timefmt::ParseOsloLocal(s);
}

std::string FormatAuditTable(const std::vector<store::Disclosure>& disclosures, bool with_person) {
  constexpr size_t kColumns = 7;
  std::vector<std::array<std::string, kColumns>> rows;
  rows.reserve(disclosures.size() + 1);
  rows.push_back({"tidspunkt", "org", "klient", "leverandør", "endepunkt", "antall",
                  with_person ? "person" : ""});
  for (const store::Disclosure& d : disclosures) {
    std::string time = timefmt::FormatOsloLocal(d.time_ms);
    if (time.size() > 10 && time[10] == 'T') time[10] = ' ';
    rows.push_back({std::move(time), d.consumer_orgnr, d.client_id,
                    d.supplier_orgnr.empty() ? "-" : d.supplier_orgnr, d.endpoint,
                    std::to_string(d.identifiers.size()),
                    with_person && !d.identifiers.empty() ? d.identifiers.front() : ""});
  }
  const size_t columns = with_person ? kColumns : kColumns - 1;
  std::array<size_t, kColumns> width{};
  for (const auto& row : rows) {
    for (size_t c = 0; c < columns; ++c) width[c] = std::max(width[c], DisplayWidth(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < columns; ++c) {
      if (c + 1 == columns) {
        out += row[c];  // no trailing blanks
      } else {
        AppendPadded(out, row[c], width[c]);
        out += "  ";
      }
    }
    out += '\n';
  }
  return out;
}

std::string FormatAuditNdjson(const std::vector<store::Disclosure>& disclosures) {
  std::string out;
  for (const store::Disclosure& d : disclosures) {
    out += "{\"time\":\"";
    timefmt::AppendOslo(out, d.time_ms);
    out += "\",\"time_ms\":";
    out += std::to_string(d.time_ms);
    out += ",\"org\":";
    AppendJsonString(out, d.consumer_orgnr);
    out += ",\"client\":";
    AppendJsonString(out, d.client_id);
    out += ",\"supplier\":";
    AppendJsonString(out, d.supplier_orgnr);
    out += ",\"endpoint\":";
    AppendJsonString(out, d.endpoint);
    out += ",\"request_id\":";
    AppendJsonString(out, d.request_id);
    out += ",\"identifiers\":[";
    for (size_t i = 0; i < d.identifiers.size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(out, d.identifiers[i]);
    }
    out += "]}\n";
  }
  return out;
}

void AddAuditCommand(CLI::App& app, CommandContext& context) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* command =
      app.add_subcommand("audit", "Show disclosures of person data from the audit log");
  AddDataOption(*command, context);
  command->add_option("--db", context.config.db,
                      "The index the server nodes share in PostgreSQL: their --db, a "
                      "postgresql:// URI (default: the SQLite index in --data)");
  command->add_option("--org", args->org, "Consumer organisation (0192:NNNNNNNNN or NNNNNNNNN)");
  command->add_option("--person", args->person, "Fødselsnummer/d-nummer (or mottakId) disclosed");
  command->add_option("--since", args->since,
                      "From (YYYY-MM-DD, Oslo time, or an ISO date-time), inclusive");
  command->add_option(
      "--until", args->until,
      "Until (YYYY-MM-DD = to the end of that day, or an ISO date-time), inclusive");
  command->add_option("--limit", args->limit, "At most this many disclosures, newest first")
      ->default_val(100)
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  command->add_flag("--json", args->json, "One JSON object per line (NDJSON)");
  command->callback([&context, args] {
    context.run = [&context, args]() -> int { return Run(context, *args); };
  });
}

}  // namespace norreg::cli
