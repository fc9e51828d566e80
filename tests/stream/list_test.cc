// ListShards (filters, paging, tokens), ListStreams and DescribeStream paging.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::Midpoint;
using testing::ShardIds;
using testing::StoreFixture;

std::string Id(int i) { return FormatShardId(static_cast<uint32_t>(i)); }

std::set<std::string> Ids(std::initializer_list<int> is) {
  std::set<std::string> out;
  for (int i : is) out.insert(Id(i));
  return out;
}

// Stream "s": shard 0 from t0; split at t1 = t0+1h into 1 and 2; 1 and 2
// merged at t2 = t0+2h into 3. Now is t0+3h.
struct LineageFixture {
  StoreFixture f;
  absl::Time t0, t1, t2;

  LineageFixture() {
    t0 = f.clock.Now();
    REQUIRE_OK(f->CreateStream("s", 1));
    REQUIRE_OK(f->Put("s", testing::Input("k", "in 0")));
    f.clock.Advance(absl::Hours(1));
    t1 = f.clock.Now();
    REQUIRE_OK(f->SplitShard("s", Id(0), Midpoint(HashKeyRange::All()).ToString()));
    REQUIRE_OK(f->Put("s", testing::Input("k", "in 1 or 2")));
    f.clock.Advance(absl::Hours(1));
    t2 = f.clock.Now();
    REQUIRE_OK(f->MergeShards("s", Id(1), Id(2)));
    REQUIRE_OK(f->Put("s", testing::Input("k", "in 3")));
    f.clock.Advance(absl::Hours(1));
  }

  std::set<std::string> List(ShardFilter filter) {
    ListShardsRequest req;
    req.stream = "s";
    req.shard_filter = filter;
    auto r = f->ListShards(req);
    REQUIRE_OK(r);
    return ShardIds(r->shards);
  }
};

ShardFilter Filter(ShardFilterType type, std::optional<std::string> shard_id = std::nullopt,
                   std::optional<absl::Time> ts = std::nullopt) {
  return ShardFilter{type, std::move(shard_id), ts};
}

