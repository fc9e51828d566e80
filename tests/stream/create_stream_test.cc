// CreateStream: shard layout, name validation, limits, describe/summary fields.
#include <catch2/catch.hpp>

#include <string>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::KinesisShardStart;
using testing::OpenShards;
using testing::PartitionProblem;
using testing::StoreFixture;

TEST_CASE("three shards start where Kinesis starts them", "[stream][create]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  auto shards = AllShards(*f, "s");
  REQUIRE(shards.size() == 3);
  CHECK(shards[0].shard_id == "shardId-000000000000");
  CHECK(shards[1].shard_id == "shardId-000000000001");
  CHECK(shards[2].shard_id == "shardId-000000000002");
  CHECK(shards[0].hash_key_range.start.ToString() == "0");
  CHECK(shards[0].hash_key_range.end.ToString() == "113427455640312821154458202477256070484");
  CHECK(shards[1].hash_key_range.start.ToString() == "113427455640312821154458202477256070485");
  CHECK(shards[1].hash_key_range.end.ToString() == "226854911280625642308916404954512140969");
  CHECK(shards[2].hash_key_range.start.ToString() == "226854911280625642308916404954512140970");
  CHECK(shards[2].hash_key_range.end.ToString() == "340282366920938463463374607431768211455");
  for (const auto& s : shards) {
    CHECK(s.state == ShardState::kOpen);
    CHECK_FALSE(s.parent_shard_id.has_value());
    CHECK_FALSE(s.adjacent_parent_shard_id.has_value());
    CHECK_FALSE(s.ending_sequence_number.has_value());
    CHECK(s.starting_sequence_number.valid());
  }
}

TEST_CASE("N shards partition the hash space at floor(i * 2^128 / N)", "[stream][create]") {
  auto n = GENERATE(1, 2, 3, 5, 7, 16, 100);
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", n));
  auto shards = OpenShards(*f, "s");
  REQUIRE(shards.size() == static_cast<size_t>(n));
  CHECK(PartitionProblem(shards) == "");
  for (int i = 0; i < n; ++i) {
    INFO("N=" << n << " shard " << i);
    CHECK(shards[i].hash_key_range.start == KinesisShardStart(i, n));
    CHECK(shards[i].shard_id == FormatShardId(static_cast<uint32_t>(i)));
  }
}

TEST_CASE("stream names are 1..128 characters of [a-zA-Z0-9_.-]", "[stream][create][validation]") {
  StoreFixture f;
  SECTION("valid names") {
    auto name = GENERATE(as<std::string>{}, "a", "Z", "0", "my-stream_1.v2", std::string(128, 'x'),
                         "..", "-_-");
    CHECK_OK(f->CreateStream(name, 1));
    CHECK_OK(f->DescribeStreamSummary(name));
  }
  SECTION("invalid names") {
    auto name = GENERATE(as<std::string>{}, "", std::string(129, 'x'), "has space", "a/b", "a:b",
                         "caf\xc3\xa9", "tab\t", "star*");
    INFO("name '" << name << "'");
    CHECK_ERROR(f->CreateStream(name, 1), ErrorType::kValidation);
    auto listed = f->ListStreams();
    REQUIRE_OK(listed);
    CHECK(listed->stream_names.empty());
  }
}

TEST_CASE("creating a stream that exists is ResourceInUse", "[stream][create]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  auto st = f->CreateStream("s", 3);
  CHECK_ERROR(st, ErrorType::kResourceInUse);
  CHECK_THAT(st, testing::HasCode(absl::StatusCode::kAlreadyExists));
  // The first stream is untouched.
  CHECK(AllShards(*f, "s").size() == 2);
}

TEST_CASE("shard count must be at least 1", "[stream][create][validation]") {
  StoreFixture f;
  auto n = GENERATE(0, -1, -100);
  CHECK_ERROR(f->CreateStream("s", n), ErrorType::kValidation);
  CHECK_ERROR(f->DescribeStreamSummary("s"), ErrorType::kResourceNotFound);
}

