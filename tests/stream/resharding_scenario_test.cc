// The resharding document (shared/seeds/003), played end to end against a
// store whose UPDATING period is long enough to be observed:
//
//   put -> SplitShard -> stream UPDATING (parent still OPEN and writable)
//   -> poll DescribeStream until ACTIVE (give up after 10 minutes)
//   -> new records route to the children by MD5(partition key)
//   -> the parent is CLOSED, still readable, ends with no next iterator
//   -> drain parent, then children: per-key order holds
//   -> retention passes: the parent is EXPIRED and gone from the listings.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::FindShard;
using testing::Midpoint;
using testing::OpenShards;
using testing::ReadShard;
using testing::ShardIds;
using testing::StoreFixture;

constexpr int kCustomers = 12;

struct Put {
  std::string key;
  int n;  // per-key counter, in put order
  SequenceNumber seq;
  std::string shard;
};

TEST_CASE("resharding scenario: split, wait, route, drain parent first, expire", "[stream][scenario][reshard][local-only]") {
  StoreOptions options;
  options.update_delay = absl::Minutes(3);
  StoreFixture f(options);
  const std::string stream = "orders";
  REQUIRE_OK(f->CreateStream(stream, 2));
  const std::string parent_id = "shardId-000000000000";
  const HashKeyRange parent_range = FindShard(*f, stream, parent_id)->hash_key_range;

  std::vector<Put> puts;
  std::map<std::string, int> counter;
  auto put_round = [&](const std::string& phase) {
    for (int c = 0; c < kCustomers; ++c) {
      std::string key = "customer-" + std::to_string(c);
      int n = counter[key]++;
      std::string data = phase + ":" + key + "#" + std::to_string(n);
      auto r = f->Put(stream, testing::Input(key, data));
      REQUIRE_OK(r);
      puts.push_back({key, n, r->sequence_number, r->shard_id.ToString()});
    }
    f.clock.Advance(absl::Seconds(1));
  };

  // 1. Records before the reshard.
  put_round("before");
  put_round("before");
  std::set<std::string> keys_in_parent;
  for (const auto& p : puts) {
    if (p.shard == parent_id) keys_in_parent.insert(p.key);
  }
  REQUIRE_FALSE(keys_in_parent.empty());

  // 2. Split. The stream is UPDATING; the parent stays OPEN and takes writes.
  const HashKey split_at = Midpoint(parent_range);
  REQUIRE_OK(f->SplitShard(stream, parent_id, split_at.ToString()));
  DescribeStreamRequest describe;
  describe.stream = stream;
  auto d = f->DescribeStream(describe);
  REQUIRE_OK(d);
  CHECK(d->stream_status == StreamStatus::kUpdating);
  CHECK(FindShard(*f, stream, parent_id)->state == ShardState::kOpen);
  put_round("updating");
  SequenceNumber last_parent_seq;
  for (const auto& p : puts) {
    if (p.shard == parent_id) last_parent_seq = std::max(last_parent_seq, p.seq);
  }

  // 3. Poll DescribeStream until ACTIVE, giving up after 10 minutes, as the
  //    document's sample does.
  absl::Time give_up = f.clock.Now() + absl::Minutes(10);
  bool active = false;
  int polls = 0;
  while (f.clock.Now() < give_up) {
    d = f->DescribeStream(describe);
    REQUIRE_OK(d);
    ++polls;
    if (d->stream_status == StreamStatus::kActive) {
      active = true;
      break;
    }
    CHECK(d->stream_status == StreamStatus::kUpdating);
    f.clock.Advance(absl::Seconds(10));
  }
  REQUIRE(active);
  CHECK(polls > 1);  // UPDATING was observed for a while

  // 4. The parent is CLOSED, ends at its last record, and has two children
  //    that exactly cover its range.
  auto parent = FindShard(*f, stream, parent_id);
  REQUIRE(parent.has_value());
  CHECK(parent->state == ShardState::kClosed);
  REQUIRE(parent->ending_sequence_number.has_value());
  CHECK(*parent->ending_sequence_number == last_parent_seq);
  std::vector<ShardDescription> children;
  for (const auto& s : AllShards(*f, stream)) {
    if (s.parent_shard_id == parent_id) children.push_back(s);
  }
  REQUIRE(children.size() == 2);
  std::sort(children.begin(), children.end(), [](const auto& a, const auto& b) {
    return a.hash_key_range.start < b.hash_key_range.start;
  });
  CHECK(children[0].hash_key_range == HashKeyRange{parent_range.start, HashKey(split_at.value() - 1)});
  CHECK(children[1].hash_key_range == HashKeyRange{split_at, parent_range.end});
  CHECK(testing::PartitionProblem(OpenShards(*f, stream)) == "");

  // 5. New records of the parent's keys go to the child holding MD5(key).
  size_t first_after = puts.size();
  put_round("after");
  put_round("after");
  for (size_t i = first_after; i < puts.size(); ++i) {
    const auto& p = puts[i];
    INFO("key " << p.key << " went to " << p.shard);
    CHECK(p.shard != parent_id);
    if (keys_in_parent.count(p.key)) {
      const auto& child = children[0].hash_key_range.Contains(HashKey::FromPartitionKey(p.key)) ? children[0]
                                                                                                : children[1];
      CHECK(p.shard == child.shard_id);
      CHECK(p.seq > *parent->ending_sequence_number);
    }
  }

  // 6. Reading a child before its parent is drained breaks per-key order:
  //    the child's records of a key come before the parent's older ones.
  {
    bool child_first_breaks_order = false;
    for (const auto& child : children) {
      auto child_read = ReadShard(*f, stream, child.shard_id);
      if (!child_read.records.empty()) {
        for (const auto& p : puts) {
          if (p.shard == parent_id && p.key == child_read.records.front().partition_key) {
            child_first_breaks_order = true;  // an older record of the key is still in the parent
          }
        }
      }
    }
    CHECK(child_first_breaks_order);
  }

  // 7. Drain the parent until there is no next iterator, then the children.
  std::vector<Record> in_order;
  auto parent_read = ReadShard(*f, stream, parent_id, /*limit=*/5);
  CHECK(parent_read.reached_end);
  CHECK(parent_read.records.size() ==
        static_cast<size_t>(std::count_if(puts.begin(), puts.end(), [&](const Put& p) { return p.shard == parent_id; })));
  std::set<std::string> announced;
  for (const auto& c : parent_read.child_shards) announced.insert(c.shard_id);
  CHECK(announced == ShardIds(children));
  in_order.insert(in_order.end(), parent_read.records.begin(), parent_read.records.end());
  for (const auto& child : children) {
    auto r = ReadShard(*f, stream, child.shard_id);
    CHECK_FALSE(r.reached_end);  // children are OPEN
    in_order.insert(in_order.end(), r.records.begin(), r.records.end());
  }
  auto other = ReadShard(*f, stream, "shardId-000000000001");
  in_order.insert(in_order.end(), other.records.begin(), other.records.end());
  CHECK(in_order.size() == puts.size());
  std::map<std::string, int> next;
  for (const auto& rec : in_order) {
    int n = std::stoi(rec.data.substr(rec.data.find('#') + 1));
    INFO("record " << rec.data);
    CHECK(n == next[rec.partition_key]);
    next[rec.partition_key] = n + 1;
  }

  // 8. Past retention the parent is EXPIRED: gone from ListShards and
  //    DescribeStream, and no longer readable.
  f.clock.Advance(absl::Hours(24) + absl::Minutes(1));
  auto listed = AllShards(*f, stream);
  CHECK(ShardIds(listed).count(parent_id) == 0);
  CHECK(ShardIds(listed) == std::set<std::string>{children[0].shard_id, children[1].shard_id,
                                                  "shardId-000000000001"});
  d = f->DescribeStream(describe);
  REQUIRE_OK(d);
  CHECK(ShardIds(d->shards).count(parent_id) == 0);
  GetShardIteratorRequest it;
  it.stream = stream;
  it.shard_id = parent_id;
  CHECK_ERROR(f->GetShardIterator(it), ErrorType::kResourceNotFound);
  // The children's records expired too, but the children stay open.
  for (const auto& child : children) {
    auto r = ReadShard(*f, stream, child.shard_id);
    CHECK(r.records.empty());
    CHECK(FindShard(*f, stream, child.shard_id)->state == ShardState::kOpen);
  }
}

}  // namespace
}  // namespace tributary
