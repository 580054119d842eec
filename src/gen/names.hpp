#pragma once
// Word tables of the synthetic register: upper-case names in the style of the real synthetic
// population (adjective fornavn + noun etternavn, "AKTPÅGIVENDE OLJE"), some ordinary Norwegian
// names, street-name parts and foreign countries. Plain static data: thread-safe, no allocation.
// Every entry is free of '"', '\\' and control characters, so it can be written into JSON as-is.
#include <span>
#include <string_view>

namespace norreg::gen {

std::span<const std::string_view> AdjectiveNames();    // fornavn/mellomnavn, synthetic style
std::span<const std::string_view> NounNames();         // etternavn, synthetic style
std::span<const std::string_view> MaleGivenNames();    // ordinary fornavn
std::span<const std::string_view> FemaleGivenNames();  // ordinary fornavn
std::span<const std::string_view> OrdinarySurnames();  // ordinary etternavn
std::span<const std::string_view> StreetStems();       // "Bjørke", "Kirke", ...
std::span<const std::string_view> StreetSuffixes();    // "veien", "gata", ...

struct Country {
  std::string_view alpha3;  // ISO 3166-1 alpha-3
  std::string_view city;    // an upper-case city name (tilflyttingsstedIUtlandet)
  int weight;               // relative frequency among immigrants / d-nummer holders
};
std::span<const Country> ForeignCountries();

}  // namespace norreg::gen