TEST_CASE("a provisioned stream needs a shard count", "[stream][create][validation]") {
  StoreFixture f;
  CreateStreamOptions o;
  o.mode = StreamMode::kProvisioned;
  CHECK_ERROR(f->CreateStream("s", o), ErrorType::kValidation);
}

TEST_CASE("an on-demand stream gets four shards by default", "[stream][create]") {
  StoreFixture f;
  CreateStreamOptions o;
  o.mode = StreamMode::kOnDemand;
  REQUIRE_OK(f->CreateStream("s", o));
  auto d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->stream_mode == StreamMode::kOnDemand);
  CHECK(d->open_shard_count == limits::kOnDemandShardCount);
  CHECK(PartitionProblem(OpenShards(*f, "s")) == "");
}

TEST_CASE("the account shard limit caps open shards across streams", "[stream][create][limits]") {
  StoreOptions o;
  o.shard_limit = 10;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("a", 6));
  CHECK_ERROR(f->CreateStream("b", 5), ErrorType::kLimitExceeded);
  CHECK_ERROR(f->DescribeStreamSummary("b"), ErrorType::kResourceNotFound);
  CHECK_OK(f->CreateStream("b", 4));
  CHECK_ERROR(f->CreateStream("c", 1), ErrorType::kLimitExceeded);
  auto limits = f->DescribeLimits();
  REQUIRE_OK(limits);
  CHECK(limits->shard_limit == 10);
  CHECK(limits->open_shard_count == 10);
}

TEST_CASE("the default shard limit is 500", "[stream][create][limits]") {
  StoreFixture f;
  CHECK_ERROR(f->CreateStream("s", 501), ErrorType::kLimitExceeded);
  auto limits = f->DescribeLimits();
  REQUIRE_OK(limits);
  CHECK(limits->shard_limit == 500);
  CHECK(limits->open_shard_count == 0);
}

TEST_CASE("max record size is 1024..10240 KiB", "[stream][create][validation]") {
  StoreFixture f;
  CreateStreamOptions o;
  o.shard_count = 1;
  SECTION("in range") {
    auto kib = GENERATE(1024, 2048, 10240);
    o.max_record_size_kib = kib;
    REQUIRE_OK(f->CreateStream("s", o));
    auto d = f->DescribeStreamSummary("s");
    REQUIRE_OK(d);
    CHECK(d->max_record_size_kib == kib);
  }
  SECTION("out of range") {
    auto kib = GENERATE(0, 1023, 10241);
    o.max_record_size_kib = kib;
    CHECK_ERROR(f->CreateStream("s", o), ErrorType::kValidation);
    CHECK_ERROR(f->DescribeStreamSummary("s"), ErrorType::kResourceNotFound);
  }
}

