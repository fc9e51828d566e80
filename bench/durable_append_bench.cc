// Durable write path: Store::PutBatch and Store::Put on a POSIX store
// (Store::Open) in a scratch directory under the build tree, next to what the
// disk itself does, measured in the same run:
//
//   BM_RawSequentialWrite/sync_at_end:<0|1>  1 KiB write()s to one file, the
//       same total as the sync-off PutBatch runs (1 GiB); sync_at_end:1 adds
//       one fdatasync at the end (the disk's real sequential bandwidth).
//   BM_Fdatasync                             write 1 KiB + fdatasync: the
//       latency floor of a synced record.
//   BM_Durable_PutBatch/sync:0/threads:N     500 x 1 KiB records per call, OS
//       buffered (Sync::kNo), 1 GiB in all; N writers share one shard.
//   BM_Durable_PutBatch/sync:1/threads:N     same with Sync::kYes: group
//       commit, concurrent writers share fdatasyncs.
//   BM_Durable_PutSyncEach/threads:N         Put of one record with
//       Sync::kYes: threads:1 is one sync per record, the baseline.
//   BM_Durable_PutBatch/env:mem/sync:0       the sync-off path on MemEnv:
//       the CPU cost of framing, checksums and indexing, no kernel.
//   BM_Durable_PutBatchShards/shards:S/sync:X  500 x 100 B records per call
//       with distinct partition keys, so one call touches up to S shards
//       (S = 1, 16, 64, 256), 4 writer threads: the write-ahead log's group
//       commit makes the synced cost independent of S (issue 17: 256 shards
//       at >= 50% of 1 shard).
//
// Targets (issue 3): sync:0 PutBatch >= 70% of BM_RawSequentialWrite/
// sync_at_end:0 bytes/s; PutBatch/sync:1/threads:16 records/s >= 10x
// PutSyncEach/threads:1. All writers write to one shard, so group commit has
// something to share. Every run starts from an empty store, and the
// scratch directory is removed at the end. TRIBUTARY_BENCH_MIN_TIME=S
// replaces the timed benchmarks' minimum times (2 s; 1 s for BM_Fdatasync).
// Release builds only:
//   cmake -S . -B build/clibench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIBUTARY_BUILD_TESTS=OFF
//   cmake --build build/clibench --target durable_append_bench
//   build/clibench/bench/durable_append_bench --benchmark_out=durable.json
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.h"
#include "tributary/tributary.h"

#ifndef TRIBUTARY_BENCH_TMPDIR
#error "TRIBUTARY_BENCH_TMPDIR must name a scratch directory under the build tree"
#endif

namespace tributary::bench {
namespace {

constexpr size_t kRecordBytes = 1024;
constexpr int kBatchSize = 500;
constexpr int64_t kBatchBytes = int64_t{kBatchSize} * kRecordBytes;
// Sync-off runs and the raw write write this many batches in all (1 GiB).
constexpr int64_t kTotalBatches = 2048;

std::string ScratchDir() { return TRIBUTARY_BENCH_TMPDIR; }

void Die(const char* what) {
  std::perror(what);
  std::abort();
}

// ---------------------------------------------------------------- the disk

void BM_RawSequentialWrite(benchmark::State& state) {
  const bool sync_at_end = state.range(0) != 0;
  const std::string path = ScratchDir() + "/raw";
  const std::string data = Payload(kRecordBytes);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open");
  benchmark::IterationCount n = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatchSize; ++i) {
      if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) Die("write");
    }
    // The sync is part of the last (timed) iteration.
    if (++n == state.max_iterations && sync_at_end && ::fdatasync(fd) != 0) Die("fdatasync");
  }
  if (!sync_at_end && ::fdatasync(fd) != 0) Die("fdatasync");  // untimed: leave no dirty pages
  ::close(fd);
  ::unlink(path.c_str());
  ::sync();  // pay for the unlink (and its discards) here, not in the next run
  state.SetItemsProcessed(state.iterations() * kBatchSize);
  state.SetBytesProcessed(state.iterations() * kBatchBytes);
}

