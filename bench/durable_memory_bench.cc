// Memory stays flat as a durable store grows: records live on disk (page
// cache), not in a heap copy. Writes TRIBUTARY_BENCH_GIB GiB (default 0.25,
// so the CI smoke run is short) of 1 KiB records with Sync::kNo into a POSIX
// store under the build tree and reports the process's peak resident set.
//
//   TRIBUTARY_BENCH_GIB=5 build/release/bench/durable_memory_bench
//
// Issue target: writing 5 GB keeps resident memory under 256 MB.
//
// BM_Durable_IdleShards: resident memory and descriptors of a store of many
// idle shards (TRIBUTARY_BENCH_SHARDS, default 10,000).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench_common.h"
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
  const double gib = tributary::bench::EnvNumber("TRIBUTARY_BENCH_GIB", 0.25);
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

int OpenDescriptors() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n - 1;  // the iterator's own
}

// Idle shards cost metadata only: TRIBUTARY_BENCH_SHARDS shards (default
// 10,000; the figure is 100,000) in streams of 10,000, none written,
// then a reopen. Reports resident memory per shard and open descriptors,
// after creating them and after reopening the store.
void BM_Durable_IdleShards(benchmark::State& state) {
  const int shards = static_cast<int>(tributary::bench::EnvNumber("TRIBUTARY_BENCH_SHARDS", 10000));
  const std::string dir = std::filesystem::current_path() / "durable_idle_tmp";
  std::filesystem::remove_all(dir);
  tributary::StoreOptions o;
  o.shard_limit = shards + 1;
  long base = 0, created = 0, reopened = 0;
  int fds_created = 0, fds_reopened = 0, fds_base = 0;
  for (auto _ : state) {
    ::malloc_trim(0);
    base = RssKiB();
    fds_base = OpenDescriptors();
    {
      auto store = tributary::Store::Open(dir, o);
      if (!store.ok()) {
        state.SkipWithError("cannot open the store");
        return;
      }
      for (int made = 0, i = 0; made < shards; ++i) {
        const int n = std::min(10000, shards - made);
        // Appended, not "s" + std::to_string(i): GCC 12's bogus -Wrestrict
        // (GCC bug 105329), an error in CI's -Werror Release build.
        std::string name = "s";
        name += std::to_string(i);
        if (!(*store)->CreateStream(name, n).ok()) {
          state.SkipWithError("CreateStream failed");
          return;
        }
        made += n;
      }
      created = RssKiB();
      fds_created = OpenDescriptors();
    }
    ::malloc_trim(0);  // give the first store's heap back before measuring
    auto store = tributary::Store::Open(dir, o);
    if (!store.ok()) {
      state.SkipWithError("cannot reopen the store");
      return;
    }
    reopened = RssKiB();
    fds_reopened = OpenDescriptors();
  }
  std::filesystem::remove_all(dir);
  state.counters["shards"] = shards;
  state.counters["rss_base_MiB"] = static_cast<double>(base) / 1024;
  state.counters["rss_per_shard_B_created"] = static_cast<double>(created - base) * 1024 / shards;
  state.counters["rss_per_shard_B_reopened"] = static_cast<double>(reopened - base) * 1024 / shards;
  state.counters["fds_base"] = fds_base;
  state.counters["fds_created"] = fds_created;
  state.counters["fds_reopened"] = fds_reopened;
}
BENCHMARK(BM_Durable_IdleShards)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