TEST_CASE("ListShards without a filter lists every shard in id order", "[stream][list][list_shards]") {
  LineageFixture l;
  ListShardsRequest req;
  req.stream = "s";
  auto r = l.f->ListShards(req);
  REQUIRE_OK(r);
  REQUIRE(r->shards.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(r->shards[i].shard_id == Id(i));
  CHECK_FALSE(r->next_token.has_value());
  CHECK(r->shards[0].state == ShardState::kClosed);
  CHECK(r->shards[1].state == ShardState::kClosed);
  CHECK(r->shards[2].state == ShardState::kClosed);
  CHECK(r->shards[3].state == ShardState::kOpen);
  CHECK(r->shards[1].parent_shard_id == Id(0));
  CHECK(r->shards[3].parent_shard_id == Id(1));
  CHECK(r->shards[3].adjacent_parent_shard_id == Id(2));
}

TEST_CASE("ListShards filter AT_LATEST lists the open shards", "[stream][list][list_shards]") {
  LineageFixture l;
  CHECK(l.List(Filter(ShardFilterType::kAtLatest)) == Ids({3}));
}

TEST_CASE("ListShards filter FROM_TRIM_HORIZON lists every unexpired shard", "[stream][list][list_shards]") {
  LineageFixture l;
  CHECK(l.List(Filter(ShardFilterType::kFromTrimHorizon)) == Ids({0, 1, 2, 3}));
}

TEST_CASE("ListShards filter AT_TRIM_HORIZON lists the shards open at the trim horizon",
          "[stream][list][list_shards]") {
  LineageFixture l;
  CHECK(l.List(Filter(ShardFilterType::kAtTrimHorizon)) == Ids({0}));
}

TEST_CASE("ListShards filter AFTER_SHARD_ID lists shards with greater ids", "[stream][list][list_shards]") {
  LineageFixture l;
  CHECK(l.List(Filter(ShardFilterType::kAfterShardId, Id(1))) == Ids({2, 3}));
  CHECK(l.List(Filter(ShardFilterType::kAfterShardId, Id(3))).empty());
}

TEST_CASE("ListShards filter AT_TIMESTAMP lists the shards open at that time", "[stream][list][list_shards][local-only]") {
  LineageFixture l;
  CHECK(l.List(Filter(ShardFilterType::kAtTimestamp, std::nullopt, l.t0 + absl::Minutes(30))) == Ids({0}));
  CHECK(l.List(Filter(ShardFilterType::kAtTimestamp, std::nullopt, l.t1 + absl::Minutes(30))) == Ids({1, 2}));
  CHECK(l.List(Filter(ShardFilterType::kAtTimestamp, std::nullopt, l.t2 + absl::Minutes(30))) == Ids({3}));
}

TEST_CASE("ListShards filter FROM_TIMESTAMP lists shards open at or after that time", "[stream][list][list_shards][local-only]") {
  LineageFixture l;
  CHECK(l.List(Filter(ShardFilterType::kFromTimestamp, std::nullopt, l.t0 + absl::Minutes(30))) ==
        Ids({0, 1, 2, 3}));
  CHECK(l.List(Filter(ShardFilterType::kFromTimestamp, std::nullopt, l.t1 + absl::Minutes(30))) ==
        Ids({1, 2, 3}));
  CHECK(l.List(Filter(ShardFilterType::kFromTimestamp, std::nullopt, l.t2 + absl::Minutes(30))) == Ids({3}));
}

TEST_CASE("ListShards filters validate their fields", "[stream][list][list_shards][validation]") {
  LineageFixture l;
  ListShardsRequest req;
  req.stream = "s";
  SECTION("AFTER_SHARD_ID needs a shard id") {
    req.shard_filter = Filter(ShardFilterType::kAfterShardId);
    CHECK_ERROR(l.f->ListShards(req), ErrorType::kInvalidArgument);
  }
  SECTION("a shard id only goes with AFTER_SHARD_ID") {
    req.shard_filter = Filter(ShardFilterType::kAtLatest, Id(1));
    CHECK_ERROR(l.f->ListShards(req), ErrorType::kInvalidArgument);
  }
  SECTION("timestamp filters need a timestamp") {
    req.shard_filter = Filter(ShardFilterType::kAtTimestamp);
    CHECK_ERROR(l.f->ListShards(req), ErrorType::kInvalidArgument);
    req.shard_filter = Filter(ShardFilterType::kFromTimestamp);
    CHECK_ERROR(l.f->ListShards(req), ErrorType::kInvalidArgument);
  }
  SECTION("a timestamp only goes with the timestamp filters") {
    req.shard_filter = Filter(ShardFilterType::kAtLatest, std::nullopt, l.t0);
    CHECK_ERROR(l.f->ListShards(req), ErrorType::kInvalidArgument);
  }
}

TEST_CASE("ListShards pages with MaxResults and NextToken", "[stream][list][list_shards][paging]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 5));
  ListShardsRequest req;
  req.stream = "s";
  req.max_results = 2;
  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  for (int guard = 0; guard < 10; ++guard) {
    auto r = f->ListShards(req);
    REQUIRE_OK(r);
    page_sizes.push_back(r->shards.size());
    for (const auto& s : r->shards) seen.push_back(s.shard_id);
    if (!r->next_token) break;
    CHECK(r->next_token->size() > 0);
    req = ListShardsRequest();
    req.next_token = *r->next_token;
    req.max_results = 2;
  }
  CHECK(seen == std::vector<std::string>{Id(0), Id(1), Id(2), Id(3), Id(4)});
  CHECK(page_sizes == std::vector<size_t>{2, 2, 1});
}

TEST_CASE("ListShards ExclusiveStartShardId starts after that shard", "[stream][list][list_shards][paging]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 5));
  ListShardsRequest req;
  req.stream = "s";
  req.exclusive_start_shard_id = Id(1);
  auto r = f->ListShards(req);
  REQUIRE_OK(r);
  CHECK(ShardIds(r->shards) == Ids({2, 3, 4}));
}

TEST_CASE("ListShards takes a stream or a NextToken, not both", "[stream][list][list_shards][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  ListShardsRequest req;
  req.stream = "s";
  req.max_results = 1;
  auto first = f->ListShards(req);
  REQUIRE_OK(first);
  REQUIRE(first->next_token.has_value());

  ListShardsRequest both;
  both.stream = "s";
  both.next_token = *first->next_token;
  CHECK_ERROR(f->ListShards(both), ErrorType::kInvalidArgument);

  ListShardsRequest neither;
  CHECK_ERROR(f->ListShards(neither), ErrorType::kInvalidArgument);

  ListShardsRequest garbage;
  garbage.next_token = "not-a-token";
  CHECK_ERROR(f->ListShards(garbage), ErrorType::kInvalidArgument);
}

TEST_CASE("a ListShards NextToken expires after 300 seconds", "[stream][list][list_shards][expiry][local-only]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  ListShardsRequest req;
  req.stream = "s";
  req.max_results = 1;
  auto first = f->ListShards(req);
  REQUIRE_OK(first);
  REQUIRE(first->next_token.has_value());
  ListShardsRequest next;
  next.next_token = *first->next_token;
  f.clock.Advance(absl::Seconds(299));
  CHECK_OK(f->ListShards(next));
  f.clock.Advance(absl::Seconds(2));
  CHECK_ERROR(f->ListShards(next), ErrorType::kExpiredNextToken);
}

TEST_CASE("ListShards MaxResults must be 1..10000", "[stream][list][list_shards][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  ListShardsRequest req;
  req.stream = "s";
  auto n = GENERATE(0, -1, 10001);
  req.max_results = n;
  CHECK_ERROR(f->ListShards(req), ErrorType::kValidation);
}

TEST_CASE("ListShards pages hold at most 1000 shards", "[stream][list][list_shards][paging]") {
  StoreOptions o;
  o.shard_limit = 1200;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("s", 1100));
  ListShardsRequest req;
  req.stream = "s";
  req.max_results = 10000;
  auto r = f->ListShards(req);
  REQUIRE_OK(r);
  CHECK(r->shards.size() == 1000);
  REQUIRE(r->next_token.has_value());
  CHECK(AllShards(*f, "s").size() == 1100);
}

