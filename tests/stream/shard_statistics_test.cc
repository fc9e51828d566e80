// Store::GetShardStatistics: per-shard record and byte counts, last sequence
// number and arrival times, as the status page shows them.
#include <catch2/catch.hpp>

#include "testing/status_matchers.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

const ShardStatistics* Find(const std::vector<ShardStatistics>& all, const std::string& id) {
  for (const ShardStatistics& s : all) {
    if (s.shard_id == id) return &s;
  }
  return nullptr;
}

TEST_CASE("GetShardStatistics counts what each shard holds", "[store][stats]") {
  ManualClock clock;
  StoreOptions options;
  options.clock = &clock;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::OpenInMemory(options));
  REQUIRE_OK(store->CreateStream("s", 1));
  ASSIGN_OR_REQUIRE(std::vector<ShardStatistics> empty, store->GetShardStatistics("s"));
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].shard_id == "shardId-000000000000");
  CHECK(empty[0].records == 0);
  CHECK_FALSE(empty[0].last_sequence_number.has_value());
  CHECK_FALSE(empty[0].oldest_arrival.has_value());

  const absl::Time t0 = clock.Now();
  REQUIRE_OK(store->Put("s", {"key", "12345"}));  // 3 + 5 bytes
  clock.Advance(absl::Seconds(2));
  ASSIGN_OR_REQUIRE(PutRecordResult last, store->Put("s", {"k", "xy"}));  // 1 + 2 bytes
  ASSIGN_OR_REQUIRE(std::vector<ShardStatistics> st, store->GetShardStatistics("s"));
  REQUIRE(st.size() == 1);
  CHECK(st[0].records == 2);
  CHECK(st[0].bytes == 11);
  CHECK(st[0].last_sequence_number == last.sequence_number);
  CHECK(st[0].oldest_arrival == t0);
  CHECK(st[0].newest_arrival == t0 + absl::Seconds(2));

  // After a split the parent keeps its records and the children start empty.
  ASSIGN_OR_REQUIRE(StreamDescription d, store->DescribeStream({"s"}));
  REQUIRE_OK(store->SplitShard("s", "shardId-000000000000", d.shards[0].hash_key_range.Midpoint()));
  REQUIRE_OK(store->Put("s", {"key", "after"}));
  ASSIGN_OR_REQUIRE(st, store->GetShardStatistics("s"));
  REQUIRE(st.size() == 3);
  CHECK(Find(st, "shardId-000000000000")->records == 2);
  CHECK(Find(st, "shardId-000000000001")->records + Find(st, "shardId-000000000002")->records == 1);

  // Once the parent's records expired it is EXPIRED and not reported.
  clock.Advance(absl::Hours(24) + absl::Seconds(1));
  ASSIGN_OR_REQUIRE(st, store->GetShardStatistics("s"));
  CHECK(Find(st, "shardId-000000000000") == nullptr);
  CHECK(st.size() == 2);

  REQUIRE_ERROR(store->GetShardStatistics("nope"), ErrorType::kResourceNotFound);
}

TEST_CASE("GetShardStatistics of a durable store survives a reopen", "[store][stats]") {
  std::unique_ptr<Env> env = NewMemEnv();
  StoreOptions options;
  options.env = env.get();
  {
    ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::Open("/db", options));
    REQUIRE_OK(store->CreateStream("s", 1));
    for (int i = 0; i < 5; ++i) REQUIRE_OK(store->Put("s", {"k", "v"}));
  }
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::Open("/db", options));
  ASSIGN_OR_REQUIRE(std::vector<ShardStatistics> st, store->GetShardStatistics("s"));
  REQUIRE(st.size() == 1);
  CHECK(st[0].records == 5);
  CHECK(st[0].bytes == 10);
  CHECK(st[0].last_sequence_number.has_value());
}

}  // namespace
}  // namespace tributary
