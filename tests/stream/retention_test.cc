// Retention: the period's rules, record expiry by clock, and closed shards
// becoming EXPIRED and leaving the listings.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::DataOf;
using testing::FindShard;
using testing::Iterator;
using testing::Midpoint;
using testing::OpenShards;
using testing::PutOk;
using testing::ReadFrom;
using testing::ReadShard;
using testing::ShardIds;
using testing::StoreFixture;

const std::string kShard0 = "shardId-000000000000";

int RetentionOf(Store& store, const std::string& stream) {
  auto d = store.DescribeStreamSummary(stream);
  REQUIRE_OK(d);
  return d->retention_period_hours;
}

std::vector<std::string> ReadAll(StoreFixture& f, const std::string& shard = kShard0) {
  return DataOf(ReadShard(*f, "s", shard).records);
}

TEST_CASE("retention defaults to 24 hours", "[stream][retention]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK(RetentionOf(*f, "s") == 24);
  DescribeStreamRequest req;
  req.stream = "s";
  auto d = f->DescribeStream(req);
  REQUIRE_OK(d);
  CHECK(d->retention_period_hours == 24);
}

TEST_CASE("retention can be increased and decreased within 24..8760 hours", "[stream][retention]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 48));
  CHECK(RetentionOf(*f, "s") == 48);
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 8760));
  CHECK(RetentionOf(*f, "s") == 8760);
  REQUIRE_OK(f->DecreaseStreamRetentionPeriod("s", 100));
  CHECK(RetentionOf(*f, "s") == 100);
  REQUIRE_OK(f->DecreaseStreamRetentionPeriod("s", 24));
  CHECK(RetentionOf(*f, "s") == 24);
}

TEST_CASE("retention changes in the wrong direction are InvalidArgument", "[stream][retention][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 72));
  CHECK_ERROR(f->IncreaseStreamRetentionPeriod("s", 48), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->DecreaseStreamRetentionPeriod("s", 96), ErrorType::kInvalidArgument);
  CHECK(RetentionOf(*f, "s") == 72);
}

TEST_CASE("retention outside 24..8760 hours is rejected", "[stream][retention][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 48));
  auto hours = GENERATE(-1, 0, 1, 23, 8761, 100000);
  INFO(hours << " hours");
  if (hours > 48) {
    CHECK_ERROR_IN(f->IncreaseStreamRetentionPeriod("s", hours),
                   {ErrorType::kInvalidArgument, ErrorType::kValidation});
  } else {
    CHECK_ERROR_IN(f->DecreaseStreamRetentionPeriod("s", hours),
                   {ErrorType::kInvalidArgument, ErrorType::kValidation});
  }
  CHECK(RetentionOf(*f, "s") == 48);
}

TEST_CASE("a record expires a retention period after it was added", "[stream][retention][expiry]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "r0");
  f.clock.Advance(absl::Hours(12));
  PutOk(*f, "s", "k", "r1");
  f.clock.Advance(absl::Hours(12) - absl::Seconds(1));
  CHECK(ReadAll(f) == std::vector<std::string>{"r0", "r1"});
  f.clock.Advance(absl::Seconds(2));
  CHECK(ReadAll(f) == std::vector<std::string>{"r1"});
  // AT_TIMESTAMP before the trim horizon starts at the trim horizon.
  auto at = ReadFrom(*f, Iterator(*f, "s", kShard0, ShardIteratorType::kAtTimestamp, std::nullopt,
                                  f.clock.Now() - absl::Hours(100)));
  CHECK(DataOf(at.records) == std::vector<std::string>{"r1"});
  f.clock.Advance(absl::Hours(12));
  CHECK(ReadAll(f).empty());
  // The shard still takes and serves new records.
  PutOk(*f, "s", "k", "r2");
  CHECK(ReadAll(f) == std::vector<std::string>{"r2"});
}

TEST_CASE("a live iterator does not return records that expired under it", "[stream][retention][expiry]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "old");
  f.clock.Advance(absl::Hours(1));
  PutOk(*f, "s", "k", "new");
  f.clock.Advance(absl::Hours(23) - absl::Minutes(1));
  std::string it = Iterator(*f, "s", kShard0);
  f.clock.Advance(absl::Minutes(2));  // "old" is now 24h+1m old; the iterator is 2 minutes old
  auto r = f->GetRecords(it);
  REQUIRE_OK(r);
  CHECK(DataOf(r->records) == std::vector<std::string>{"new"});
}

TEST_CASE("an AT_SEQUENCE_NUMBER iterator never returns an expired record", "[stream][retention][expiry]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  auto old = PutOk(*f, "s", "k", "old");
  f.clock.Advance(absl::Hours(2));
  PutOk(*f, "s", "k", "new");
  f.clock.Advance(absl::Hours(23));
  GetShardIteratorRequest req;
  req.stream = "s";
  req.shard_id = kShard0;
  req.type = ShardIteratorType::kAtSequenceNumber;
  req.starting_sequence_number = old.sequence_number.ToString();
  auto it = f->GetShardIterator(req);
  if (it.ok()) {
    CHECK(DataOf(ReadFrom(*f, *it).records) == std::vector<std::string>{"new"});
  } else {
    CHECK_ERROR_IN(it, {ErrorType::kInvalidArgument, ErrorType::kResourceNotFound});
  }
}