TEST_CASE("ListShards with the stream's creation timestamp", "[stream][list][list_shards][local-only]") {
  StoreFixture f;
  absl::Time created = f.clock.Now();
  REQUIRE_OK(f->CreateStream("s", 2));
  ListShardsRequest req;
  req.stream = "s";
  req.stream_creation_timestamp = created;
  auto r = f->ListShards(req);
  REQUIRE_OK(r);
  CHECK(r->shards.size() == 2);
}

TEST_CASE("ListShards paging keeps the filter of the first page", "[stream][list][list_shards][paging]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 4));
  // Close shards 0 and 1 by merging them: shard 4 is their child.
  REQUIRE_OK(f->MergeShards("s", Id(0), Id(1)));
  ListShardsRequest req;
  req.stream = "s";
  req.max_results = 1;
  req.shard_filter = Filter(ShardFilterType::kAtLatest);
  std::set<std::string> seen;
  for (int guard = 0; guard < 10; ++guard) {
    auto r = f->ListShards(req);
    REQUIRE_OK(r);
    CHECK(r->shards.size() <= 1);
    for (const auto& sh : r->shards) {
      CHECK(sh.state == ShardState::kOpen);
      seen.insert(sh.shard_id);
    }
    if (!r->next_token) break;
    req = ListShardsRequest();
    req.next_token = r->next_token;
    req.max_results = 1;
  }
  CHECK(seen == Ids({2, 3, 4}));
}

