// The stores the fuzz targets run against, shared with make_seeds.cc so that
// seeds (tokens, iterators) taken from them stay valid inputs. Everything is
// deterministic: a ManualClock at its default time and fixed data, so a
// token issued by one instance decodes in another.
#ifndef TRIBUTARY_TESTS_FUZZ_FIXTURES_H_
#define TRIBUTARY_TESTS_FUZZ_FIXTURES_H_

#include <memory>
#include <string>

#include "fuzz/fuzz_util.h"
#include "tributary/tributary.h"

namespace tributary::fuzz {

inline StoreOptions SmallStoreOptions(ManualClock* clock) {
  StoreOptions o;
  o.clock = clock;
  o.memory_pool_bytes = 1 << 20;
  o.segment_bytes = 1 << 16;
  return o;
}

// token_fuzz: streams "s" (a split: 3 shards, 40 records) and "t", and two
// consumers of "s".
struct TokenFixture {
  ManualClock clock;
  std::unique_ptr<Store> store;
  TokenFixture() {
    store = *Store::OpenInMemory(SmallStoreOptions(&clock));
    FUZZ_CHECK(store->CreateStream("s", 2).ok(), "CreateStream");
    FUZZ_CHECK(store->CreateStream("t", 1).ok(), "CreateStream");
    for (int i = 0; i < 20; ++i) {
      std::string k = "key-" + std::to_string(i);
      FUZZ_CHECK(store->Put("s", {k, "data-" + std::to_string(i)}).ok(), "Put");
    }
    FUZZ_CHECK(store->SplitShard("s", "shardId-000000000000",
                                 "42535295865117307932921825928971026432")
                   .ok(),
               "SplitShard");
    for (int i = 0; i < 20; ++i) {
      std::string k = "key-" + std::to_string(i);
      FUZZ_CHECK(store->Put("s", {k, "more-" + std::to_string(i)}).ok(), "Put");
    }
    FUZZ_CHECK(store->RegisterStreamConsumer("s", "c1").ok(), "RegisterStreamConsumer");
    FUZZ_CHECK(store->RegisterStreamConsumer("s", "c2").ok(), "RegisterStreamConsumer");
  }
};

// endpoint_fuzz: streams "s" (2 shards, 10 records) and "t" (1 shard).
struct EndpointFixture {
  ManualClock clock;
  std::unique_ptr<Store> store;
  EndpointFixture() {
    store = *Store::OpenInMemory(SmallStoreOptions(&clock));
    FUZZ_CHECK(store->CreateStream("s", 2).ok(), "CreateStream");
    FUZZ_CHECK(store->CreateStream("t", 1).ok(), "CreateStream");
    for (int i = 0; i < 10; ++i) {
      std::string k = "key-" + std::to_string(i);
      FUZZ_CHECK(store->Put("s", {k, "data-" + std::to_string(i)}).ok(), "Put");
    }
  }
  // A TRIM_HORIZON iterator of shard `i` of "s".
  std::string Iterator(int i) {
    GetShardIteratorRequest r;
    r.stream = "s";
    r.shard_id = FormatShardId(i);
    r.type = ShardIteratorType::kTrimHorizon;
    auto it = store->GetShardIterator(r);
    FUZZ_CHECK(it.ok(), "GetShardIterator");
    return *it;
  }
};

}  // namespace tributary::fuzz

#endif  // TRIBUTARY_TESTS_FUZZ_FIXTURES_H_
