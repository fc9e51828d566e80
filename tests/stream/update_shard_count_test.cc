// UpdateShardCount (UNIFORM_SCALING): Kinesis' shard arithmetic and its limits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::OpenShards;
using testing::PartitionProblem;
using testing::PutOk;
using testing::ReadShard;
using testing::StoreFixture;

// Checks that `open` (sorted) has `n` shards covering the space, each of
// 1/from or 1/(2*from) of it when scaling up from `from` shards (Kinesis'
// arithmetic, docs/CONCEPTS.md "UpdateShardCount").
void CheckLayout(const std::vector<ShardDescription>& open, int from, int n) {
  REQUIRE(open.size() == static_cast<size_t>(n));
  CHECK(PartitionProblem(open) == "");
  if (n <= from) return;
  const absl::uint128 whole = absl::Uint128Max() / static_cast<uint64_t>(from);
  for (const auto& s : open) {
    const absl::uint128 w = s.hash_key_range.WidthMinusOne();
    INFO(s.shard_id << " width-1 " << w);
    // Within a few keys of 1/from or 1/(2*from) (uniform widths differ by one).
    const bool full = w + 2 >= whole && w <= whole + 2;
    const bool half = w + 2 >= whole / 2 && w <= whole / 2 + 2;
    CHECK((full || half));
  }
}

// Observed AWS behaviour: the number of shards (open and closed) AWS leaves
// after UpdateShardCount, recorded by moto's test_update_shard_count
// ("These numbers have been verified against AWS").
TEST_CASE("UpdateShardCount leaves as many shards as Kinesis", "[stream][scaling]") {
  auto [from, to, total] = GENERATE(table<int, int, size_t>(
      {{2, 4, 6}, {4, 5, 15}, {10, 13, 37}, {4, 2, 6}, {5, 3, 7}, {1, 2, 3}, {3, 2, 4}}));
  INFO(from << " -> " << to);
  StoreOptions o;
  o.shard_limit = 100;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("s", from));
  auto r = f->UpdateShardCount("s", to);
  REQUIRE_OK(r);
  CHECK(r->stream_name == "s");
  CHECK(r->stream_arn == f->StreamArn("s"));
  CHECK(r->current_shard_count == from);
  CHECK(r->target_shard_count == to);
  REQUIRE_OK(f->WaitUntilActive("s", absl::Minutes(10)));
  CHECK(AllShards(*f, "s").size() == total);
  CheckLayout(OpenShards(*f, "s"), from, to);
  auto summary = f->DescribeStreamSummary("s");
  REQUIRE_OK(summary);
  CHECK(summary->open_shard_count == to);
  // Lineage: every shard that is not an original one has a parent.
  for (const auto& s : AllShards(*f, "s")) {
    auto idx = ParseShardId(s.shard_id);
    REQUIRE_OK(idx);
    if (*idx >= static_cast<uint32_t>(from)) CHECK(s.parent_shard_id.has_value());
  }
}

TEST_CASE("UpdateShardCount sweep: every allowed target with the shard limit at the larger count",
          "[stream][scaling][limits]") {
  for (int from = 1; from <= 12; ++from) {
    for (int to = (from + 1) / 2; to <= 2 * from; ++to) {
      if (to == from) continue;
      INFO(from << " -> " << to);
      StoreOptions o;
      o.shard_limit = std::max(from, to);
      StoreFixture f(o);
      REQUIRE_OK(f->CreateStream("s", from));
      REQUIRE_OK(f->UpdateShardCount("s", to));
      CheckLayout(OpenShards(*f, "s"), from, to);
      // Kinesis' totals: up, from + 2*from + (2*from - to); down, from + (from - to).
      const size_t total = to > from ? static_cast<size_t>(5 * from - to) : static_cast<size_t>(2 * from - to);
      CHECK(AllShards(*f, "s").size() == total);
      // A record of every key still routes to one open shard.
      auto r = PutOk(*f, "s", "k", "v");
      auto d = testing::FindShard(*f, "s", r.shard_id);
      REQUIRE(d.has_value());
      CHECK(d->state == ShardState::kOpen);
    }
  }
}

