// Writes tests/golden/store_v1: a durable store as Tributary wrote it before
// the write-ahead log (segment format 1, catalog format 1; no RECOVERY, no
// wal/, no .idx files). Built against the release before issue 17 (commit
// ca1081f), public API only, deterministic (a ManualClock):
//
//   git archive ca1081f | tar -x -C /tmp/old && cmake -S /tmp/old -B /tmp/old/build ...
//   c++ -std=c++20 tests/golden/make_store_v1.cc -I/tmp/old/include <libs> -o make_store_v1
//   ./make_store_v1 tests/golden/store_v1
//
// The store (checked by tests/durable/golden_test.cc, which knows the same
// recipe): stream "golden", 2 shards, 4 KiB segments; 60 records of 150
// bytes (key "k<i mod 7>", data "golden-<i>-" padded with 'x'), one second
// apart, alternating Put and 3-record PutBatch; then shard 0 is split at its
// midpoint and 10 records "after-<i>" follow; stream "idle" has 1 shard and
// no record.
#include <cstdio>
#include <string>
#include <vector>

#include "tributary/tributary.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_store_v1 DIR\n");
    return 2;
  }
  tributary::ManualClock clock;
  tributary::StoreOptions o;
  o.clock = &clock;
  o.segment_bytes = 4096;
  auto s = tributary::Store::Open(argv[1], o);
  if (!s.ok()) return 1;
  tributary::Store& st = **s;
  if (!st.CreateStream("golden", 2).ok() || !st.CreateStream("idle", 1).ok()) return 1;
  auto data = [](const std::string& tag) {
    std::string d = tag;
    d.resize(150, 'x');
    return d;
  };
  for (int i = 0; i < 60;) {
    if (i % 2 == 0) {
      const std::string key = "k" + std::to_string(i % 7), d = data("golden-" + std::to_string(i) + "-");
      if (!st.Put("golden", {key, d, std::nullopt}).ok()) return 1;
      ++i;
    } else {
      // PutRecordInput holds views: the strings must outlive the call.
      std::vector<std::string> keys, datas;
      for (int j = 0; j < 3; ++j) {
        keys.push_back("k" + std::to_string((i + j) % 7));
        datas.push_back(data("golden-" + std::to_string(i + j) + "-"));
      }
      std::vector<tributary::PutRecordInput> batch;
      for (int j = 0; j < 3; ++j, ++i) batch.push_back({keys[j], datas[j], std::nullopt});
      auto r = st.PutBatch("golden", batch);
      if (!r.ok() || r->failed_record_count != 0) return 1;
    }
    clock.Advance(absl::Seconds(1));
  }
  tributary::ListShardsRequest req;
  req.stream = "golden";
  auto shards = st.ListShards(req);
  if (!shards.ok()) return 1;
  const auto& r0 = shards->shards[0].hash_key_range;
  const absl::uint128 mid = r0.start.value() + (r0.end.value() - r0.start.value()) / 2 + 1;
  if (!st.SplitShard("golden", shards->shards[0].shard_id, tributary::HashKey(mid).ToString()).ok()) return 1;
  for (int i = 0; i < 10; ++i) {
    const std::string key = "k" + std::to_string(i % 7), d = data("after-" + std::to_string(i) + "-");
    if (!st.Put("golden", {key, d, std::nullopt}).ok()) return 1;
    clock.Advance(absl::Seconds(1));
  }
  return 0;
}
