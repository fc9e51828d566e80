// A user's Catch2 test of my_consumer.h with tributary/testing.h: no AWS, no
// sleeping, failures on demand.
#include <catch2/catch.hpp>

#include <algorithm>

#include "my_consumer.h"
#include "tributary/testing.h"

namespace tt = tributary::testing;

namespace {

std::unique_ptr<tt::TestStore> NewStore() {
  tributary::StoreOptions options;
  options.update_delay = absl::Milliseconds(500);  // reshards really pass through UPDATING
  auto t = tt::TestStore::Create(options);
  REQUIRE(t.ok());
  REQUIRE((*t)->store().CreateStream("orders", 2).ok());
  return std::move(*t);
}

std::vector<my::Event> Events(const std::string& key, int from, int to) {
  std::vector<my::Event> out;
  for (int i = from; i < to; ++i) out.push_back({key, key + "#" + std::to_string(i)});
  return out;
}

std::vector<std::string> Values(const std::string& key, int from, int to) {
  std::vector<std::string> out;
  for (const my::Event& e : Events(key, from, to)) out.push_back(e.value);
  return out;
}

}  // namespace

TEST_CASE("Publish resends the records a partial PutBatch failure rejected") {
  auto t = NewStore();
  t->faults().FailBatchRecords({0, 2}).FailBatchRecords({1}, tributary::ErrorType::kInternalFailure);
  REQUIRE(my::Publish(t->store(), "orders", Events("alice", 0, 4)).ok());
  CHECK(t->faults().injected_records() == 3);
  auto read = my::Consumer(t->store(), "orders").ReadAll();
  REQUIRE(read.ok());
  // Every event arrived exactly once (the retries reorder them: that is
  // PutRecords' contract, and why ordering-sensitive producers use Put).
  std::vector<std::string> got = (*read)["alice"];
  std::sort(got.begin(), got.end());
  CHECK(got == Values("alice", 0, 4));
}

TEST_CASE("Publish gives up when the stream keeps throttling") {
  auto t = NewStore();
  t->faults().FailCalls(tt::Call::kPutBatch,
                        tt::InjectedError(tributary::ErrorType::kProvisionedThroughputExceeded, "orders"),
                        tt::kAlways);
  CHECK(my::Publish(t->store(), "orders", Events("bob", 0, 3), 5).code() == absl::StatusCode::kUnavailable);
  CHECK(t->faults().injected(tt::Call::kPutBatch) == 5);
}

TEST_CASE("the consumer keeps per-key order across a split and a merge") {
  auto t = NewStore();
  REQUIRE(my::Publish(t->store(), "orders", Events("carol", 0, 3)).ok());
  REQUIRE(tt::SplitShardForKey(t->store(), "orders", "carol").ok());  // advances the clock 500 ms
  REQUIRE(my::Publish(t->store(), "orders", Events("carol", 3, 6)).ok());
  auto shard = tt::OpenShardForKey(t->store(), "orders", "carol");
  REQUIRE(shard.ok());
  REQUIRE(tt::MergeWithNeighbour(t->store(), "orders", shard->shard_id).ok());
  REQUIRE(my::Publish(t->store(), "orders", Events("carol", 6, 9)).ok());

  auto read = my::Consumer(t->store(), "orders").ReadAll();
  REQUIRE(read.ok());
  CHECK((*read)["carol"] == Values("carol", 0, 9));
}

TEST_CASE("the consumer survives expired iterators and read throttling") {
  auto t = NewStore();
  REQUIRE(my::Publish(t->store(), "orders", Events("dave", 0, 5)).ok());
  t->faults().ExpireIterators(2).ThrottleGetRecords(1).FailGetRecordsInternally(1);
  my::Consumer consumer(t->store(), "orders");
  auto read = consumer.ReadAll();
  REQUIRE(read.ok());
  CHECK((*read)["dave"] == Values("dave", 0, 5));
  CHECK(consumer.retries() == 4);
}

TEST_CASE("records older than the retention period are gone") {
  auto t = NewStore();
  REQUIRE(my::Publish(t->store(), "orders", Events("erin", 0, 2)).ok());
  REQUIRE(tt::AdvancePastRetention(t->clock(), t->store(), "orders").ok());
  REQUIRE(my::Publish(t->store(), "orders", Events("erin", 2, 3)).ok());
  auto read = my::Consumer(t->store(), "orders").ReadAll();
  REQUIRE(read.ok());
  CHECK((*read)["erin"] == Values("erin", 2, 3));
}