TEST_CASE("UpdateShardCount down merges neighbours, lowest hash keys first", "[stream][scaling]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 4));
  const auto before = OpenShards(*f, "s");
  REQUIRE_OK(f->UpdateShardCount("s", 3));
  const auto after = OpenShards(*f, "s");
  REQUIRE(after.size() == 3);
  CHECK(after[0].hash_key_range == HashKeyRange{before[0].hash_key_range.start, before[1].hash_key_range.end});
  CHECK(after[0].parent_shard_id == before[0].shard_id);
  CHECK(after[0].adjacent_parent_shard_id == before[1].shard_id);
  CHECK(after[1].shard_id == before[2].shard_id);
  CHECK(after[2].shard_id == before[3].shard_id);
}

TEST_CASE("UpdateShardCount keeps data and routes by the new layout", "[stream][scaling]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  for (int i = 0; i < 40; ++i) PutOk(*f, "s", "k" + std::to_string(i), std::to_string(i));
  REQUIRE_OK(f->UpdateShardCount("s", 4));
  size_t total = 0;
  for (const auto& s : AllShards(*f, "s")) total += ReadShard(*f, "s", s.shard_id).records.size();
  CHECK(total == 40);
  for (int i = 0; i < 40; ++i) {
    std::string key = "k" + std::to_string(i);
    auto r = PutOk(*f, "s", key);
    auto d = testing::FindShard(*f, "s", r.shard_id);
    REQUIRE(d.has_value());
    CHECK(d->state == ShardState::kOpen);
    CHECK(d->hash_key_range.Contains(HashKey::FromPartitionKey(key)));
  }
}

TEST_CASE("UpdateShardCount may at most double or halve the open shards", "[stream][scaling][limits]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 4));
  auto before = AllShards(*f, "s");
  CHECK_ERROR(f->UpdateShardCount("s", 9), ErrorType::kLimitExceeded);
  CHECK_ERROR(f->UpdateShardCount("s", 1), ErrorType::kLimitExceeded);
  CHECK(AllShards(*f, "s").size() == before.size());
  CHECK_OK(f->UpdateShardCount("s", 8));
  CHECK_OK(f->UpdateShardCount("s", 4));
  CHECK_OK(f->UpdateShardCount("s", 2));
}

TEST_CASE("UpdateShardCount target must be at least 1", "[stream][scaling][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(f->UpdateShardCount("s", 0), ErrorType::kValidation);
  CHECK_ERROR(f->UpdateShardCount("s", -3), ErrorType::kValidation);
  CHECK(OpenShards(*f, "s").size() == 1);
}

TEST_CASE("UpdateShardCount may not exceed the shard limit", "[stream][scaling][limits]") {
  StoreOptions o;
  o.shard_limit = 5;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("s", 3));
  CHECK_ERROR(f->UpdateShardCount("s", 6), ErrorType::kLimitExceeded);
  CHECK(OpenShards(*f, "s").size() == 3);
  CHECK_OK(f->UpdateShardCount("s", 5));
}

TEST_CASE("at most ten rescalings in any 24 hours", "[stream][scaling][limits][local-only]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  absl::Time t0 = f.clock.Now();
  int count = 1;
  for (int i = 0; i < 10; ++i) {
    count = count == 1 ? 2 : 1;
    INFO("rescale " << i + 1);
    REQUIRE_OK(f->UpdateShardCount("s", count));
    f.clock.Advance(absl::Minutes(1));
  }
  int next = count == 1 ? 2 : 1;
  CHECK_ERROR(f->UpdateShardCount("s", next), ErrorType::kLimitExceeded);
  CHECK(OpenShards(*f, "s").size() == static_cast<size_t>(count));
  // Still blocked just before the first rescale leaves the window...
  f.clock.Set(t0 + absl::Hours(24) - absl::Seconds(1));
  CHECK_ERROR(f->UpdateShardCount("s", next), ErrorType::kLimitExceeded);
  // ...allowed once it has, but only for one: the second one is still inside.
  f.clock.Set(t0 + absl::Hours(24) + absl::Seconds(1));
  REQUIRE_OK(f->UpdateShardCount("s", next));
  CHECK_ERROR(f->UpdateShardCount("s", count), ErrorType::kLimitExceeded);
  f.clock.Set(t0 + absl::Hours(48));
  CHECK_OK(f->UpdateShardCount("s", count));
}

}  // namespace
}  // namespace tributary