void BM_Fdatasync(benchmark::State& state) {
  const std::string path = ScratchDir() + "/fdatasync";
  const std::string data = Payload(kRecordBytes);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open");
  for (auto _ : state) {
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) Die("write");
    if (::fdatasync(fd) != 0) Die("fdatasync");
  }
  ::close(fd);
  ::unlink(path.c_str());
  ::sync();  // pay for the unlink (and its discards) here, not in the next run
  state.SetItemsProcessed(state.iterations());
}

// ---------------------------------------------------------------- the store

// The store of one benchmark run, shared by its threads: thread 0 creates it
// before the timed loop and destroys it (and its files) after; the loop's
// start and stop barriers order that against the other threads.
std::unique_ptr<Env> g_mem_env;
std::unique_ptr<Store> g_store;

enum class Backend { kPosix, kMem };

void StartStore(benchmark::State& state, Backend backend, Sync sync, int shards = 1) {
  if (state.thread_index() != 0) return;
  StoreOptions options;
  options.sync = sync;
  std::string dir = ScratchDir() + "/store";
  if (backend == Backend::kMem) {
    g_mem_env = NewMemEnv();
    options.env = g_mem_env.get();
  } else {
    std::filesystem::remove_all(dir);
  }
  auto store = Store::Open(dir, options);
  CheckOk(store.status(), "Store::Open");
  g_store = std::move(*store);
  CheckOk(g_store->CreateStream("bench", shards), "CreateStream");
}

void StopStore(benchmark::State& state) {
  if (state.thread_index() != 0) return;
  g_store.reset();
  g_mem_env.reset();
  std::filesystem::remove_all(ScratchDir() + "/store");
  ::sync();  // the next run starts with no writeback pending
}

// Batches with distinct keys (kNumKeys / kBatchSize of them), used in turn.
const std::vector<std::vector<PutRecordInput>>& Batches() {
  static const auto* batches = [] {
    static const std::string data = Payload(kRecordBytes);
    auto* b = new std::vector<std::vector<PutRecordInput>>(kNumKeys / kBatchSize);
    for (size_t i = 0; i < b->size(); ++i) {
      for (int r = 0; r < kBatchSize; ++r) {
        (*b)[i].push_back(PutRecordInput{Keys()[i * kBatchSize + r], data, std::nullopt});
      }
    }
    return b;
  }();
  return *batches;
}

