// The testing toolkit for users (include/tributary/testing.h, target
// tributary::testing): the manual-clock helpers and the reshard helpers
// (fault injection: tests/endpoint/faults_two_ways_test.cc). Each test checks what the
// store really did (records read back, shard listings, clock readings), not
// just that the helper returned OK.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "tributary/testing.h"

namespace tributary::testing {
namespace {

// Every record of a shard, from TRIM_HORIZON to the current tip.
std::vector<Record> ReadShard(Store& store, const std::string& stream, const std::string& shard) {
  std::vector<Record> out;
  absl::StatusOr<std::string> it = store.GetShardIterator({stream, shard, ShardIteratorType::kTrimHorizon});
  REQUIRE_OK(it);
  std::optional<std::string> next = *it;
  while (next.has_value()) {
    absl::StatusOr<GetRecordsResult> r = store.GetRecords(*next);
    REQUIRE_OK(r);
    if (r->records.empty()) break;
    for (Record& rec : r->records) out.push_back(std::move(rec));
    next = r->next_shard_iterator;
  }
  return out;
}

std::vector<std::string> Datas(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) out.push_back(r.data);
  return out;
}

std::unique_ptr<TestStore> NewTestStore(StoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<TestStore>> t = TestStore::Create(options);
  REQUIRE_OK(t);
  return std::move(*t);
}

// The fault-injection tests run two ways in (C++ and the wire API):
// tests/endpoint/faults_two_ways_test.cc.

TEST_CASE("clock helpers move exactly past iterator lifetime and retention", "[testing][clock]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 1));
  REQUIRE_OK(t->store().IncreaseStreamRetentionPeriod("s", 48));
  REQUIRE_OK(t->store().Put("s", {"k", "old"}));
  const absl::Time start = t->clock().Now();

  ASSIGN_OR_REQUIRE(std::string it, t->store().GetShardIterator({"s", "shardId-000000000000"}));
  AdvancePastIteratorLifetime(t->clock());
  CHECK(t->clock().Now() - start == limits::kIteratorLifetime + kTick);
  REQUIRE_ERROR(t->store().GetRecords(it), ErrorType::kExpiredIterator);  // real expiry
  CHECK(t->faults().injected(Call::kGetRecords) == 0);

  AdvancePastRetention(t->clock());  // 24 h: the stream keeps 48 h
  CHECK(Datas(ReadShard(t->store(), "s", "shardId-000000000000")) == std::vector<std::string>{"old"});
  REQUIRE_OK(AdvancePastRetention(t->clock(), t->store(), "s"));
  CHECK(ReadShard(t->store(), "s", "shardId-000000000000").empty());
  REQUIRE_ERROR(AdvancePastRetention(t->clock(), t->store(), "nope"), ErrorType::kResourceNotFound);
}

TEST_CASE("AdvanceUntilActive ends exactly at the end of CREATING", "[testing][clock]") {
  StoreOptions options;
  options.create_delay = absl::Milliseconds(750);
  auto t = NewTestStore(options);
  REQUIRE_OK(t->store().CreateStream("s", 1));
  const absl::Time start = t->clock().Now();
  REQUIRE_ERROR(t->store().Put("s", {"k", "v"}), ErrorType::kResourceNotFound);  // CREATING
  REQUIRE_OK(AdvanceUntilActive(t->clock(), t->store(), "s"));
  CHECK(t->clock().Now() - start == absl::Milliseconds(750));
  REQUIRE_OK(t->store().Put("s", {"k", "v"}));

  ManualClock other;
  REQUIRE(AdvanceUntilActive(other, t->store(), "s").code() == absl::StatusCode::kFailedPrecondition);
  AdvancePastDeleteDelay(t->clock(), t->options());  // zero delay: one tick
  CHECK(t->clock().Now() - start == absl::Milliseconds(751));
}

TEST_CASE("SplitShardForKey splits the shard a key routes to and waits on the manual clock",
          "[testing][reshard]") {
  StoreOptions options;
  options.update_delay = absl::Milliseconds(500);
  auto t = NewTestStore(options);
  REQUIRE_OK(t->store().CreateStream("s", 2));
  ASSIGN_OR_REQUIRE(ShardDescription before, OpenShardForKey(t->store(), "s", "customer-42"));
  const absl::Time start = t->clock().Now();

  ASSIGN_OR_REQUIRE(Reshard r, SplitShardForKey(t->store(), "s", "customer-42"));
  CHECK(t->clock().Now() - start == absl::Milliseconds(500));
  CHECK(r.parents == std::vector<std::string>{before.shard_id});
  REQUIRE(r.children.size() == 2);
  ASSIGN_OR_REQUIRE(ShardDescription after, OpenShardForKey(t->store(), "s", "customer-42"));
  CHECK((after.shard_id == r.children[0] || after.shard_id == r.children[1]));
  CHECK(after.parent_shard_id == before.shard_id);
  ASSIGN_OR_REQUIRE(std::vector<ShardDescription> all, ListAllShards(t->store(), "s"));
  CHECK(all.size() == 4);
  // The children exactly cover the parent's range, split at its midpoint.
  HashKeyRange lo, hi;
  for (const ShardDescription& s : all) {
    if (s.shard_id == r.children[0]) lo = s.hash_key_range;
    if (s.shard_id == r.children[1]) hi = s.hash_key_range;
  }
  CHECK(lo.start == before.hash_key_range.start);
  CHECK(hi.start == before.hash_key_range.Midpoint());
  CHECK(hi.end == before.hash_key_range.end);
  ASSIGN_OR_REQUIRE(PutRecordResult put, t->store().Put("s", {"customer-42", "after"}));
  CHECK(put.shard_id == after.shard_id);
}

TEST_CASE("Wait::kNo leaves the reshard pending until WaitForActive", "[testing][reshard]") {
  StoreOptions options;
  options.update_delay = absl::Seconds(2);
  auto t = NewTestStore(options);
  REQUIRE_OK(t->store().CreateStream("s", 1));
  ASSIGN_OR_REQUIRE(Reshard r, SplitShardAt(t->store(), "s", "shardId-000000000000", std::nullopt, Wait::kNo));
  CHECK(r.children.empty());
  ASSIGN_OR_REQUIRE(StreamDescriptionSummary d, t->store().DescribeStreamSummary("s"));
  CHECK(d.stream_status == StreamStatus::kUpdating);
  // The parent still takes writes meanwhile, and a second reshard is refused.
  ASSIGN_OR_REQUIRE(PutRecordResult put, t->store().Put("s", {"k", "during"}));
  CHECK(put.shard_id == std::string("shardId-000000000000"));
  REQUIRE_ERROR(SplitShardForKey(t->store(), "s", "k"), ErrorType::kResourceInUse);
  REQUIRE_OK(WaitForActive(t->store(), "s"));
  ASSIGN_OR_REQUIRE(std::vector<ShardDescription> all, ListAllShards(t->store(), "s"));
  CHECK(all.size() == 3);
}

TEST_CASE("MergeWithNeighbour merges adjacent open shards", "[testing][reshard]") {
  auto t = NewTestStore();
  REQUIRE_OK(t->store().CreateStream("s", 3));
  SECTION("the last shard merges with the one before it") {
    ASSIGN_OR_REQUIRE(Reshard r, MergeWithNeighbour(t->store(), "s", "shardId-000000000002"));
    CHECK(r.parents == std::vector<std::string>{"shardId-000000000002", "shardId-000000000001"});
    CHECK(r.children == std::vector<std::string>{"shardId-000000000003"});
  }
  SECTION("others merge with the one after them") {
    ASSIGN_OR_REQUIRE(Reshard r, MergeWithNeighbour(t->store(), "s", "shardId-000000000000"));
    CHECK(r.parents == std::vector<std::string>{"shardId-000000000000", "shardId-000000000001"});
    REQUIRE(r.children.size() == 1);
    ASSIGN_OR_REQUIRE(Reshard again, MergeWithNeighbour(t->store(), "s", r.children[0]));
    ASSIGN_OR_REQUIRE(StreamDescriptionSummary d, t->store().DescribeStreamSummary("s"));
    CHECK(d.open_shard_count == 1);
    REQUIRE_ERROR(MergeWithNeighbour(t->store(), "s", again.children[0]), ErrorType::kInvalidArgument);
  }
  REQUIRE_ERROR(MergeWithNeighbour(t->store(), "s", "shardId-000000000099"), ErrorType::kResourceNotFound);
}

TEST_CASE("WaitForActive refuses to wait on a clock it cannot move", "[testing][reshard]") {
  StoreOptions options;
  options.update_delay = absl::Hours(1);  // system clock: would really take an hour
  ASSIGN_OR_REQUIRE(std::unique_ptr<Store> store, Store::OpenInMemory(options));
  REQUIRE_OK(store->CreateStream("s", 1));
  REQUIRE_OK(WaitForActive(*store, "s"));  // already ACTIVE: fine on any clock
  absl::StatusOr<Reshard> r = SplitShardAt(*store, "s", "shardId-000000000000");
  REQUIRE(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("ManualClock"));
}

}  // namespace
}  // namespace tributary::testing
