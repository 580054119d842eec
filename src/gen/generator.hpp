#pragma once
// The synthetic register generator behind `norreg generate` (SPEC 1, 2.3, 2.4).
//
// Builds a Norwegian-like population with full history: households (couples, single adults,
// single parents with children) placed at real kommune/postnummer combinations, synthetic
// fødselsnummer (month + 80) and d-nummer (also day + 40), names in the style of the real
// synthetic register ("AKTPÅGIVENDE OLJE"), statuses (mostly bosatt; also doed, utflyttet,
// d-nummer holders as ikkeBosatt / midlertidig / inaktiv), address protection on ~0.5 %
// (fortrolig / strengtFortrolig) and family relations and sivilstand that agree in both
// directions.
//
// History: round 0 is the initial load ("Grunnbefolkning", personErOpprettet for everyone in the
// register at `load_time`); rounds 1.. are the calendar quarters from 2018 up to `history_end`,
// in which households move, marry, divorce, have children, change names, emigrate and die. Each
// touched person gets one new document version (one sekvensnummer, one freg::Version) per event.
// Sekvensnummer are assigned round by round, and within a round in household/person order, so
// they are contiguous from `first_seq` and ajourholdstidspunkt increases with them.
//
// Determinism: the output depends only on (persons, seed, first_seq, load_time, history_end),
// never on `threads` or timing. Randomness comes from xoshiro256** streams seeded by
// (seed, chunk); chunks of kChunkPersons persons are planned independently.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "store/register_store.hpp"

namespace norreg::gen {

// Persons per chunk: the unit of parallel work and of delivery to the sink.
inline constexpr uint64_t kChunkPersons = 8192;

struct GenerateOptions {
  uint64_t persons = 0;    // persons in the register (all statuses), >= 1
  uint64_t seed = 1;       // the same seed gives the same register
  int threads = 2;         // worker threads (>= 1; 0 or less means 1)
  uint64_t first_seq = 1;  // sekvensnummer of the first version
  // The initial load ("Grunnbefolkning"): its versions are stamped within 30 days from here.
  timefmt::EpochMs load_time = 1506808800000;  // 2017-10-01T00:00:00+02:00
  // Events happen in calendar quarters from 2018-01-01 up to (excluding) this instant.
  timefmt::EpochMs history_end = 1790805600000;  // 2026-10-01T00:00:00+02:00
};

// Generates the register. `sink` receives the persons in batches (one chunk each, persons in
// chunk order), called from the calling thread only, one batch at a time, in ascending chunk
// order; the first non-OK status it returns stops generation and is returned. `progress` (may
// be empty) is called from the calling thread with the number of persons delivered so far.
// Failure: kInvalidInput for persons == 0, a history_end before 2018 or a load_time after
// 2017-12-01; kInternal if the embedded geography is broken or no free number is left within
// about four years of a birth date. Numbers are unique over the whole register: a birth date
// whose individnummer are used up moves to the nearest day with a free one (from ~10 million
// persons the busiest birth years are full; tested up to 10 million).
// Every person's `versions` ascend and every row's from_seq/current_until is one of them; the
// rows are sorted with freg::SortRows.
Status Generate(const GenerateOptions& options,
                const std::function<Status(std::vector<store::PersonWrite>&&)>& sink,
                const std::function<void(uint64_t done)>& progress = {});

// Convenience for tests and small registers: everything in one vector.
Result<std::vector<store::PersonWrite>> GenerateAll(const GenerateOptions& options);

}  // namespace norreg::gen