TEST_CASE("ListShards NextToken may not be combined with other selectors", "[stream][list][list_shards][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  ListShardsRequest req;
  req.stream = "s";
  req.max_results = 1;
  auto first = f->ListShards(req);
  REQUIRE_OK(first);
  REQUIRE(first->next_token.has_value());
  ListShardsRequest with_filter;
  with_filter.next_token = first->next_token;
  with_filter.shard_filter = Filter(ShardFilterType::kAtLatest);
  CHECK_ERROR(f->ListShards(with_filter), ErrorType::kInvalidArgument);
  ListShardsRequest with_start;
  with_start.next_token = first->next_token;
  with_start.exclusive_start_shard_id = Id(0);
  CHECK_ERROR(f->ListShards(with_start), ErrorType::kInvalidArgument);
}

TEST_CASE("a ListShards NextToken does not outlive its stream", "[stream][list][list_shards]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  ListShardsRequest req;
  req.stream = "s";
  req.max_results = 1;
  auto first = f->ListShards(req);
  REQUIRE_OK(first);
  REQUIRE(first->next_token.has_value());
  REQUIRE_OK(f->DeleteStream("s"));
  REQUIRE_OK(f->CreateStream("s", 3));
  ListShardsRequest next;
  next.next_token = first->next_token;
  CHECK_ERROR_IN(f->ListShards(next), {ErrorType::kResourceNotFound, ErrorType::kInvalidArgument,
                                       ErrorType::kExpiredNextToken});
}

TEST_CASE("ListShards validates ExclusiveStartShardId and StreamCreationTimestamp",
          "[stream][list][list_shards][validation]") {
  StoreFixture f;
  absl::Time created = f.clock.Now();
  REQUIRE_OK(f->CreateStream("s", 2));
  ListShardsRequest req;
  req.stream = "s";
  req.exclusive_start_shard_id = "not a shard id";
  CHECK_ERROR(f->ListShards(req), ErrorType::kValidation);
  ListShardsRequest ts;
  ts.stream = "s";
  ts.stream_creation_timestamp = created + absl::Hours(1);
  CHECK_ERROR(f->ListShards(ts), ErrorType::kResourceNotFound);
}

TEST_CASE("ListStreams pages through sorted stream names", "[stream][list][list_streams]") {
  StoreFixture f;
  for (const char* name : {"delta", "alpha", "echo", "charlie", "bravo"}) REQUIRE_OK(f->CreateStream(name, 1));
  auto all = f->ListStreams();
  REQUIRE_OK(all);
  CHECK(all->stream_names == std::vector<std::string>{"alpha", "bravo", "charlie", "delta", "echo"});
  CHECK_FALSE(all->has_more_streams);
  REQUIRE(all->stream_summaries.size() == 5);
  CHECK(all->stream_summaries[0].stream_name == "alpha");
  CHECK(all->stream_summaries[0].stream_arn == f->StreamArn("alpha"));
  CHECK(all->stream_summaries[0].stream_status == StreamStatus::kActive);

  ListStreamsRequest req;
  req.limit = 2;
  std::vector<std::string> seen;
  for (int guard = 0; guard < 10; ++guard) {
    auto r = f->ListStreams(req);
    REQUIRE_OK(r);
    CHECK(r->stream_names.size() <= 2);
    seen.insert(seen.end(), r->stream_names.begin(), r->stream_names.end());
    if (!r->has_more_streams) {
      CHECK_FALSE(r->next_token.has_value());
      break;
    }
    REQUIRE(r->next_token.has_value());
    req = ListStreamsRequest();
    req.limit = 2;
    req.next_token = r->next_token;
  }
  CHECK(seen == all->stream_names);

  ListStreamsRequest after;
  after.exclusive_start_stream_name = "bravo";
  auto r = f->ListStreams(after);
  REQUIRE_OK(r);
  CHECK(r->stream_names == std::vector<std::string>{"charlie", "delta", "echo"});
  // The start name need not exist.
  after.exclusive_start_stream_name = "c";
  r = f->ListStreams(after);
  REQUIRE_OK(r);
  CHECK(r->stream_names == std::vector<std::string>{"charlie", "delta", "echo"});
}

