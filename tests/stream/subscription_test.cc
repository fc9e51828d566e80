// Store::SubscribeToShard (enhanced fan-out push delivery): the ACTIVE
// consumer rule, one live subscription per consumer and shard, takeover
// after 5 seconds, the 5-minute lifetime, continuation sequence numbers, the
// end of a closed shard with its children, and the wake-up on append.
// Time is a ManualClock; no test sleeps.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "testing/status_matchers.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

struct Fixture {
  ManualClock clock;
  std::unique_ptr<Store> store;
  std::string consumer_arn;

  explicit Fixture(int shards = 1, absl::Duration create_delay = absl::ZeroDuration()) {
    StoreOptions o;
    o.clock = &clock;
    o.create_delay = create_delay;
    store = *Store::OpenInMemory(o);
    REQUIRE(store->CreateStream("s", shards).ok());
    clock.Advance(create_delay);
    auto c = store->RegisterStreamConsumer(store->StreamArn("s"), "app");
    REQUIRE(c.ok());
    consumer_arn = c->consumer_arn;
    clock.Advance(create_delay);
  }

  std::vector<std::string> Put(int n, const std::string& prefix = "r") {
    std::vector<std::string> seqs;
    for (int i = 0; i < n; ++i) {
      std::string data = prefix + std::to_string(i);
      auto r = store->Put("s", {"key", data});
      REQUIRE(r.ok());
      seqs.push_back(r->sequence_number.ToString());
    }
    return seqs;
  }

  absl::StatusOr<std::unique_ptr<ShardSubscription>> Subscribe(
      ShardIteratorType type = ShardIteratorType::kTrimHorizon,
      std::optional<std::string> seq = std::nullopt, const std::string& shard = "shardId-000000000000") {
    StartingPosition p;
    p.type = type;
    p.sequence_number = std::move(seq);
    return store->SubscribeToShard(consumer_arn, shard, p);
  }
};

std::vector<std::string> Data(const SubscribeToShardEvent& e) {
  std::vector<std::string> out;
  for (const Record& r : e.records) out.push_back(r.data);
  return out;
}

TEST_CASE("a subscription pushes the shard's records and continues after the last one",
          "[stream][subscribe]") {
  Fixture f;
  std::vector<std::string> seqs = f.Put(3);
  auto sub = f.Subscribe();
  REQUIRE_OK(sub.status());
  auto ev = (*sub)->Next(absl::ZeroDuration());
  REQUIRE_OK(ev.status());
  REQUIRE(ev->has_value());
  CHECK(Data(**ev) == std::vector<std::string>{"r0", "r1", "r2"});
  CHECK((*ev)->continuation_sequence_number == seqs.back());
  CHECK((*ev)->child_shards.empty());
  // Nothing new: an event without records, same continuation (a heartbeat).
  ev = (*sub)->Next(absl::ZeroDuration());
  REQUIRE_OK(ev.status());
  CHECK((*ev)->records.empty());
  CHECK((*ev)->continuation_sequence_number == seqs.back());
  CHECK((*ev)->millis_behind_latest == 0);
  // New records arrive in the next event.
  f.Put(2, "n");
  ev = (*sub)->Next(absl::ZeroDuration());
  CHECK(Data(**ev) == std::vector<std::string>{"n0", "n1"});

  SECTION("resubscribing AFTER the continuation resumes exactly there") {
    std::string cont = *(*ev)->continuation_sequence_number;
    sub->reset();  // the old subscription ends, so no 5-second wait
    f.Put(1, "late");
    auto again = f.Subscribe(ShardIteratorType::kAfterSequenceNumber, cont);
    REQUIRE_OK(again.status());
    auto e2 = (*again)->Next(absl::ZeroDuration());
    CHECK(Data(**e2) == std::vector<std::string>{"late0"});
  }
}

