// Stream status machine with StoreOptions delays: CREATING, UPDATING,
// DELETING, and WaitUntilActive on a ManualClock.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::FindShard;
using testing::Input;
using testing::Midpoint;
using testing::OpenShards;
using testing::PutOk;
using testing::ReadShard;
using testing::StatusOf;
using testing::StoreFixture;

StoreOptions Delays(absl::Duration create, absl::Duration update, absl::Duration del) {
  StoreOptions o;
  o.create_delay = create;
  o.update_delay = update;
  o.delete_delay = del;
  return o;
}

TEST_CASE("with no delays a new stream is ACTIVE at once", "[stream][status]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK(StatusOf(*f, "s") == StreamStatus::kActive);
  CHECK_OK(f->WaitUntilActive("s", absl::ZeroDuration()));
}

TEST_CASE("a stream is CREATING for create_delay, then ACTIVE", "[stream][status]") {
  StoreFixture f(Delays(absl::Seconds(30), absl::ZeroDuration(), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 2));
  CHECK(StatusOf(*f, "s") == StreamStatus::kCreating);
  DescribeStreamRequest req;
  req.stream = "s";
  auto d = f->DescribeStream(req);
  REQUIRE_OK(d);
  CHECK(d->stream_status == StreamStatus::kCreating);

  f.clock.Advance(absl::Seconds(30) - absl::Milliseconds(1));
  CHECK(StatusOf(*f, "s") == StreamStatus::kCreating);
  f.clock.Advance(absl::Milliseconds(2));
  CHECK(StatusOf(*f, "s") == StreamStatus::kActive);
  CHECK_OK(f->Put("s", Input("k", "v")));
}

TEST_CASE("data calls on a CREATING stream are ResourceNotFound", "[stream][status]") {
  StoreFixture f(Delays(absl::Minutes(1), absl::ZeroDuration(), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(f->Put("s", Input("k", "v")), ErrorType::kResourceNotFound);
  std::vector<PutRecordInput> batch{Input("k", "v")};
  CHECK_ERROR(f->PutBatch("s", batch), ErrorType::kResourceNotFound);
  GetShardIteratorRequest it;
  it.stream = "s";
  it.shard_id = "shardId-000000000000";
  CHECK_ERROR(f->GetShardIterator(it), ErrorType::kResourceNotFound);
  // Kinesis answers ListShards on a CREATING stream with ResourceInUse.
  ListShardsRequest ls;
  ls.stream = "s";
  CHECK_ERROR(f->ListShards(ls), ErrorType::kResourceInUse);
  // Resharding needs an ACTIVE stream.
  CHECK_ERROR(f->SplitShard("s", "shardId-000000000000", "1000"), ErrorType::kResourceInUse);
  CHECK_ERROR(f->UpdateShardCount("s", 2), ErrorType::kResourceInUse);
  // The rejected writes changed nothing once the stream is ACTIVE.
  f.clock.Advance(absl::Minutes(2));
  CHECK(testing::ReadShard(*f, "s", "shardId-000000000000").records.empty());
}

TEST_CASE("WaitUntilActive returns once the stream is ACTIVE", "[stream][status][waiter]") {
  StoreFixture f(Delays(absl::Minutes(2), absl::ZeroDuration(), absl::ZeroDuration()));
  absl::Time t0 = f.clock.Now();
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(10)));
  CHECK(StatusOf(*f, "s") == StreamStatus::kActive);
  // The waiter slept on the manual clock, not the wall clock, and not longer
  // than the timeout.
  CHECK(f.clock.Now() - t0 >= absl::Minutes(2));
  CHECK(f.clock.Now() - t0 <= absl::Minutes(10));
}

TEST_CASE("WaitUntilActive times out with a waiter error", "[stream][status][waiter]") {
  StoreFixture f(Delays(absl::Minutes(20), absl::ZeroDuration(), absl::ZeroDuration()));
  absl::Time t0 = f.clock.Now();
  REQUIRE_OK(f->CreateStream("s", 1));
  auto st = f->WaitUntilActive("s", absl::Minutes(10));
  CHECK_ERROR(st, ErrorType::kWaiterTimeout);
  CHECK_THAT(st, testing::HasCode(absl::StatusCode::kDeadlineExceeded));
  CHECK(StatusOf(*f, "s") == StreamStatus::kCreating);
  CHECK(f.clock.Now() - t0 >= absl::Minutes(10));
  CHECK(f.clock.Now() - t0 < absl::Minutes(20));
}

