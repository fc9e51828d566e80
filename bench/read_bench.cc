// Read path: Store::GetRecords through shard iterators on an in-memory store.
//
//   BM_GetRecords/<record bytes>   GetRecords(limit 1000) over a pre-filled
//                                  1-shard stream, iterator to iterator
//
// Each iteration is one GetRecords call; at the end of the shard the reader
// starts again from TRIM_HORIZON (timing paused). Bytes processed count
// record data only.
//
// There is no BM_Route: the public API offers no way to route a record
// without also hashing and appending it (an ExplicitHashKey only trades MD5
// for decimal parsing), so routing cost shows only as the difference between
// BM_Put/<bytes>/1 and BM_Put/<bytes>/64 in append_bench.
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

#include "bench_common.h"
#include "tributary/tributary.h"

namespace tributary::bench {
namespace {

constexpr int kReadLimit = 1000;
constexpr int kPrefillRecords = 100'000;

// A 1-shard stream holding kPrefillRecords records of `record_bytes` bytes,
// filled on first use and kept for the life of the program.
const std::string& FilledStream(size_t record_bytes) {
  static auto* streams = new std::map<size_t, std::string>();
  auto it = streams->find(record_bytes);
  if (it != streams->end()) return it->second;

  std::string name = "read-" + std::to_string(record_bytes);
  Store& store = BenchStore();
  CheckOk(store.CreateStream(name, 1), "CreateStream");
  const std::string data = Payload(record_bytes);
  const std::vector<std::string>& keys = Keys();
  std::vector<PutRecordInput> batch;
  for (int i = 0; i < kPrefillRecords; ++i) {
    batch.push_back(PutRecordInput{keys[i & (kNumKeys - 1)], data, std::nullopt});
    if (batch.size() == 500 || i + 1 == kPrefillRecords) {
      auto result = store.PutBatch(name, batch);
      CheckOk(result.status(), "PutBatch");
      if (result->failed_record_count != 0) CheckOk(absl::InternalError("throttled"), "PutBatch");
      batch.clear();
    }
  }
  return streams->emplace(record_bytes, std::move(name)).first->second;
}

std::string TrimHorizon(const std::string& stream) {
  auto it = BenchStore().GetShardIterator(
      {.stream = stream, .shard_id = FormatShardId(0), .type = ShardIteratorType::kTrimHorizon});
  CheckOk(it.status(), "GetShardIterator");
  return *std::move(it);
}

void BM_GetRecords(benchmark::State& state) {
  const size_t record_bytes = static_cast<size_t>(state.range(0));
  const std::string& stream = FilledStream(record_bytes);
  std::string iterator = TrimHorizon(stream);
  int64_t records = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    auto result = BenchStore().GetRecords(iterator, kReadLimit);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    records += static_cast<int64_t>(result->records.size());
    for (const Record& r : result->records) bytes += static_cast<int64_t>(r.data.size());
    if (result->records.empty() || !result->next_shard_iterator) {
      state.PauseTiming();
      iterator = TrimHorizon(stream);
      state.ResumeTiming();
    } else {
      iterator = *std::move(result->next_shard_iterator);
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
}

BENCHMARK(BM_GetRecords)->Arg(100)->Arg(1024);

}  // namespace
}  // namespace tributary::bench

BENCHMARK_MAIN();