TEST_CASE("an empty shard's continuation resumes from its start", "[stream][subscribe]") {
  Fixture f;
  auto sub = f.Subscribe(ShardIteratorType::kLatest);
  REQUIRE_OK(sub.status());
  auto ev = (*sub)->Next(absl::ZeroDuration());
  REQUIRE_OK(ev.status());
  REQUIRE((*ev)->continuation_sequence_number.has_value());
  const std::string cont = *(*ev)->continuation_sequence_number;
  CHECK(cont == f.store->DescribeStream({"s"})->shards[0].starting_sequence_number.ToString());
  sub->reset();
  f.Put(1);
  auto again = f.Subscribe(ShardIteratorType::kAfterSequenceNumber, cont);
  REQUIRE_OK(again.status());
  CHECK(Data(**(*again)->Next(absl::ZeroDuration())) == std::vector<std::string>{"r0"});
}

TEST_CASE("only an ACTIVE consumer can subscribe", "[stream][subscribe]") {
  ManualClock clock;
  StoreOptions o;
  o.clock = &clock;
  o.create_delay = absl::Seconds(1);
  auto store = *Store::OpenInMemory(o);
  REQUIRE_OK(store->CreateStream("s", 1));
  clock.Advance(absl::Seconds(1));
  auto c = store->RegisterStreamConsumer(store->StreamArn("s"), "app");
  REQUIRE_OK(c.status());
  StartingPosition p;
  auto sub = store->SubscribeToShard(c->consumer_arn, "shardId-000000000000", p);
  CHECK(GetErrorType(sub.status()) == ErrorType::kResourceInUse);
  clock.Advance(absl::Seconds(1));
  CHECK_OK(store->SubscribeToShard(c->consumer_arn, "shardId-000000000000", p).status());
  // Unknown shard, unknown consumer, malformed ARN.
  CHECK(GetErrorType(store->SubscribeToShard(c->consumer_arn, "shardId-000000000009", p).status()) ==
        ErrorType::kResourceNotFound);
  CHECK(GetErrorType(store->SubscribeToShard(store->StreamArn("s") + "/consumer/nope:1704067200",
                                             "shardId-000000000000", p)
                         .status()) == ErrorType::kResourceNotFound);
  CHECK(!store->SubscribeToShard("arn:nonsense", "shardId-000000000000", p).ok());
}

TEST_CASE("one live subscription per consumer and shard, and after 5 s a new one takes over",
          "[stream][subscribe]") {
  Fixture f(2);
  auto first = f.Subscribe();
  REQUIRE_OK(first.status());
  CHECK(GetErrorType(f.Subscribe().status()) == ErrorType::kResourceInUse);
  // Another shard is another subscription.
  CHECK_OK(f.Subscribe(ShardIteratorType::kTrimHorizon, std::nullopt, "shardId-000000000001").status());
  f.clock.Advance(absl::Seconds(4));
  CHECK(GetErrorType(f.Subscribe().status()) == ErrorType::kResourceInUse);
  f.clock.Advance(absl::Seconds(1));
  auto second = f.Subscribe();
  REQUIRE_OK(second.status());
  CHECK(GetErrorType((*first)->Next(absl::ZeroDuration()).status()) == ErrorType::kResourceInUse);
  CHECK_OK((*second)->Next(absl::ZeroDuration()).status());
  // A cancelled subscription does not block a new one.
  (*second)->Cancel();
  CHECK(!(*(*second)->Next(absl::Seconds(10))).has_value());
  CHECK_OK(f.Subscribe().status());
}

TEST_CASE("a subscription ends after 5 minutes of store time", "[stream][subscribe]") {
  Fixture f;
  auto sub = f.Subscribe();
  REQUIRE_OK(sub.status());
  f.clock.Advance(absl::Minutes(5) - absl::Milliseconds(1));
  CHECK((*(*sub)->Next(absl::ZeroDuration())).has_value());
  f.clock.Advance(absl::Milliseconds(1));
  auto ev = (*sub)->Next(absl::Seconds(10));  // over: returns at once
  REQUIRE_OK(ev.status());
  CHECK(!ev->has_value());
  CHECK_OK(f.Subscribe().status());  // an ended one blocks nobody
}

