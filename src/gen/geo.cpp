#include "gen/geo.hpp"

#include <algorithm>
#include <charconv>

#include "gen/names.hpp"
#include "gen/rng.hpp"
#include "resources/embedded.hpp"

namespace norreg::gen {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool FourDigits(std::string_view s) {
  return s.size() == 4 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Every street name the generator can use: stem + suffix. Stems that end in a space are names of
// persons or directions ("Henrik Ibsens ", "Nedre ") and only take the separate suffixes.
const std::vector<std::string>& AllStreetNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    constexpr std::string_view kSeparate[] = {"gate", "vei", "plass", "allé"};
    for (std::string_view stem : StreetStems()) {
      if (stem.ends_with(' ')) {
        for (std::string_view suffix : kSeparate)
          out.push_back(std::string(stem) + std::string(suffix));
      } else {
        for (std::string_view suffix : StreetSuffixes())
          out.push_back(std::string(stem) + std::string(suffix));
      }
    }
    return out;
  }();
  return names;
}

// A stride coprime with `m`, so that (s * stride + offset) % m visits distinct names.
uint64_t CoprimeStride(uint64_t m) {
  for (uint64_t p : {7919ULL, 7907ULL, 7901ULL, 7883ULL}) {
    if (m % p != 0) return p % m == 0 ? 1 : p;
  }
  return 1;
}

}  // namespace

Result<Geography> Geography::Parse(std::string_view tsv) {
  Geography geo;
  size_t line_no = 0;
  while (!tsv.empty()) {
    const size_t nl = tsv.find('\n');
    std::string_view line = tsv.substr(0, nl);
    tsv = nl == std::string_view::npos ? std::string_view{} : tsv.substr(nl + 1);
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto bad = [&](std::string_view why) {
      return MakeError(ErrorCode::kInvalidInput,
                       "kommuner.tsv linje " + std::to_string(line_no) + ": " + std::string(why));
    };
    std::string_view cols[4];
    for (int i = 0; i < 4; ++i) {
      const size_t tab = line.find('\t');
      if (i < 3 && tab == std::string_view::npos) return bad("forventet 4 kolonner");
      cols[i] = i < 3 ? line.substr(0, tab) : line;
      if (i < 3) line.remove_prefix(tab + 1);
    }
    Kommune k;
    if (!FourDigits(cols[0])) return bad("ugyldig kommunenummer");
    k.nummer = cols[0];
    k.navn = Trim(cols[1]);
    if (k.navn.empty()) return bad("mangler kommunenavn");
    auto [ptr, ec] = std::from_chars(cols[2].data(), cols[2].data() + cols[2].size(), k.innbyggere);
    if (ec != std::errc{} || ptr != cols[2].data() + cols[2].size() || k.innbyggere == 0) {
      return bad("ugyldig innbyggertall");
    }
    std::string_view posts = cols[3];
    while (!posts.empty()) {
      const size_t semi = posts.find(';');
      std::string_view item = Trim(posts.substr(0, semi));
      posts = semi == std::string_view::npos ? std::string_view{} : posts.substr(semi + 1);
      if (item.empty()) continue;
      if (item.size() < 6 || !FourDigits(item.substr(0, 4)) || item[4] != ' ') {
        return bad("ugyldig postnummer/poststed: " + std::string(item));
      }
      k.poststeder.push_back({std::string(item.substr(0, 4)), std::string(Trim(item.substr(5)))});
    }
    if (k.poststeder.empty()) return bad("mangler poststed");
    if (geo.Find(k.nummer) >= 0) return bad("kommunenummer finnes fra før: " + k.nummer);
    geo.kommuner_.push_back(std::move(k));
  }
  if (geo.kommuner_.empty()) return MakeError(ErrorCode::kInvalidInput, "kommuner.tsv er tom");

  const auto& all = AllStreetNames();
  const uint64_t m = all.size();
  const uint64_t stride = CoprimeStride(m);
  uint64_t total = 0;
  for (auto& k : geo.kommuner_) {
    total += k.innbyggere;
    geo.cumulative_.push_back(total);
    k.streets = std::clamp<uint32_t>(k.innbyggere / 350, 6, static_cast<uint32_t>(m));
    geo.street_offset_.push_back(static_cast<uint32_t>(geo.street_names_.size()));
    const uint64_t offset = Mix(std::stoul(k.nummer), 0x57ee7) % m;
    for (uint32_t s = 0; s < k.streets; ++s)
      geo.street_names_.push_back(all[(s * stride + offset) % m]);
  }
  return geo;
}

const Result<Geography>& Geography::Embedded() {
  static const Result<Geography> geo = Parse(norreg::resources::geo_kommuner());
  return geo;
}

size_t Geography::PickKommune(uint64_t u) const {
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  if (it == cumulative_.end()) return kommuner_.size() - 1;
  return static_cast<size_t>(it - cumulative_.begin());
}

int Geography::Find(std::string_view nummer) const {
  for (size_t i = 0; i < kommuner_.size(); ++i) {
    if (kommuner_[i].nummer == nummer) return static_cast<int>(i);
  }
  return -1;
}

std::string_view Geography::StreetName(size_t k, uint32_t street) const {
  return street_names_[street_offset_[k] + street];
}

uint32_t Geography::Adressekode(size_t k, uint32_t street) const {
  // Distinct within the kommune (streets are distinct names); 5 digits like the real codes.
  return 10000 + street * 7 + static_cast<uint32_t>(k % 7);
}

}  // namespace norreg::gen
