// DeleteStream (instant) and DescribeLimits accounting.
#include <catch2/catch.hpp>

#include <string>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::PutOk;
using testing::StoreFixture;

TEST_CASE("DeleteStream removes the stream and its records", "[stream][delete]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  PutOk(*f, "s", "k", "v");
  auto it = testing::Iterator(*f, "s", "shardId-000000000000");
  REQUIRE_OK(f->DeleteStream("s"));
  CHECK_ERROR(f->DescribeStreamSummary("s"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->DeleteStream("s"), ErrorType::kResourceNotFound);
  // An iterator of the deleted stream does not resurrect it.
  CHECK_ERROR_IN(f->GetRecords(it), {ErrorType::kResourceNotFound, ErrorType::kInvalidArgument,
                                     ErrorType::kExpiredIterator});
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK(testing::ReadShard(*f, "s", "shardId-000000000000").records.empty());
}

TEST_CASE("an iterator of a deleted stream does not read a new stream of the same name",
          "[stream][delete]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "old");
  auto it = testing::Iterator(*f, "s", "shardId-000000000000");
  REQUIRE_OK(f->DeleteStream("s"));
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "new");
  auto got = f->GetRecords(it);
  if (got.ok()) {
    // If the store accepts the old token at all, it must not hand out the new
    // stream's data as if it belonged to the old one.
    for (const auto& r : got->records) CHECK(r.data != "new");
  } else {
    CHECK_ERROR_IN(got, {ErrorType::kResourceNotFound, ErrorType::kInvalidArgument,
                         ErrorType::kExpiredIterator});
  }
}

TEST_CASE("DeleteStream accepts an ARN", "[stream][delete][arn]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->DeleteStream(f->StreamArn("s")));
  CHECK_ERROR(f->DescribeStreamSummary("s"), ErrorType::kResourceNotFound);
}

TEST_CASE("DescribeLimits counts open shards of all streams", "[stream][limits]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("a", 3));
  REQUIRE_OK(f->CreateStream("b", 2));
  auto l = f->DescribeLimits();
  REQUIRE_OK(l);
  CHECK(l->open_shard_count == 5);
  CHECK(l->on_demand_stream_count == 0);
  CHECK(l->on_demand_stream_count_limit == 50);

  // A split closes one shard and opens two.
  auto open = testing::OpenShards(*f, "a");
  REQUIRE_OK(f->SplitShard("a", open[0].shard_id, testing::Midpoint(open[0].hash_key_range).ToString()));
  l = f->DescribeLimits();
  REQUIRE_OK(l);
  CHECK(l->open_shard_count == 6);

  REQUIRE_OK(f->DeleteStream("b"));
  l = f->DescribeLimits();
  REQUIRE_OK(l);
  CHECK(l->open_shard_count == 4);
}

TEST_CASE("deleting a stream frees its shards for the shard limit", "[stream][delete][limits]") {
  StoreOptions o;
  o.shard_limit = 4;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("a", 4));
  CHECK_ERROR(f->CreateStream("b", 1), ErrorType::kLimitExceeded);
  REQUIRE_OK(f->DeleteStream("a"));
  CHECK_OK(f->CreateStream("b", 4));
}

TEST_CASE("DeleteAllStreams removes every stream at once, whatever its status", "[stream][delete]") {
  StoreOptions o;
  o.delete_delay = absl::Seconds(5);
  StoreFixture f(o);
  if (f->backend() == BackendKind::kRemote) {
    CHECK(f->DeleteAllStreams().code() == absl::StatusCode::kUnimplemented);
    return;
  }
  REQUIRE_OK(f->CreateStream("a", 3));
  REQUIRE_OK(f->CreateStream("b", 1));
  REQUIRE_OK(f->CreateStream("c", 1));
  PutOk(*f, "a", "k", "v");
  auto it = testing::Iterator(*f, "a", "shardId-000000000000");
  REQUIRE_OK(f->RegisterStreamConsumer("a", "reader", {}));
  REQUIRE_OK(f->DeleteStream("c"));  // DELETING for 5 s
  REQUIRE_OK(f->UpdateAccountSettings(true));
  REQUIRE_OK(f->DeleteAllStreams());
  ASSIGN_OR_REQUIRE(ListStreamsResult list, f->ListStreams({}));
  CHECK(list.stream_names.empty());
  ASSIGN_OR_REQUIRE(DescribeLimitsResult limits, f->DescribeLimits());
  CHECK(limits.open_shard_count == 0);
  ASSIGN_OR_REQUIRE(AccountSettings settings, f->DescribeAccountSettings());
  CHECK(settings.minimum_throughput_billing_commitment == CommitmentStatus::kDisabled);
  // Every name is free at once, with no DELETING period; old iterators stay dead.
  for (const char* name : {"a", "b", "c"}) REQUIRE_OK(f->CreateStream(name, 1));
  CHECK_ERROR_IN(f->GetRecords(it), {ErrorType::kResourceNotFound, ErrorType::kInvalidArgument,
                                     ErrorType::kExpiredIterator});
  ASSIGN_OR_REQUIRE(ListStreamConsumersResult consumers, f->ListStreamConsumers({.stream = "a"}));
  CHECK(consumers.consumers.empty());
  REQUIRE_OK(f->DeleteAllStreams());  // an empty store: nothing to do
}

}  // namespace
}  // namespace tributary
