// The ordered consumer against a raw scan of the same shards.
//
//   BM_OrderedDrain/<K>   a Consumer (pull API, one worker, in-memory lease
//                         table, TRIM_HORIZON, checkpoint after every batch)
//                         drains a stream whose shards went through K
//                         generations of split/merge: parents before
//                         children, leases taken and finished on the way
//   BM_RawScan/<K>        the same shards read raw and unordered: ListShards,
//                         then every shard from TRIM_HORIZON to its end
//
// Same data, same run, same GetRecords path (limit 10,000). One iteration is
// one full drain of kRecords records of 100 bytes; items/s is records/s.
// The targets: BM_OrderedDrain >= 90% of BM_RawScan at every K, and
// >= 5 M records/s, in memory, on one core.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <map>
#include <string>
#include <vector>

#include "bench_common.h"
#include "tributary/tributary.h"

namespace tributary::bench {
namespace {

constexpr int kRecords = 200'000;
constexpr size_t kRecordBytes = 100;
constexpr int kInitialShards = 4;
constexpr int kReadLimit = limits::kMaxGetRecordsLimit;

// A stream that went through `generations` reshards: even generations split
// every open shard in two, odd ones merge them back pairwise. Records are
// written before, between and after the reshards, so every generation of
// shards holds some. Built on first use and kept.
const std::string& GenerationsStream(int generations) {
  static auto* streams = new std::map<int, std::string>();
  auto it = streams->find(generations);
  if (it != streams->end()) return it->second;
  Store& store = BenchStore();
  std::string name = "generations-" + std::to_string(generations);
  CheckOk(store.CreateStream(name, kInitialShards), "CreateStream");
  const std::string data = Payload(kRecordBytes);
  const std::vector<std::string>& keys = Keys();
  const int per_phase = kRecords / (generations + 1);
  int written = 0;
  auto write = [&](int n) {
    std::vector<PutRecordInput> batch;
    for (int i = 0; i < n; ++i, ++written) {
      batch.push_back(PutRecordInput{keys[written & (kNumKeys - 1)], data, std::nullopt});
      if (batch.size() == 500 || i + 1 == n) {
        auto r = store.PutBatch(name, batch);
        CheckOk(r.status(), "PutBatch");
        if (r->failed_record_count != 0) CheckOk(absl::InternalError("throttled"), "PutBatch");
        batch.clear();
      }
    }
  };
  auto open_shards = [&] {
    std::vector<ShardDescription> open;
    auto listed = store.ListShards({.stream = name, .shard_filter = ShardFilter{ShardFilterType::kAtLatest}});
    CheckOk(listed.status(), "ListShards");
    open = listed->shards;
    std::sort(open.begin(), open.end(), [](const ShardDescription& a, const ShardDescription& b) {
      return a.hash_key_range.start < b.hash_key_range.start;
    });
    return open;
  };
  for (int g = 0; g < generations; ++g) {
    write(per_phase);
    auto open = open_shards();
    if (g % 2 == 0) {
      for (const ShardDescription& s : open) {
        CheckOk(store.SplitShard(name, s.shard_id, s.hash_key_range.Midpoint()), "SplitShard");
      }
    } else {
      for (size_t i = 0; i + 1 < open.size(); i += 2) {
        CheckOk(store.MergeShards(name, open[i].shard_id, open[i + 1].shard_id), "MergeShards");
      }
    }
  }
  write(kRecords - written);
  return streams->emplace(generations, std::move(name)).first->second;
}

void BM_RawScan(benchmark::State& state) {
  const std::string& stream = GenerationsStream(static_cast<int>(state.range(0)));
  Store& store = BenchStore();
  int64_t records = 0;
  int64_t bytes = 0;
  size_t shards = 0;
  for (auto _ : state) {
    int64_t n = 0;
    auto listed = store.ListShards({.stream = stream});
    if (!listed.ok()) {
      state.SkipWithError(listed.status().ToString().c_str());
      break;
    }
    shards = listed->shards.size();
    for (const ShardDescription& s : listed->shards) {
      auto it = store.GetShardIterator({.stream = stream, .shard_id = s.shard_id});
      if (!it.ok()) {
        state.SkipWithError(it.status().ToString().c_str());
        return;
      }
      std::string iterator = *std::move(it);
      for (;;) {
        auto r = store.GetRecords(iterator, kReadLimit);
        if (!r.ok()) {
          state.SkipWithError(r.status().ToString().c_str());
          return;
        }
        for (const Record& rec : r->records) bytes += static_cast<int64_t>(rec.data.size());
        n += static_cast<int64_t>(r->records.size());
        benchmark::DoNotOptimize(r->records.data());
        if (!r->next_shard_iterator || r->records.empty()) break;
        iterator = *std::move(r->next_shard_iterator);
      }
    }
    if (n != kRecords) {
      state.SkipWithError("raw scan did not see every record");
      break;
    }
    records += n;
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
  state.counters["shards"] = static_cast<double>(shards);
}

void BM_OrderedDrain(benchmark::State& state) {
  const std::string& stream = GenerationsStream(static_cast<int>(state.range(0)));
  Store& store = BenchStore();
  int64_t records = 0;
  int64_t bytes = 0;
  int64_t batches = 0;
  static int run = 0;
  for (auto _ : state) {
    // Initialized, not assigned: g++ 12 -O3 warns (-Wrestrict, a false
    // positive) about assigning short literals to these strings.
    ConsumerOptions o{.stream = stream,
                      .consumer_name = "bench-" + std::to_string(run++),
                      .worker_id = std::string("w"),
                      .lease_table = std::shared_ptr<LeaseTable>(NewInMemoryLeaseTable()),
                      .max_records_per_batch = kReadLimit};
    auto c = Consumer::Create(store, o);
    if (!c.ok()) {
      state.SkipWithError(c.status().ToString().c_str());
      break;
    }
    int64_t n = 0;
    while (n < kRecords) {
      auto b = (*c)->Poll();
      if (!b.ok() || !b->has_value()) {
        state.SkipWithError(b.ok() ? "the consumer stopped before the end" : b.status().ToString().c_str());
        return;
      }
      for (const Record& rec : (*b)->records) bytes += static_cast<int64_t>(rec.data.size());
      n += static_cast<int64_t>((*b)->records.size());
      ++batches;
      benchmark::DoNotOptimize((*b)->records.data());
      if (absl::Status s = (*c)->Checkpoint(**b); !s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
    }
    records += n;
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
  state.counters["batches/drain"] =
      benchmark::Counter(static_cast<double>(batches), benchmark::Counter::kAvgIterations);
}

BENCHMARK(BM_RawScan)->Arg(0)->Arg(2)->Arg(8)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OrderedDrain)->Arg(0)->Arg(2)->Arg(8)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tributary::bench

// A drain allocates and frees ~2 MB of records per GetRecords call. With
// glibc's defaults that memory goes back to the kernel after each call
// whenever it sits at the top of the heap, and the next call pays first-touch
// page faults for all of it: the scan measured 5 M records/s or 23 M records/s
// depending on which benchmark ran first. Keep freed memory in the process,
// as a long-running reader's heap does (the stance bench_common.h takes for
// the store's chunk pool), so the numbers show the read path.
int main(int argc, char** argv) {
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
