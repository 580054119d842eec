// Google Benchmark: the stages of `norreg generate` on their own (generation, record encoding,
// compression, SQLite insert), to see where the time of a full generation goes.
// Run: build/release/bench/pipeline_bench
#include <benchmark/benchmark.h>

#include <filesystem>

#include "common/compress.hpp"
#include "freg/record_codec.hpp"
#include "gen/generator.hpp"
#include "store/register_store.hpp"

namespace {

using norreg::Status;

std::vector<norreg::store::PersonWrite> Sample(uint64_t persons) {
  std::vector<norreg::store::PersonWrite> all;
  norreg::gen::GenerateOptions options;
  options.persons = persons;
  options.seed = 1;
  options.threads = 1;
  (void)norreg::gen::Generate(options, [&](std::vector<norreg::store::PersonWrite>&& batch) {
    for (auto& p : batch) all.push_back(std::move(p));
    return Status::Ok();
  });
  return all;
}

void BM_Generate(benchmark::State& state) {
  for (auto _ : state) {
    norreg::gen::GenerateOptions options;
    options.persons = static_cast<uint64_t>(state.range(0));
    options.seed = 1;
    options.threads = 1;
    uint64_t n = 0;
    (void)norreg::gen::Generate(options, [&](std::vector<norreg::store::PersonWrite>&& batch) {
      n += batch.size();
      return Status::Ok();
    });
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Generate)->Arg(20000)->Unit(benchmark::kMillisecond);

void BM_EncodeCompress(benchmark::State& state) {
  auto persons = Sample(20000);
  std::vector<std::string> samples;
  for (size_t i = 0; i < 4000; ++i) {
    std::string raw;
    norreg::freg::EncodeRecord(persons[i].record, raw);
    samples.push_back(std::move(raw));
  }
  auto dict = norreg::common::Zstd::TrainDictionary(samples);
  auto codec = norreg::common::Zstd::Create(dict.ok() ? *dict : std::string(),
                                            static_cast<int>(state.range(0)));
  std::string raw, out;
  size_t raw_bytes = 0, out_bytes = 0;
  for (auto _ : state) {
    for (const auto& p : persons) {
      raw.clear();
      norreg::freg::EncodeRecord(p.record, raw);
      codec->Compress(raw, out);
      raw_bytes += raw.size();
      out_bytes += out.size();
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(persons.size()));
  state.counters["ratio"] = static_cast<double>(raw_bytes) / static_cast<double>(out_bytes);
  state.counters["bytes_per_person"] =
      static_cast<double>(out_bytes) / static_cast<double>(state.iterations() * persons.size());
}
BENCHMARK(BM_EncodeCompress)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond);

void BM_SqliteBulkInsert(benchmark::State& state) {
  auto persons = Sample(20000);
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir = "/tmp/norreg-bench-insert";
    std::filesystem::remove_all(dir);
    auto store = norreg::store::OpenSqliteStore({.data_dir = dir});
    state.ResumeTiming();
    (void)(*store)->BulkInsert(persons);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(persons.size()));
}
BENCHMARK(BM_SqliteBulkInsert)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