TEST_CASE("ListStreams validates its request", "[stream][list][list_streams][validation][local-only]") {
  StoreFixture f;
  for (const char* name : {"a", "b", "c"}) REQUIRE_OK(f->CreateStream(name, 1));
  ListStreamsRequest req;
  req.limit = 1;
  auto first = f->ListStreams(req);
  REQUIRE_OK(first);
  REQUIRE(first->next_token.has_value());

  SECTION("limit out of range") {
    ListStreamsRequest bad;
    bad.limit = GENERATE(0, -1, 10001);
    CHECK_ERROR(f->ListStreams(bad), ErrorType::kValidation);
  }
  SECTION("NextToken with ExclusiveStartStreamName") {
    ListStreamsRequest both;
    both.next_token = first->next_token;
    both.exclusive_start_stream_name = "a";
    CHECK_ERROR(f->ListStreams(both), ErrorType::kInvalidArgument);
  }
  SECTION("garbage NextToken") {
    ListStreamsRequest garbage;
    garbage.next_token = "garbage";
    CHECK_ERROR(f->ListStreams(garbage), ErrorType::kInvalidArgument);
  }
  SECTION("expired NextToken") {
    ListStreamsRequest next;
    next.next_token = first->next_token;
    f.clock.Advance(absl::Seconds(301));
    CHECK_ERROR(f->ListStreams(next), ErrorType::kExpiredNextToken);
  }
}

TEST_CASE("DescribeStream pages shards with limit and ExclusiveStartShardId", "[stream][list][describe][paging]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 5));
  DescribeStreamRequest req;
  req.stream = "s";
  req.limit = 2;
  auto p1 = f->DescribeStream(req);
  REQUIRE_OK(p1);
  CHECK(ShardIds(p1->shards) == Ids({0, 1}));
  CHECK(p1->has_more_shards);
  req.exclusive_start_shard_id = p1->shards.back().shard_id;
  auto p2 = f->DescribeStream(req);
  REQUIRE_OK(p2);
  CHECK(ShardIds(p2->shards) == Ids({2, 3}));
  CHECK(p2->has_more_shards);
  req.exclusive_start_shard_id = p2->shards.back().shard_id;
  auto p3 = f->DescribeStream(req);
  REQUIRE_OK(p3);
  CHECK(ShardIds(p3->shards) == Ids({4}));
  CHECK_FALSE(p3->has_more_shards);
  // Exactly at the end: an empty page without more.
  req.exclusive_start_shard_id = Id(4);
  auto p4 = f->DescribeStream(req);
  REQUIRE_OK(p4);
  CHECK(p4->shards.empty());
  CHECK_FALSE(p4->has_more_shards);
}

TEST_CASE("DescribeStream returns 100 shards by default", "[stream][list][describe][paging]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 150));
  DescribeStreamRequest req;
  req.stream = "s";
  auto d = f->DescribeStream(req);
  REQUIRE_OK(d);
  CHECK(d->shards.size() == 100);
  CHECK(d->has_more_shards);
}

TEST_CASE("DescribeStream lists closed shards too, in id order", "[stream][list][describe]") {
  LineageFixture l;
  DescribeStreamRequest req;
  req.stream = "s";
  auto d = l.f->DescribeStream(req);
  REQUIRE_OK(d);
  REQUIRE(d->shards.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(d->shards[i].shard_id == Id(i));
  CHECK(d->shards[0].ending_sequence_number.has_value());
  CHECK_FALSE(d->shards[3].ending_sequence_number.has_value());
}

TEST_CASE("DescribeStream validates its request", "[stream][list][describe][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  DescribeStreamRequest req;
  req.stream = "s";
  SECTION("limit out of range") {
    req.limit = GENERATE(0, -1, 10001);
    CHECK_ERROR(f->DescribeStream(req), ErrorType::kValidation);
  }
  SECTION("malformed ExclusiveStartShardId") {
    req.exclusive_start_shard_id = "not a shard";
    CHECK_ERROR(f->DescribeStream(req), ErrorType::kValidation);
  }
}

}  // namespace
}  // namespace tributary
