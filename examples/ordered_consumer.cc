// Ordered consumer: a RecordProcessor reads a durable stream across a split
// and a merge (parents before children, checkpointing every batch); a second
// run over the reopened store resumes after the checkpoints. Exits 1 if a
// key's records arrive out of order, twice, or not at all.
#include <cstdlib>
#include <filesystem>
#include <map>

#include "fmt/core.h"
#include "tributary/tributary.h"

using namespace tributary;  // NOLINT: a short example

constexpr char kDir[] = "ordered-consumer-data";
constexpr char kStream[] = "events";

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  fmt::print(stderr, "{}: {}\n", what, s.ToString());
  std::exit(2);
}
template <typename T>
T Check(absl::StatusOr<T> v, const char* what) {
  Check(v.status(), what);
  return *std::move(v);
}

std::map<std::string, int> written, seen;  // per key: records written / last number processed
int processed = 0, errors = 0;

struct Printer : RecordProcessor {
  void ProcessRecords(const RecordBatch& batch, Checkpointer& cp) override {
    for (const Record& r : batch.records) {
      int n = std::stoi(r.data);
      if (n != seen[r.partition_key] + 1) ++errors;  // out of order, repeated or skipped
      seen[r.partition_key] = n;
      ++processed;
    }
    Check(cp.Checkpoint(), "Checkpoint");
  }
  void ShardEnded(Checkpointer&) override { fmt::print("  shard ended (SHARD_END)\n"); }
};

void Write(Store& store, int n) {
  for (int i = 0; i < n; ++i) {
    std::string key = fmt::format("device-{}", i % 6), data = std::to_string(++written[key]);
    Check(store.Put(kStream, {.partition_key = key, .data = data}), "Put");
  }
}

// Runs a worker until `want` more records were processed, then stops it
// gracefully (its leases are released with their checkpoints).
void Consume(Store& store, int want) {
  ConsumerOptions o{.stream = kStream, .consumer_name = "example-app"};
  o.idle_interval = absl::Milliseconds(5);
  auto worker = Check(ConsumerWorker::Create(store, o, [](const std::string& shard) {
    fmt::print("  processor for {}\n", shard);
    return std::make_unique<Printer>();
  }), "ConsumerWorker");
  const int target = processed + want;
  for (int idle = 0; processed < target && idle < 5000;) {  // gives up after ~5 s without records
    if (Check(worker->RunOnce(), "RunOnce")) {
      idle = 0;
    } else {
      SystemClock()->SleepFor(absl::Milliseconds(1));  // every shard is caught up: wait a little
      ++idle;
    }
  }
  Check(worker->Stop(), "Stop");
}

std::vector<ShardDescription> Open(Store& store) {
  ListShardsRequest req{.stream = kStream, .shard_filter = ShardFilter{ShardFilterType::kAtLatest}};
  return Check(store.ListShards(req), "ListShards").shards;
}

int main() {
  std::filesystem::remove_all(kDir);
  {
    auto store = Check(Store::Open(kDir), "Store::Open");
    Check(store->CreateStream(kStream, 2), "CreateStream");
    Write(*store, 300);
    auto open = Open(*store);
    Check(store->SplitShard(kStream, open[0].shard_id, open[0].hash_key_range.Midpoint()), "SplitShard");
    Write(*store, 300);
    open = Open(*store);  // by id: shard 1 (upper half), then shard 0's children 2 and 3
    Check(store->MergeShards(kStream, open[2].shard_id, open[0].shard_id), "MergeShards");  // 3 + 1
    Write(*store, 300);
    fmt::print("wrote 900 records over 6 keys across a split and a merge; first run:\n");
    Consume(*store, 900);
    Write(*store, 100);
  }
  fmt::print("processed {}; 100 more written, store closed and reopened; second run:\n", processed);
  auto store = Check(Store::Open(kDir), "Store::Open");
  Consume(*store, 100);
  for (const auto& [key, n] : written) errors += seen[key] != n;
  fmt::print("processed {} records in all, {} ordering errors\n", processed, errors);
  return std::filesystem::remove_all(kDir), errors == 0 && processed == 1000 ? 0 : 1;
}