void BM_Durable_PutBatch(benchmark::State& state, Backend backend, Sync sync) {
  StartStore(state, backend, sync);
  const auto& batches = Batches();
  const WriteOptions write_options{sync};
  size_t i = static_cast<size_t>(state.thread_index());
  for (auto _ : state) {
    auto result = g_store->PutBatch("bench", batches[i++ % batches.size()], write_options);
    if (!result.ok() || result->failed_record_count != 0) {
      state.SkipWithError(result.ok() ? "PutBatch: some records failed" : result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  StopStore(state);
  state.SetItemsProcessed(state.iterations() * kBatchSize);
  state.SetBytesProcessed(state.iterations() * kBatchBytes);
}

// 100-byte records, the batches of Batches() otherwise.
const std::vector<std::vector<PutRecordInput>>& SmallBatches() {
  static const auto* batches = [] {
    static const std::string data = Payload(100);
    auto* b = new std::vector<std::vector<PutRecordInput>>(kNumKeys / kBatchSize);
    for (size_t i = 0; i < b->size(); ++i) {
      for (int r = 0; r < kBatchSize; ++r) {
        (*b)[i].push_back(PutRecordInput{Keys()[i * kBatchSize + r], data, std::nullopt});
      }
    }
    return b;
  }();
  return *batches;
}

void BM_Durable_PutBatchShards(benchmark::State& state, int shards, Sync sync) {
  StartStore(state, Backend::kPosix, sync, shards);
  const auto& batches = SmallBatches();
  const WriteOptions write_options{sync};
  size_t i = static_cast<size_t>(state.thread_index()) * 3;
  for (auto _ : state) {
    auto result = g_store->PutBatch("bench", batches[i++ % batches.size()], write_options);
    if (!result.ok() || result->failed_record_count != 0) {
      state.SkipWithError(result.ok() ? "PutBatch: some records failed" : result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  StopStore(state);
  state.SetItemsProcessed(state.iterations() * kBatchSize);
  state.SetBytesProcessed(state.iterations() * kBatchSize * 100);
}

void BM_Durable_PutSyncEach(benchmark::State& state) {
  StartStore(state, Backend::kPosix, Sync::kYes);
  const std::string data = Payload(kRecordBytes);
  const WriteOptions write_options{Sync::kYes};
  size_t i = static_cast<size_t>(state.thread_index()) * 97;
  for (auto _ : state) {
    const std::string& key = Keys()[i++ & (kNumKeys - 1)];
    auto result = g_store->Put("bench", PutRecordInput{key, data, std::nullopt}, std::nullopt, write_options);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  StopStore(state);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kRecordBytes));
}

// The minimum time of the timed benchmarks: 2 s (1 s for BM_Fdatasync) for
// stable figures, or TRIBUTARY_BENCH_MIN_TIME seconds if set (scripts/test's
// smoke run sets it: it checks that each benchmark runs, not its figures).
double MinTimeOr(double seconds) { return EnvNumber("TRIBUTARY_BENCH_MIN_TIME", seconds); }

void RegisterAll() {
  for (int sync_at_end : {0, 1}) {
    benchmark::RegisterBenchmark(
        ("BM_RawSequentialWrite/sync_at_end:" + std::to_string(sync_at_end)).c_str(),
        [](benchmark::State& s) { BM_RawSequentialWrite(s); })
        ->Arg(sync_at_end)
        ->Iterations(kTotalBatches)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("BM_Fdatasync", BM_Fdatasync)->MinTime(MinTimeOr(1.0))->UseRealTime()->Unit(
      benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Durable_PutBatch/env:mem/sync:0", [](benchmark::State& s) {
    BM_Durable_PutBatch(s, Backend::kMem, Sync::kNo);
  })->Iterations(kTotalBatches / 4)->UseRealTime()->Unit(benchmark::kMillisecond);
  for (int threads : {1, 4, 16}) {
    benchmark::RegisterBenchmark("BM_Durable_PutBatch/sync:0", [](benchmark::State& s) {
      BM_Durable_PutBatch(s, Backend::kPosix, Sync::kNo);
    })->Threads(threads)->Iterations(kTotalBatches / threads)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  for (int threads : {1, 4, 16}) {
    benchmark::RegisterBenchmark("BM_Durable_PutBatch/sync:1", [](benchmark::State& s) {
      BM_Durable_PutBatch(s, Backend::kPosix, Sync::kYes);
    })->Threads(threads)->MinTime(MinTimeOr(2.0))->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  for (int sync : {0, 1}) {
    for (int shards : {1, 16, 64, 256}) {
      benchmark::RegisterBenchmark(
          ("BM_Durable_PutBatchShards/shards:" + std::to_string(shards) + "/sync:" + std::to_string(sync))
              .c_str(),
          [sync, shards](benchmark::State& s) {
            BM_Durable_PutBatchShards(s, shards, sync != 0 ? Sync::kYes : Sync::kNo);
          })
          ->Threads(4)
          ->MinTime(MinTimeOr(2.0))
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (int threads : {1, 4, 16}) {
    benchmark::RegisterBenchmark("BM_Durable_PutSyncEach", BM_Durable_PutSyncEach)
        ->Threads(threads)
        ->MinTime(MinTimeOr(2.0))
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const std::string dir = tributary::bench::ScratchDir();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  tributary::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(dir);
  return 0;
}