TEST_CASE("describe and summary report the stream's settings", "[stream][create][local-only]") {
  StoreFixture f;
  absl::Time created = f.clock.Now();
  REQUIRE_OK(f->CreateStream("orders", 2));
  f.clock.Advance(absl::Seconds(5));

  auto sum = f->DescribeStreamSummary("orders");
  REQUIRE_OK(sum);
  CHECK(sum->stream_name == "orders");
  CHECK(sum->stream_arn == "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
  CHECK(sum->stream_status == StreamStatus::kActive);
  CHECK(sum->stream_mode == StreamMode::kProvisioned);
  CHECK(sum->retention_period_hours == 24);
  CHECK(sum->stream_creation_timestamp == created);
  CHECK(sum->open_shard_count == 2);
  CHECK(sum->max_record_size_kib == 1024);

  DescribeStreamRequest req;
  req.stream = "orders";
  auto d = f->DescribeStream(req);
  REQUIRE_OK(d);
  CHECK(d->stream_name == "orders");
  CHECK(d->stream_arn == sum->stream_arn);
  CHECK(d->stream_status == StreamStatus::kActive);
  CHECK(d->shards.size() == 2);
  CHECK_FALSE(d->has_more_shards);
  CHECK(d->retention_period_hours == 24);
  CHECK(d->stream_creation_timestamp == created);
}

TEST_CASE("streams can be named by ARN", "[stream][create][arn]") {
  StoreOptions o;
  o.region = "eu-west-1";
  o.account_id = "123456789012";
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("s", 1));
  std::string arn = f->StreamArn("s");
  CHECK(arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/s");
  CHECK_OK(f->DescribeStreamSummary(arn));
  CHECK_OK(f->Put(arn, testing::Input("k", "v")));
  // An ARN of another account or region names a stream this store does not have.
  CHECK_ERROR(f->DescribeStreamSummary("arn:aws:kinesis:eu-west-1:999999999999:stream/s"),
              ErrorType::kResourceNotFound);
  CHECK_ERROR(f->DescribeStreamSummary("arn:aws:kinesis:us-east-1:123456789012:stream/s"),
              ErrorType::kResourceNotFound);
}

TEST_CASE("tags given at creation are attached", "[stream][create][tags]") {
  StoreFixture f;
  CreateStreamOptions o;
  o.shard_count = 1;
  o.tags = {{"team", "data"}, {"env", "test"}};
  REQUIRE_OK(f->CreateStream("s", o));
  auto tags = f->ListTagsForStream("s");
  REQUIRE_OK(tags);
  REQUIRE(tags->tags.size() == 2);
  CHECK(tags->tags[0] == std::make_pair(std::string("env"), std::string("test")));
  CHECK(tags->tags[1] == std::make_pair(std::string("team"), std::string("data")));
}

TEST_CASE("unknown streams are ResourceNotFound everywhere", "[stream][create][not_found]") {
  StoreFixture f;
  CHECK_ERROR(f->DescribeStreamSummary("nope"), ErrorType::kResourceNotFound);
  DescribeStreamRequest d;
  d.stream = "nope";
  CHECK_ERROR(f->DescribeStream(d), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->DeleteStream("nope"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->Put("nope", testing::Input("k")), ErrorType::kResourceNotFound);
  std::vector<PutRecordInput> batch{testing::Input("k")};
  CHECK_ERROR(f->PutBatch("nope", batch), ErrorType::kResourceNotFound);
  GetShardIteratorRequest it;
  it.stream = "nope";
  it.shard_id = "shardId-000000000000";
  CHECK_ERROR(f->GetShardIterator(it), ErrorType::kResourceNotFound);
  ListShardsRequest ls;
  ls.stream = "nope";
  CHECK_ERROR(f->ListShards(ls), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->SplitShard("nope", "shardId-000000000000", "100"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->MergeShards("nope", "shardId-000000000000", "shardId-000000000001"),
              ErrorType::kResourceNotFound);
  CHECK_ERROR(f->UpdateShardCount("nope", 2), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->UpdateStreamMode("nope", StreamMode::kOnDemand), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->UpdateMaxRecordSize("nope", 2048), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->IncreaseStreamRetentionPeriod("nope", 48), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->DecreaseStreamRetentionPeriod("nope", 24), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->AddTagsToStream("nope", {{"k", "v"}}), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->RemoveTagsFromStream("nope", {"k"}), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->ListTagsForStream("nope"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->WaitUntilActive("nope", absl::Minutes(1)), ErrorType::kResourceNotFound);
}

TEST_CASE("update stream mode switches between provisioned and on-demand", "[stream][create][mode]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  REQUIRE_OK(f->UpdateStreamMode("s", StreamMode::kOnDemand));
  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(10)));
  auto d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->stream_mode == StreamMode::kOnDemand);
  auto limits = f->DescribeLimits();
  REQUIRE_OK(limits);
  CHECK(limits->on_demand_stream_count == 1);
  REQUIRE_OK(f->UpdateStreamMode("s", StreamMode::kProvisioned));
  d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->stream_mode == StreamMode::kProvisioned);
}