TEST_CASE("a longer retention keeps records longer", "[stream][retention][expiry]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "r0");
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 48));
  f.clock.Advance(absl::Hours(24) + absl::Seconds(1));
  CHECK(ReadAll(f) == std::vector<std::string>{"r0"});
  f.clock.Advance(absl::Hours(24));
  CHECK(ReadAll(f).empty());
}

TEST_CASE("decreasing retention makes older records unreadable at once", "[stream][retention][expiry]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 72));
  PutOk(*f, "s", "k", "r0");
  f.clock.Advance(absl::Hours(30));
  PutOk(*f, "s", "k", "r1");
  CHECK(ReadAll(f) == std::vector<std::string>{"r0", "r1"});
  REQUIRE_OK(f->DecreaseStreamRetentionPeriod("s", 24));
  CHECK(ReadAll(f) == std::vector<std::string>{"r1"});
}

TEST_CASE("increasing retention again does not bring back records that became inaccessible",
          "[stream][retention][expiry]") {
  // Kinesis: a longer retention "does not make previous, expired data
  // accessible"; after a decrease, older records are inaccessible.
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 72));
  PutOk(*f, "s", "k", "r0");
  f.clock.Advance(absl::Hours(30));
  PutOk(*f, "s", "k", "r1");
  REQUIRE_OK(f->DecreaseStreamRetentionPeriod("s", 24));
  CHECK(ReadAll(f) == std::vector<std::string>{"r1"});
  REQUIRE_OK(f->IncreaseStreamRetentionPeriod("s", 72));
  CHECK(ReadAll(f) == std::vector<std::string>{"r1"});
}

TEST_CASE("a closed shard becomes EXPIRED once its last record expires and leaves the listings",
          "[stream][retention][expiry][reshard]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "p0");
  f.clock.Advance(absl::Hours(1));
  auto last = PutOk(*f, "s", "k", "p1");
  absl::Time last_arrival = f.clock.Now();
  f.clock.Advance(absl::Hours(1));
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  auto children = ShardIds(OpenShards(*f, "s"));
  REQUIRE(children.size() == 2);

  // Readable and listed as CLOSED until its last record expires.
  f.clock.Set(last_arrival + absl::Hours(24) - absl::Seconds(1));
  auto parent = FindShard(*f, "s", kShard0);
  REQUIRE(parent.has_value());
  CHECK(parent->state == ShardState::kClosed);
  CHECK(parent->ending_sequence_number == last.sequence_number);
  CHECK(ReadAll(f) == std::vector<std::string>{"p1"});  // p0 already expired

  f.clock.Set(last_arrival + absl::Hours(24) + absl::Seconds(1));
  auto all = AllShards(*f, "s");
  CHECK(ShardIds(all) == children);
  for (const auto& s : all) CHECK(s.state != ShardState::kExpired);

  DescribeStreamRequest dreq;
  dreq.stream = "s";
  auto d = f->DescribeStream(dreq);
  REQUIRE_OK(d);
  CHECK(ShardIds(d->shards) == children);

  for (auto type : {ShardFilterType::kFromTrimHorizon, ShardFilterType::kAtTrimHorizon,
                    ShardFilterType::kAtLatest}) {
    ListShardsRequest req;
    req.stream = "s";
    req.shard_filter = ShardFilter{type, std::nullopt, std::nullopt};
    auto listed = f->ListShards(req);
    REQUIRE_OK(listed);
    INFO("filter " << ToString(type));
    CHECK(ShardIds(listed->shards) == children);
  }
  ListShardsRequest from_ts;
  from_ts.stream = "s";
  from_ts.shard_filter = ShardFilter{ShardFilterType::kFromTimestamp, std::nullopt, last_arrival - absl::Hours(10)};
  auto listed = f->ListShards(from_ts);
  REQUIRE_OK(listed);
  CHECK(ShardIds(listed->shards) == children);

  // The expired shard is gone for reading too.
  GetShardIteratorRequest it;
  it.stream = "s";
  it.shard_id = kShard0;
  CHECK_ERROR(f->GetShardIterator(it), ErrorType::kResourceNotFound);
  // Its children still name it as their parent.
  for (const auto& s : all) {
    if (!children.count(s.shard_id)) continue;
    CHECK(s.parent_shard_id == std::optional<std::string>(kShard0));
  }
  auto sum = f->DescribeStreamSummary("s");
  REQUIRE_OK(sum);
  CHECK(sum->open_shard_count == 2);
}

TEST_CASE("an empty closed shard expires a retention period after it closed", "[stream][retention][expiry][reshard]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  f.clock.Advance(absl::Hours(5));
  absl::Time closed_at = f.clock.Now();
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  f.clock.Set(closed_at + absl::Hours(24) - absl::Seconds(1));
  CHECK(FindShard(*f, "s", kShard0).has_value());
  f.clock.Set(closed_at + absl::Hours(24) + absl::Seconds(1));
  CHECK_FALSE(FindShard(*f, "s", kShard0).has_value());
}

TEST_CASE("an iterator held across a shard's expiry returns no records", "[stream][retention][expiry][reshard]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "p0");
  absl::Time arrival = f.clock.Now();
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  f.clock.Set(arrival + absl::Hours(24) - absl::Minutes(1));
  std::string it = Iterator(*f, "s", kShard0);
  f.clock.Advance(absl::Minutes(2));
  auto r = f->GetRecords(it);
  if (r.ok()) {
    CHECK(r->records.empty());
  } else {
    CHECK_ERROR_IN(r, {ErrorType::kResourceNotFound, ErrorType::kExpiredIterator});
  }
}

}  // namespace
}  // namespace tributary
