// Memory stays flat as a durable store grows: records live on disk (page
// cache), not in a heap copy. Writes TRIBUTARY_BENCH_GIB GiB (default 0.25,
// so the CI smoke run is short) of 1 KiB records with Sync::kNo into a POSIX
// store under the build tree and reports the process's peak resident set.
//
//   TRIBUTARY_BENCH_GIB=5 build/release/bench/durable_memory_bench
//
// Issue target: writing 5 GB keeps resident memory under 256 MB.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tributary/tributary.h"

namespace {

long RssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void BM_Durable_MemoryFlat(benchmark::State& state) {
  const char* env = std::getenv("TRIBUTARY_BENCH_GIB");
  const double gib = env != nullptr ? std::atof(env) : 0.25;
  const std::string dir = std::filesystem::current_path() / "durable_memory_tmp";
  std::filesystem::remove_all(dir);
  tributary::StoreOptions o;
  o.sync = tributary::Sync::kNo;
  long peak = 0;
  uint64_t total = 0;
  for (auto _ : state) {
    auto store = tributary::Store::Open(dir, o);
    if (!store.ok() || !(*store)->CreateStream("big", 4).ok()) {
      state.SkipWithError("cannot open the store");
      return;
    }
    const std::string data(1024, 'x');
    std::vector<std::string> keys;
    for (int i = 0; i < 256; ++i) keys.push_back("key-" + std::to_string(i));
    std::vector<tributary::PutRecordInput> batch;
    for (int i = 0; i < 500; ++i) batch.push_back({keys[i % 256], data, std::nullopt});
    const uint64_t target = static_cast<uint64_t>(gib * (uint64_t{1} << 30));
    for (int i = 0; total < target; ++i) {
      auto r = (*store)->PutBatch("big", batch);
      if (!r.ok() || r->failed_record_count != 0) {
        state.SkipWithError("PutBatch failed");
        return;
      }
      total += batch.size() * (data.size() + keys[0].size());
      if (i % 256 == 0) peak = std::max(peak, RssKiB());
    }
    peak = std::max(peak, RssKiB());
  }
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(static_cast<int64_t>(total));
  state.counters["written_GiB"] = static_cast<double>(total) / (1 << 30);
  state.counters["peak_rss_MiB"] = static_cast<double>(peak) / 1024;
}
BENCHMARK(BM_Durable_MemoryFlat)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
