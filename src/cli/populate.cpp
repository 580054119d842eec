#include "cli/populate.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
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
  // Three stages: while batch k is inserted (one writer), the next kEncodeAhead batches are encoded
  // and compressed, each on threads of its own, and the generator renders those after them;
  // batches are inserted strictly in order (docs/deployment.md, "Loading").
  constexpr size_t kEncodeAhead = 2;
  struct Pending {
    std::vector<store::PersonWrite> persons;
    store::EncodedPersons encoded;
    // Declared last, so destroyed first: its destructor waits for the encoding that reads
    // `persons`.
    std::future<store::EncodedPersons> encoding;
  };
  std::deque<std::shared_ptr<Pending>> encoding;  // in batch order
  std::future<Status> inserting;
  auto finish_previous = [&]() -> Status {
    return inserting.valid() ? inserting.get() : Status::Ok();
  };
  // The oldest encoded batch goes to the writer once the batch before it is in.
  auto insert_oldest = [&]() -> Status {
    std::shared_ptr<Pending> pending = std::move(encoding.front());
    encoding.pop_front();
    pending->encoded = pending->encoding.get();
    if (Status s = finish_previous(); !s.ok()) return s;
    inserting = std::async(std::launch::async, [&store, pending] {
      return store.BulkInsert(pending->persons, &pending->encoded);
    });
    return Status::Ok();
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
    pending->persons = std::move(batch);
    // The task reads the batch through a plain pointer: holding `pending` itself would keep it
    // alive through its own future.
    pending->encoding = std::async(std::launch::async, [&store, persons = &pending->persons] {
      return store.EncodeForBulkInsert(*persons);
    });
    encoding.push_back(std::move(pending));
    return encoding.size() > kEncodeAhead ? insert_oldest() : Status::Ok();
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
  while (s.ok() && !encoding.empty()) s = insert_oldest();
  encoding.clear();                 // waits for the encodings still running
  Status last = finish_previous();  // always wait: the insert thread uses `store`
  if (progress) std::fprintf(stderr, "\n");
  if (!s.ok()) return s.error();
  if (!last.ok()) return last.error();
  // The search index of everyone generated, in one sorted pass (RegisterStore::BeginBulkLoad).
  const auto loaded = std::chrono::steady_clock::now();
  if (Status indexed = store.EndBulkLoad(); !indexed.ok()) return indexed.error();
  const auto end = std::chrono::steady_clock::now();
  summary.index_seconds = std::chrono::duration<double>(end - loaded).count();
  summary.seconds = std::chrono::duration<double>(end - start).count();
  return summary;
}

}  // namespace norreg::cli