TEST_CASE("a split is applied when UPDATING ends and the parent takes writes until then",
          "[stream][status][reshard]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Seconds(30), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "before", "0");
  const std::string parent = "shardId-000000000000";
  HashKey mid = Midpoint(HashKeyRange::All());
  REQUIRE_OK(f->SplitShard("s", parent, mid.ToString()));
  CHECK(StatusOf(*f, "s") == StreamStatus::kUpdating);

  // Still one open shard, and it is writable.
  auto during = AllShards(*f, "s");
  REQUIRE(during.size() == 1);
  CHECK(during[0].state == ShardState::kOpen);
  auto p1 = PutOk(*f, "s", "during-1", "1");
  f.clock.Advance(absl::Seconds(10));
  auto p2 = PutOk(*f, "s", "during-2", "2");
  CHECK(p1.shard_id == parent);
  CHECK(p2.shard_id == parent);

  f.clock.Advance(absl::Seconds(21));
  CHECK(StatusOf(*f, "s") == StreamStatus::kActive);
  auto shards = AllShards(*f, "s");
  REQUIRE(shards.size() == 3);
  auto closed = FindShard(*f, "s", parent);
  REQUIRE(closed.has_value());
  CHECK(closed->state == ShardState::kClosed);
  REQUIRE(closed->ending_sequence_number.has_value());
  CHECK(*closed->ending_sequence_number == p2.sequence_number);
  auto open = OpenShards(*f, "s");
  REQUIRE(open.size() == 2);
  CHECK(open[0].hash_key_range.end == HashKey(mid.value() - 1));
  CHECK(open[1].hash_key_range.start == mid);

  auto read = ReadShard(*f, "s", parent);
  CHECK(testing::DataOf(read.records) == std::vector<std::string>{"0", "1", "2"});
  CHECK(read.reached_end);
}

TEST_CASE("only one resharding at a time: ResourceInUse while UPDATING", "[stream][status][reshard]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Minutes(1), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 4));
  auto open = OpenShards(*f, "s");
  REQUIRE_OK(f->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range).ToString()));
  REQUIRE(StatusOf(*f, "s") == StreamStatus::kUpdating);

  CHECK_ERROR(f->SplitShard("s", open[1].shard_id, Midpoint(open[1].hash_key_range).ToString()),
              ErrorType::kResourceInUse);
  CHECK_ERROR(f->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range).ToString()),
              ErrorType::kResourceInUse);
  CHECK_ERROR(f->MergeShards("s", open[2].shard_id, open[3].shard_id), ErrorType::kResourceInUse);
  CHECK_ERROR(f->UpdateShardCount("s", 8), ErrorType::kResourceInUse);
  CHECK_ERROR(f->UpdateStreamMode("s", StreamMode::kOnDemand), ErrorType::kResourceInUse);

  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(5)));
  CHECK(OpenShards(*f, "s").size() == 5);  // only the first split happened
  CHECK_OK(f->MergeShards("s", open[2].shard_id, open[3].shard_id));
}

TEST_CASE("UpdateShardCount is applied when UPDATING ends", "[stream][status][reshard]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Seconds(90), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 2));
  auto r = f->UpdateShardCount("s", 4);
  REQUIRE_OK(r);
  CHECK(r->current_shard_count == 2);
  CHECK(r->target_shard_count == 4);
  CHECK(StatusOf(*f, "s") == StreamStatus::kUpdating);
  CHECK(OpenShards(*f, "s").size() == 2);
  CHECK_OK(f->Put("s", Input("k", "v")));
  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(5)));
  CHECK(OpenShards(*f, "s").size() == 4);
}

TEST_CASE("a merge is applied when UPDATING ends and both parents take writes until then",
          "[stream][status][reshard]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Seconds(45), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 2));
  auto open = OpenShards(*f, "s");
  REQUIRE_OK(f->MergeShards("s", open[0].shard_id, open[1].shard_id));
  CHECK(StatusOf(*f, "s") == StreamStatus::kUpdating);
  std::vector<PutRecordResult> during;
  for (const auto& sh : open) {
    auto r = f->Put("s", testing::InputWithHash("k", sh.hash_key_range.start.ToString()));
    REQUIRE_OK(r);
    CHECK(r->shard_id == sh.shard_id);
    during.push_back(*r);
  }
  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(5)));
  auto after = OpenShards(*f, "s");
  REQUIRE(after.size() == 1);
  CHECK(after[0].hash_key_range == HashKeyRange::All());
  for (size_t i = 0; i < open.size(); ++i) {
    auto p = FindShard(*f, "s", open[i].shard_id);
    REQUIRE(p.has_value());
    CHECK(p->state == ShardState::kClosed);
    CHECK(p->ending_sequence_number == during[i].sequence_number);
    CHECK(after[0].starting_sequence_number > during[i].sequence_number);
  }
}

