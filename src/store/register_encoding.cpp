#include "store/register_encoding.hpp"

#include <algorithm>
#include <iterator>
#include <thread>

#include "freg/person_search.hpp"
#include "freg/record_codec.hpp"

namespace norreg::store {

std::optional<int64_t> FnrToInt(std::string_view fnr) {
  if (fnr.size() != 11) return std::nullopt;
  int64_t v = 0;
  for (char c : fnr) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

void FormatFnr(int64_t value, char (&out)[11]) {
  for (int i = 10; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

std::string FnrFromInt(int64_t value) {
  char digits[11];
  FormatFnr(value, digits);
  return std::string(digits, sizeof digits);
}

EncodedPersons EncodeRecords(const common::Zstd& codec, std::span<const PersonWrite> persons) {
  EncodedPersons out;
  out.blobs.resize(persons.size());
  out.terms.resize(persons.size());
  const unsigned workers = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  auto encode_range = [&](size_t begin, size_t end) {
    std::string raw;
    for (size_t i = begin; i < end; ++i) {
      raw.clear();
      freg::EncodeRecord(persons[i].record, raw);
      codec.Compress(raw, out.blobs[i]);
      const uint64_t latest = persons[i].versions.empty() ? 0 : persons[i].versions.back().seq;
      out.terms[i] = freg::SearchTermsOf(persons[i].record, latest);
    }
  };
  if (persons.size() < 256 || workers == 1) {
    encode_range(0, persons.size());
  } else {
    std::vector<std::thread> threads;
    size_t chunk = (persons.size() + workers - 1) / workers;
    for (unsigned w = 0; w < workers; ++w) {
      size_t begin = w * chunk, end = std::min(persons.size(), begin + chunk);
      if (begin < end) threads.emplace_back(encode_range, begin, end);
    }
    for (auto& t : threads) t.join();
  }
  return out;
}

SearchTermDiff DiffSearchTerms(std::span<const uint32_t> before, std::span<const uint32_t> after) {
  SearchTermDiff diff;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(diff.removed));
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(diff.added));
  return diff;
}

Result<BulkRows> SortedBulkRows(std::span<const PersonWrite> persons) {
  BulkRows rows;
  rows.numbers.resize(persons.size());
  for (size_t i = 0; i < persons.size(); ++i) {
    const PersonWrite& p = persons[i];
    if (p.versions.empty()) return MakeError(ErrorCode::kInvalidInput, "person uten versjoner");
    auto fnr = FnrToInt(p.record.fnr);
    if (!fnr) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + p.record.fnr);
    rows.numbers[i] = *fnr;
    rows.identifiers.emplace_back(*fnr, i);
    for (const auto& other : p.record.other_ids) {
      auto n = FnrToInt(other);
      if (!n) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + other);
      rows.identifiers.emplace_back(*n, i);
    }
    for (size_t v = 0; v < p.versions.size(); ++v) {
      rows.versions.push_back({p.versions[v].seq, {i, v}});
    }
  }
  std::sort(rows.identifiers.begin(), rows.identifiers.end());
  std::sort(rows.versions.begin(), rows.versions.end());
  return rows;
}

}  // namespace norreg::store