TEST_CASE("a subscription to a split shard ends with its children", "[stream][subscribe]") {
  Fixture f;
  f.Put(2);
  auto sub = f.Subscribe();
  REQUIRE_OK(sub.status());
  REQUIRE_OK(f.store->SplitShard("s", "shardId-000000000000", HashKeyRange::All().Midpoint()));
  f.Put(2, "after");  // go to the children
  auto ev = (*sub)->Next(absl::ZeroDuration());
  REQUIRE_OK(ev.status());
  REQUIRE(ev->has_value());
  CHECK(Data(**ev) == std::vector<std::string>{"r0", "r1"});
  if ((*ev)->child_shards.empty()) {  // the records and the end may come in two events
    ev = (*sub)->Next(absl::ZeroDuration());
    REQUIRE_OK(ev.status());
    CHECK((*ev)->records.empty());
  }
  CHECK(!(*ev)->continuation_sequence_number.has_value());
  REQUIRE((*ev)->child_shards.size() == 2);
  CHECK((*ev)->child_shards[0].parent_shards == std::vector<std::string>{"shardId-000000000000"});
  auto end = (*sub)->Next(absl::Seconds(10));
  REQUIRE_OK(end.status());
  CHECK(!end->has_value());
}

TEST_CASE("a waiting subscription wakes on an append and on Cancel", "[stream][subscribe]") {
  Fixture f;
  auto sub = f.Subscribe(ShardIteratorType::kLatest);
  REQUIRE_OK(sub.status());
  REQUIRE((*(*sub)->Next(absl::ZeroDuration()))->records.empty());
  std::thread writer([&] { f.Put(1, "woken"); });
  // Waits (up to a minute) until the writer's record arrives; a heartbeat
  // without it would mean the wait returned without the record.
  std::vector<std::string> got;
  for (int i = 0; i < 3 && got.empty(); ++i) {
    auto ev = (*sub)->Next(absl::Minutes(1));
    REQUIRE_OK(ev.status());
    got = Data(**ev);
  }
  writer.join();
  CHECK(got == std::vector<std::string>{"woken0"});
  std::thread canceller([&] { (*sub)->Cancel(); });
  auto ev = (*sub)->Next(absl::Minutes(1));
  canceller.join();
  REQUIRE_OK(ev.status());
  if (ev->has_value()) ev = (*sub)->Next(absl::Minutes(1));  // Cancel came after the read
  CHECK(!ev->has_value());
}

TEST_CASE("a deregistered consumer's subscription fails, and reads are not metered",
          "[stream][subscribe]") {
  ManualClock clock;
  StoreOptions o;
  o.clock = &clock;
  o.throughput.enabled = true;
  auto store = *Store::OpenInMemory(o);
  REQUIRE_OK(store->CreateStream("s", 1));
  auto c = store->RegisterStreamConsumer(store->StreamArn("s"), "app");
  REQUIRE_OK(c.status());
  REQUIRE_OK(store->Put("s", {"k", "x"}).status());
  StartingPosition p;
  p.type = ShardIteratorType::kTrimHorizon;
  auto sub = store->SubscribeToShard(c->consumer_arn, "shardId-000000000000", p);
  REQUIRE_OK(sub.status());
  // Many more events than the 5 GetRecords per second the shard allows.
  for (int i = 0; i < 20; ++i) CHECK_OK((*sub)->Next(absl::ZeroDuration()).status());
  ConsumerRef ref;
  ref.consumer_arn = c->consumer_arn;
  REQUIRE_OK(store->DeregisterStreamConsumer(ref));
  CHECK(GetErrorType((*sub)->Next(absl::ZeroDuration()).status()) == ErrorType::kResourceNotFound);
}

}  // namespace
}  // namespace tributary