TEST_CASE("retention and record size changes need an ACTIVE stream", "[stream][status][retention]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Minutes(1), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->SplitShard("s", "shardId-000000000000", Midpoint(HashKeyRange::All()).ToString()));
  REQUIRE(StatusOf(*f, "s") == StreamStatus::kUpdating);
  CHECK_ERROR(f->IncreaseStreamRetentionPeriod("s", 48), ErrorType::kResourceInUse);
  CHECK_ERROR(f->DecreaseStreamRetentionPeriod("s", 24), ErrorType::kResourceInUse);
  CHECK_ERROR(f->UpdateMaxRecordSize("s", 2048), ErrorType::kResourceInUse);
  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(5)));
  CHECK_OK(f->IncreaseStreamRetentionPeriod("s", 48));
}

TEST_CASE("WaitUntilActive on an ACTIVE stream returns without moving the clock", "[stream][status][waiter]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  absl::Time t0 = f.clock.Now();
  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(10)));
  CHECK(f.clock.Now() == t0);
}

TEST_CASE("ListShards and DescribeStream work while UPDATING", "[stream][status][list]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::Minutes(1), absl::ZeroDuration()));
  REQUIRE_OK(f->CreateStream("s", 2));
  REQUIRE_OK(f->UpdateShardCount("s", 3));
  ListShardsRequest ls;
  ls.stream = "s";
  auto listed = f->ListShards(ls);
  REQUIRE_OK(listed);
  CHECK(listed->shards.size() == 2);
  DescribeStreamRequest d;
  d.stream = "s";
  auto desc = f->DescribeStream(d);
  REQUIRE_OK(desc);
  CHECK(desc->stream_status == StreamStatus::kUpdating);
  GetShardIteratorRequest it;
  it.stream = "s";
  it.shard_id = "shardId-000000000000";
  CHECK_OK(f->GetShardIterator(it));
}

TEST_CASE("a pending reshard counts against the shard limit", "[stream][status][reshard][limits]") {
  StoreOptions o = Delays(absl::ZeroDuration(), absl::Minutes(1), absl::ZeroDuration());
  o.shard_limit = 3;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("a", 2));
  REQUIRE_OK(f->SplitShard("a", "shardId-000000000000", Midpoint(OpenShards(*f, "a")[0].hash_key_range).ToString()));
  // "a" will have 3 open shards when the split is applied: no room for "b".
  CHECK_ERROR(f->CreateStream("b", 1), ErrorType::kLimitExceeded);
  REQUIRE_OK(f->WaitUntilActive("a", absl::Minutes(5)));
  auto l = f->DescribeLimits();
  REQUIRE_OK(l);
  CHECK(l->open_shard_count <= 3);
}

TEST_CASE("a DELETING stream rejects data calls and then disappears", "[stream][status][delete]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::ZeroDuration(), absl::Seconds(20)));
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "v");
  REQUIRE_OK(f->DeleteStream("s"));
  CHECK(StatusOf(*f, "s") == StreamStatus::kDeleting);
  CHECK_ERROR(f->Put("s", Input("k", "v")), ErrorType::kResourceNotFound);
  std::vector<PutRecordInput> batch{Input("k", "v")};
  CHECK_ERROR(f->PutBatch("s", batch), ErrorType::kResourceNotFound);
  GetShardIteratorRequest it;
  it.stream = "s";
  it.shard_id = "shardId-000000000000";
  CHECK_ERROR(f->GetShardIterator(it), ErrorType::kResourceNotFound);
  // The name stays taken while DELETING.
  CHECK_ERROR(f->CreateStream("s", 1), ErrorType::kResourceInUse);
  // Waiting for a DELETING stream to become ACTIVE fails with ResourceNotFound.
  CHECK_ERROR(f->WaitUntilActive("s", absl::Minutes(1)), ErrorType::kResourceNotFound);

  f.clock.Advance(absl::Seconds(21));
  CHECK_ERROR(f->DescribeStreamSummary("s"), ErrorType::kResourceNotFound);
  auto listed = f->ListStreams();
  REQUIRE_OK(listed);
  CHECK(listed->stream_names.empty());
  // The name is free again, and the new stream starts empty.
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK(ReadShard(*f, "s", "shardId-000000000000").records.empty());
}

TEST_CASE("WaitUntilDeleted waits on the manual clock", "[stream][status][delete][waiter]") {
  StoreFixture f(Delays(absl::ZeroDuration(), absl::ZeroDuration(), absl::Minutes(3)));
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->DeleteStream("s"));
  CHECK_ERROR(f->WaitUntilDeleted("s", absl::Minutes(1)), ErrorType::kWaiterTimeout);
  CHECK_OK(f->WaitUntilDeleted("s", absl::Minutes(10)));
  CHECK_ERROR(f->DescribeStreamSummary("s"), ErrorType::kResourceNotFound);
}

}  // namespace
}  // namespace tributary
