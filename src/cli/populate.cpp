#include "cli/populate.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <thread>

#include "freg/record_codec.hpp"
#include "gen/generator.hpp"

namespace norreg::cli {

Result<PopulateSummary> Populate(store::RegisterStore& store, uint64_t persons, uint64_t seed,
                                 int threads, bool progress) {
  if (store.LatestSeq() != 0) {
    return MakeError(ErrorCode::kConflict,
                     "registeret er ikke tomt: generer inn i en tom datakatalog");
  }
  const auto start = std::chrono::steady_clock::now();
  PopulateSummary summary;
  bool dictionary_done = false;
  gen::GenerateOptions options;
  options.persons = persons;
  options.seed = seed;
  options.threads =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.first_seq = 1;
  // Two-stage pipeline: while batch k is inserted (one SQLite writer thread), batch k+1 is
  // encoded and compressed here; batches are inserted strictly in order.
  struct Pending {
    std::vector<store::PersonWrite> persons;
    store::EncodedPersons encoded;
  };
  std::future<Status> inserting;
  auto finish_previous = [&]() -> Status {
    return inserting.valid() ? inserting.get() : Status::Ok();
  };
  auto sink = [&](std::vector<store::PersonWrite>&& batch) -> Status {
    if (!dictionary_done) {
      dictionary_done = true;
      std::vector<std::string> samples;
      for (size_t i = 0; i < batch.size() && samples.size() < 1500; ++i) {
        std::string raw;
        freg::EncodeRecord(batch[i].record, raw);
        samples.push_back(std::move(raw));
      }
      // A dictionary needs enough samples to train; tiny registers simply go without.
      if (samples.size() >= 500) {
        if (Status s = store.InstallDictionary(samples); !s.ok()) return s;
      }
    }
    for (const auto& p : batch) summary.versions += p.versions.size();
    summary.persons += batch.size();
    auto pending = std::make_shared<Pending>();
    pending->encoded = store.EncodeForBulkInsert(batch);
    pending->persons = std::move(batch);
    if (Status s = finish_previous(); !s.ok()) return s;
    inserting = std::async(std::launch::async, [&store, pending] {
      return store.BulkInsert(pending->persons, &pending->encoded);
    });
    return Status::Ok();
  };
  auto report = [&](uint64_t done) {
    if (!progress) return;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "\rgenererer: %llu / %llu personer (%.0f/s)",
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(persons),
                 elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0);
    std::fflush(stderr);
  };
  if (Status begun = store.BeginBulkLoad(); !begun.ok()) return begun.error();
  Status s = gen::Generate(options, sink, report);
  Status last = finish_previous();  // always wait: the insert thread uses `store`
  if (progress) std::fprintf(stderr, "\n");
  if (!s.ok()) return s.error();
  if (!last.ok()) return last.error();
  // The search index of everyone generated, in one sorted pass (RegisterStore::BeginBulkLoad).
  if (Status indexed = store.EndBulkLoad(); !indexed.ok()) return indexed.error();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace norreg::cli
