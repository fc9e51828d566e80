// Helpers for tests that drive a Store through its public API only:
// a fixture holding a ManualClock and an in-memory Store, shard listings,
// "read a shard to the end", partition checks and partition-key search.
//
// Everything here REQUIREs success of the calls it makes, so a helper failure
// is reported at the helper's line with the status printed.
#ifndef TRIBUTARY_TESTS_TESTING_STORE_UTIL_H_
#define TRIBUTARY_TESTS_TESTING_STORE_UTIL_H_

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "testing/status_matchers.h"
#include "tributary/tributary.h"

namespace tributary::testing {

// 2^128 / n style boundaries, computed independently of the library.
inline HashKey KinesisShardStart(int i, int n) {
  // floor(i * 2^128 / n) without overflow: 2^128 = q*n + r.
  absl::uint128 max = absl::Uint128Max();
  absl::uint128 un = static_cast<uint64_t>(n);
  absl::uint128 q = max / un;
  absl::uint128 r = max % un + 1;  // 2^128 = q*n + r, 1 <= r <= n
  if (r == un) {
    q += 1;
    r = 0;
  }
  absl::uint128 ui = static_cast<uint64_t>(i);
  return HashKey(ui * q + (ui * r) / un);
}

// The Store a StoreFixture holds, and what must outlive it (`server`: null
// for an in-memory store).
struct TestStore {
  std::shared_ptr<void> server;
  std::unique_ptr<Store> store;
};
using TestStoreOpener = TestStore (*)(StoreOptions options, ManualClock* clock);

// An in-memory Store on `clock`.
inline TestStore OpenInMemoryTestStore(StoreOptions options, ManualClock* clock) {
  options.clock = clock;
  auto opened = Store::OpenInMemory(options);
  REQUIRE_OK(opened);
  return TestStore{nullptr, std::move(opened).value()};
}

// What StoreFixture opens: an in-memory store, unless the executable
// replaces it before main. remote_store_tests links the store tests'
// objects (tests/stream/*.cc, compiled once for store_tests) with
// tests/remote/store_fixture_remote.cc, which sets it to open a remote Store
// on a tributary-server of its own. Tests that need `clock` to drive the
// store's time are tagged [local-only] and not run there.
inline TestStoreOpener test_store_opener = &OpenInMemoryTestStore;

// A ManualClock and the Store test_store_opener opens with it.
struct StoreFixture {
  explicit StoreFixture(StoreOptions options = StoreOptions()) {
    TestStore opened = test_store_opener(std::move(options), &clock);
    server = std::move(opened.server);
    store = std::move(opened.store);
  }

  ManualClock clock;
  std::shared_ptr<void> server;  // declared first: destroyed after `store`
  std::unique_ptr<Store> store;

  Store& operator*() { return *store; }
  Store* operator->() { return store.get(); }
};

// Every non-expired shard of `stream` (ListShards without filter, all pages).
inline std::vector<ShardDescription> AllShards(Store& store, const std::string& stream) {
  std::vector<ShardDescription> out;
  ListShardsRequest req;
  req.stream = stream;
  for (int guard = 0; guard < 100000; ++guard) {
    auto page = store.ListShards(req);
    REQUIRE_OK(page);
    out.insert(out.end(), page->shards.begin(), page->shards.end());
    if (!page->next_token) break;
    req = ListShardsRequest();
    req.next_token = *page->next_token;
  }
  return out;
}

// The OPEN shards of `stream`, sorted by range start.
inline std::vector<ShardDescription> OpenShards(Store& store, const std::string& stream) {
  std::vector<ShardDescription> open;
  for (auto& s : AllShards(store, stream)) {
    if (s.state == ShardState::kOpen) open.push_back(s);
  }
  std::sort(open.begin(), open.end(), [](const ShardDescription& a, const ShardDescription& b) {
    return a.hash_key_range.start < b.hash_key_range.start;
  });
  return open;
}

inline std::optional<ShardDescription> FindShard(Store& store, const std::string& stream,
                                                 const std::string& shard_id) {
  for (auto& s : AllShards(store, stream)) {
    if (s.shard_id == shard_id) return s;
  }
  return std::nullopt;
}

inline std::set<std::string> ShardIds(const std::vector<ShardDescription>& shards) {
  std::set<std::string> ids;
  for (const auto& s : shards) ids.insert(s.shard_id);
  return ids;
}

// Empty string if `ranges` (sorted by start) partition [0, 2^128-1] exactly;
// otherwise a description of the first gap or overlap.
inline std::string PartitionProblem(const std::vector<HashKeyRange>& ranges) {
  if (ranges.empty()) return "no ranges";
  if (ranges.front().start != HashKey::Min()) {
    return "first range starts at " + ranges.front().start.ToString();
  }
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].end < ranges[i].start) return "empty range at index " + std::to_string(i);
    if (i + 1 < ranges.size() && !ranges[i].IsFollowedBy(ranges[i + 1])) {
      std::ostringstream os;
      os << "range " << ranges[i] << " is not followed by " << ranges[i + 1];
      return os.str();
    }
  }
  if (ranges.back().end != HashKey::Max()) {
    return "last range ends at " + ranges.back().end.ToString();
  }
  return "";
}

