// Optional per-shard throughput limits (token buckets on the store's clock).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::Input;
using testing::InputWithHash;
using testing::ReadShard;
using testing::StoreFixture;

StoreOptions Limited(double records_per_second) {
  StoreOptions o;
  o.throughput.enabled = true;
  o.throughput.write_records_per_second = records_per_second;
  return o;
}

TEST_CASE("throughput limits are off by default", "[stream][throughput]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  std::vector<PutRecordInput> batch(500, Input("k", "v"));
  for (int i = 0; i < 6; ++i) {
    auto r = f->PutBatch("s", batch);
    REQUIRE_OK(r);
    CHECK(r->failed_record_count == 0);
  }
  for (int i = 0; i < 20; ++i) {
    GetShardIteratorRequest req;
    req.stream = "s";
    req.shard_id = "shardId-000000000000";
    auto it = f->GetShardIterator(req);
    REQUIRE_OK(it);
    CHECK_OK(f->GetRecords(*it, 1));
  }
}

TEST_CASE("PutBatch fails single records when a shard is throttled", "[stream][throughput][batch]") {
  StoreFixture f(Limited(10));
  REQUIRE_OK(f->CreateStream("s", 1));
  std::vector<std::string> data;
  for (int i = 0; i < 15; ++i) data.push_back("d" + std::to_string(i));
  std::vector<PutRecordInput> batch;
  for (int i = 0; i < 15; ++i) batch.push_back(Input("k", data[i]));
  auto r = f->PutBatch("s", batch);
  REQUIRE_OK(r);  // partial failure is not a call failure
  CHECK(r->failed_record_count == 5);
  REQUIRE(r->records.size() == 15);
  int ok = 0;
  for (const auto& e : r->records) {
    if (e.ok()) {
      ++ok;
      CHECK(e.sequence_number.has_value());
      CHECK(e.shard_id.has_value());
    } else {
      CHECK(e.error_code == "ProvisionedThroughputExceededException");
      CHECK_FALSE(e.error_message.empty());
      CHECK_FALSE(e.sequence_number.has_value());
    }
  }
  CHECK(ok == 10);
  // Only the accepted records were written.
  auto read = ReadShard(*f, "s", "shardId-000000000000");
  CHECK(read.records.size() == 10);

  // A full bucket again after one second of clock time.
  f.clock.Advance(absl::Seconds(1));
  std::vector<PutRecordInput> again(10, Input("k", "x"));
  auto r2 = f->PutBatch("s", again);
  REQUIRE_OK(r2);
  CHECK(r2->failed_record_count == 0);
}

TEST_CASE("a throttled Put fails with ProvisionedThroughputExceeded and writes nothing",
          "[stream][throughput]") {
  StoreFixture f(Limited(3));
  REQUIRE_OK(f->CreateStream("s", 2));
  const std::string lo = "0";
  const std::string hi = "340282366920938463463374607431768211455";
  for (int i = 0; i < 3; ++i) REQUIRE_OK(f->Put("s", InputWithHash("k", lo)));
  CHECK_ERROR(f->Put("s", InputWithHash("k", lo)), ErrorType::kProvisionedThroughputExceeded);
  // Limits are per shard: the other shard still takes writes.
  CHECK_OK(f->Put("s", InputWithHash("k", hi)));
  CHECK(ReadShard(*f, "s", "shardId-000000000000").records.size() == 3);
  f.clock.Advance(absl::Seconds(1));
  CHECK_OK(f->Put("s", InputWithHash("k", lo)));
}

TEST_CASE("write bytes per second are limited too", "[stream][throughput]") {
  StoreOptions o;
  o.throughput.enabled = true;
  o.throughput.write_bytes_per_second = 1000;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("s", 1));
  std::string data(600, 'd');
  REQUIRE_OK(f->Put("s", Input("k", data)));
  CHECK_ERROR(f->Put("s", Input("k", data)), ErrorType::kProvisionedThroughputExceeded);
  f.clock.Advance(absl::Seconds(1));
  CHECK_OK(f->Put("s", Input("k", data)));
}

TEST_CASE("GetRecords calls are limited per shard and the iterator survives throttling",
          "[stream][throughput][read]") {
  StoreOptions o;
  o.throughput.enabled = true;
  o.throughput.read_calls_per_second = 5;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->Put("s", Input("k", "v")));
  std::string it = testing::Iterator(*f, "s", "shardId-000000000000");
  for (int i = 0; i < 5; ++i) {
    auto r = f->GetRecords(it, 1);
    REQUIRE_OK(r);
  }
  CHECK_ERROR(f->GetRecords(it, 1), ErrorType::kProvisionedThroughputExceeded);
  f.clock.Advance(absl::Seconds(1));
  auto r = f->GetRecords(it, 1);
  REQUIRE_OK(r);
  CHECK(r->records.size() == 1);
}

}  // namespace
}  // namespace tributary
