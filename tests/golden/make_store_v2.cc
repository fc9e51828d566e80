// Writes tests/golden/store_v2 and tests/golden/store_v2_crash: durable
// stores as the first Tributary with a write-ahead log wrote them (segment
// format 1, segment index format 1, WAL format 1, recovery point format 1,
// catalog format 1; docs/FORMAT.md). Public API only, deterministic (a
// ManualClock), built against the library of this tree:
//
//   c++ -std=c++20 tests/golden/make_store_v2.cc -Iinclude <libs> -o make_store_v2
//   ./make_store_v2 tests/golden/store_v2 clean
//   ./make_store_v2 tests/golden/store_v2_crash crash
//
// The records are make_store_v1's recipe (tests/durable/golden_test.cc
// knows it): stream "golden", 2 shards, 4 KiB segments; 60 records of 150
// bytes, alternating Put and 3-record PutBatch, shard 0 split, 10 records
// "after-<i>"; stream "idle" with 1 shard and no record. `clean` closes the
// store (a recovery point with every segment, index files); `crash` ends
// the process without closing it and with checkpoints off, so every record
// is in the WAL past the last recovery point (and in the segments' unsynced
// tails, which the process's end leaves to the OS).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tributary/tributary.h"

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[2], "clean") != 0 && std::strcmp(argv[2], "crash") != 0)) {
    std::fprintf(stderr, "usage: make_store_v2 DIR clean|crash\n");
    return 2;
  }
  const bool crash = std::strcmp(argv[2], "crash") == 0;
  tributary::ManualClock clock;
  tributary::StoreOptions o;
  o.clock = &clock;
  o.segment_bytes = 4096;
  o.checkpoint_wal_bytes = uint64_t{1} << 40;  // checkpoints only where asked for
  o.checkpoint_interval = absl::ZeroDuration();
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
  if (crash) std::_Exit(0);  // no clean shutdown: no final recovery point
  return 0;
}
