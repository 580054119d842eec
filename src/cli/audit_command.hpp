#pragma once
// Helpers of `norreg audit` (audit_command.cpp), factored out for tests. Pure and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/audit_log.hpp"

namespace norreg::cli {

// "0192:923609016" or "923609016" -> "923609016"; nullopt unless nine digits remain (the check
// digit is not enforced: an operator may look for any number that was recorded).
std::optional<std::string> ParseOrgArgument(std::string_view s);

// `YYYY-MM-DD` (the start of that Oslo day, or with `end_of_day` its last millisecond), an RFC 3339
// date-time with offset, or an Oslo local date-time without offset (`2024-03-01T12:00:00`).
// Milliseconds since the epoch; nullopt when none of these.
std::optional<int64_t> ParseAuditTime(std::string_view s, bool end_of_day);

// The readable table: a header line, then one line per disclosure (newest first as given): Oslo
// local time, consumer org, client, supplier ("-" when none), endpoint, number of identifiers and,
// with `with_person`, the person. Columns are padded to their widest cell (counted in code points).
std::string FormatAuditTable(const std::vector<store::Disclosure>& disclosures, bool with_person);

// One JSON object per line: {"time":"2024-03-01T12:00:00.000+01:00","time_ms":…,"org":…,
// "client":…,"supplier":…,"endpoint":…,"request_id":…,"identifiers":[…]}.
std::string FormatAuditNdjson(const std::vector<store::Disclosure>& disclosures);

}  // namespace norreg::cli