inline std::string PartitionProblem(const std::vector<ShardDescription>& sorted_shards) {
  std::vector<HashKeyRange> ranges;
  for (const auto& s : sorted_shards) ranges.push_back(s.hash_key_range);
  return PartitionProblem(ranges);
}

// A partition key whose MD5 falls in `range` ("<prefix><n>" for the smallest n).
// REQUIRES: the range is not tiny (expected tries = 2^128 / width).
inline std::string KeyIn(const HashKeyRange& range, std::string_view prefix = "key-") {
  for (int n = 0; n < 1000000; ++n) {
    std::string key = std::string(prefix) + std::to_string(n);
    if (range.Contains(HashKey::FromPartitionKey(key))) return key;
  }
  FAIL("no partition key found for range " << range);
  return "";
}

inline HashKey Midpoint(const HashKeyRange& r) {
  return HashKey(r.start.value() + r.WidthMinusOne() / 2 + 1);
}

inline std::string Iterator(Store& store, const std::string& stream, const std::string& shard_id,
                            ShardIteratorType type = ShardIteratorType::kTrimHorizon,
                            std::optional<std::string> seq = std::nullopt,
                            std::optional<absl::Time> ts = std::nullopt) {
  GetShardIteratorRequest req;
  req.stream = stream;
  req.shard_id = shard_id;
  req.type = type;
  req.starting_sequence_number = std::move(seq);
  req.timestamp = ts;
  auto it = store.GetShardIterator(req);
  REQUIRE_OK(it);
  return *it;
}

struct ShardRead {
  std::vector<Record> records;
  // True if the shard was read to its end (no next iterator: CLOSED shard).
  bool reached_end = false;
  std::vector<ChildShard> child_shards;
  int calls = 0;
};

// Reads a shard from `iterator` until GetRecords returns no next iterator
// (a CLOSED shard read to its end) or returns no records (caught up on an
// OPEN shard).
inline ShardRead ReadFrom(Store& store, std::string iterator, int limit = 10000) {
  ShardRead out;
  // Generous for any test here; a shard that never ends or catches up is a bug.
  for (int guard = 0; guard < 20000; ++guard) {
    auto got = store.GetRecords(iterator, limit);
    REQUIRE_OK(got);
    ++out.calls;
    out.records.insert(out.records.end(), got->records.begin(), got->records.end());
    if (!got->next_shard_iterator) {
      out.reached_end = true;
      out.child_shards = got->child_shards;
      return out;
    }
    if (got->records.empty()) return out;
    iterator = *got->next_shard_iterator;
  }
  FAIL("shard read did not terminate after " << out.calls << " GetRecords calls and "
                                              << out.records.size() << " records");
  return out;
}

inline ShardRead ReadShard(Store& store, const std::string& stream, const std::string& shard_id,
                           int limit = 10000) {
  return ReadFrom(store, Iterator(store, stream, shard_id), limit);
}

inline PutRecordInput Input(std::string_view key, std::string_view data = "") {
  PutRecordInput in;
  in.partition_key = key;
  in.data = data;
  return in;
}

inline PutRecordInput InputWithHash(std::string_view key, std::string_view hash,
                                    std::string_view data = "") {
  PutRecordInput in;
  in.partition_key = key;
  in.data = data;
  in.explicit_hash_key = hash;
  return in;
}

inline PutRecordResult PutOk(Store& store, const std::string& stream, std::string_view key,
                             std::string_view data = "") {
  auto r = store.Put(stream, Input(key, data));
  REQUIRE_OK(r);
  return *r;
}

inline StreamStatus StatusOf(Store& store, std::string_view stream) {
  auto d = store.DescribeStreamSummary(stream);
  REQUIRE_OK(d);
  return d->stream_status;
}

inline std::vector<std::string> DataOf(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.data);
  return out;
}

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTS_TESTING_STORE_UTIL_H_