TEST_CASE("the on-demand stream count limit is enforced", "[stream][create][mode][limits][local-only]") {
  StoreOptions o;
  o.on_demand_stream_count_limit = 1;
  StoreFixture f(o);
  CreateStreamOptions od;
  od.mode = StreamMode::kOnDemand;
  REQUIRE_OK(f->CreateStream("a", od));
  CHECK_ERROR(f->CreateStream("b", od), ErrorType::kLimitExceeded);
  REQUIRE_OK(f->CreateStream("c", 1));
  CHECK_ERROR(f->UpdateStreamMode("c", StreamMode::kOnDemand), ErrorType::kLimitExceeded);
  auto d = f->DescribeStreamSummary("c");
  REQUIRE_OK(d);
  CHECK(d->stream_mode == StreamMode::kProvisioned);
}

TEST_CASE("the capacity mode may switch at most twice in 24 hours", "[stream][create][mode][limits][local-only]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  absl::Time t0 = f.clock.Now();
  REQUIRE_OK(f->UpdateStreamMode("s", StreamMode::kOnDemand));
  f.clock.Advance(absl::Hours(1));
  REQUIRE_OK(f->UpdateStreamMode("s", StreamMode::kProvisioned));
  f.clock.Advance(absl::Hours(1));
  CHECK_ERROR(f->UpdateStreamMode("s", StreamMode::kOnDemand), ErrorType::kLimitExceeded);
  f.clock.Set(t0 + absl::Hours(24) + absl::Seconds(1));
  CHECK_OK(f->UpdateStreamMode("s", StreamMode::kOnDemand));
}

TEST_CASE("on-demand streams cannot be resharded by hand", "[stream][create][mode][validation]") {
  StoreFixture f;
  CreateStreamOptions od;
  od.mode = StreamMode::kOnDemand;
  REQUIRE_OK(f->CreateStream("s", od));
  auto open = testing::OpenShards(*f, "s");
  REQUIRE(open.size() == 4);
  CHECK_ERROR_IN(f->SplitShard("s", open[0].shard_id, testing::Midpoint(open[0].hash_key_range).ToString()),
                 {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK_ERROR_IN(f->MergeShards("s", open[0].shard_id, open[1].shard_id),
                 {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK_ERROR_IN(f->UpdateShardCount("s", 5), {ErrorType::kValidation, ErrorType::kInvalidArgument});
  CHECK(testing::OpenShards(*f, "s").size() == 4);
}

TEST_CASE("UpdateMaxRecordSize changes the limit within 1024..10240", "[stream][create][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->UpdateMaxRecordSize("s", 4096));
  auto d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->max_record_size_kib == 4096);
  CHECK_ERROR(f->UpdateMaxRecordSize("s", 1023), ErrorType::kValidation);
  CHECK_ERROR(f->UpdateMaxRecordSize("s", 10241), ErrorType::kValidation);
  d = f->DescribeStreamSummary("s");
  REQUIRE_OK(d);
  CHECK(d->max_record_size_kib == 4096);
}

TEST_CASE("options() returns the store's options", "[stream][create][local-only]") {
  StoreOptions o;
  o.shard_limit = 77;
  o.region = "ap-south-1";
  StoreFixture f(o);
  CHECK(f->options().shard_limit == 77);
  CHECK(f->options().region == "ap-south-1");
  CHECK(f->options().clock == &f.clock);
}

TEST_CASE("OpenInMemory rejects nonsensical options", "[stream][create][validation]") {
  StoreOptions o;
  o.shard_limit = 0;
  CHECK_ERROR(Store::OpenInMemory(o), ErrorType::kValidation);
  StoreOptions n;
  n.create_delay = -absl::Seconds(1);
  CHECK_ERROR(Store::OpenInMemory(n), ErrorType::kValidation);
}

}  // namespace
}  // namespace tributary
