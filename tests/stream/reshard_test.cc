// SplitShard and MergeShards: child ranges, lineage, closing sequence numbers,
// routing after a reshard, and every error path.
#include <catch2/catch.hpp>

#include <algorithm>
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
using testing::InputWithHash;
using testing::KeyIn;
using testing::Midpoint;
using testing::OpenShards;
using testing::PartitionProblem;
using testing::PutOk;
using testing::ReadShard;
using testing::ShardIds;
using testing::StatusOf;
using testing::StoreFixture;

const std::string kShard0 = "shardId-000000000000";
const std::string kShard1 = "shardId-000000000001";
const std::string kShard2 = "shardId-000000000002";

HashKey Plus(HashKey k, int64_t d) {
  return d >= 0 ? HashKey(k.value() + static_cast<uint64_t>(d)) : HashKey(k.value() - static_cast<uint64_t>(-d));
}

bool SameShards(const std::vector<ShardDescription>& a, const std::vector<ShardDescription>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shard_id != b[i].shard_id || a[i].hash_key_range != b[i].hash_key_range ||
        a[i].state != b[i].state || a[i].ending_sequence_number != b[i].ending_sequence_number) {
      return false;
    }
  }
  return true;
}

TEST_CASE("a split gives the children [start, k-1] and [k, end] and closes the parent",
          "[stream][reshard][split]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  std::vector<PutRecordResult> puts;
  for (int i = 0; i < 10; ++i) puts.push_back(PutOk(*f, "s", "key-" + std::to_string(i), std::to_string(i)));

  HashKey k = Midpoint(HashKeyRange::All());
  REQUIRE_OK(f->SplitShard("s", kShard0, k.ToString()));
  CHECK(StatusOf(*f, "s") == StreamStatus::kActive);

  auto shards = AllShards(*f, "s");
  REQUIRE(shards.size() == 3);
  auto parent = FindShard(*f, "s", kShard0);
  REQUIRE(parent.has_value());
  CHECK(parent->state == ShardState::kClosed);
  CHECK(parent->hash_key_range == HashKeyRange::All());
  REQUIRE(parent->ending_sequence_number.has_value());
  CHECK(*parent->ending_sequence_number == puts.back().sequence_number);

  auto open = OpenShards(*f, "s");
  REQUIRE(open.size() == 2);
  CHECK(open[0].hash_key_range == HashKeyRange{HashKey::Min(), HashKey(k.value() - 1)});
  CHECK(open[1].hash_key_range == HashKeyRange{k, HashKey::Max()});
  for (const auto& child : open) {
    INFO("child " << child.shard_id);
    REQUIRE(child.parent_shard_id.has_value());
    CHECK(*child.parent_shard_id == kShard0);
    CHECK_FALSE(child.adjacent_parent_shard_id.has_value());
    CHECK(child.starting_sequence_number > *parent->ending_sequence_number);
    CHECK_FALSE(child.ending_sequence_number.has_value());
    // New shard ids are new indexes, never reused.
    CHECK(child.shard_id != kShard0);
  }
  CHECK(ShardIds(open) == std::set<std::string>{kShard1, kShard2});
}

TEST_CASE("after a split records route to the child that holds their key", "[stream][reshard][split][routing]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  auto before = PutOk(*f, "s", "k", "before");
  HashKey k = Midpoint(HashKeyRange::All());
  REQUIRE_OK(f->SplitShard("s", kShard0, k.ToString()));
  auto open = OpenShards(*f, "s");
  REQUIRE(open.size() == 2);
  for (const auto& child : open) {
    std::string key = KeyIn(child.hash_key_range);
    auto r = PutOk(*f, "s", key, "after");
    CHECK(r.shard_id == child.shard_id);
    CHECK(r.sequence_number > before.sequence_number);
    auto read = ReadShard(*f, "s", child.shard_id);
    REQUIRE(read.records.size() == 1);
    CHECK(read.records[0].partition_key == key);
  }
  // Explicit hash keys at the split point.
  auto lo = f->Put("s", InputWithHash("x", HashKey(k.value() - 1).ToString()));
  REQUIRE_OK(lo);
  CHECK(lo->shard_id == open[0].shard_id);
  auto hi = f->Put("s", InputWithHash("x", k.ToString()));
  REQUIRE_OK(hi);
  CHECK(hi->shard_id == open[1].shard_id);
  // The parent kept its record and took no new ones.
  auto parent = ReadShard(*f, "s", kShard0);
  CHECK(testing::DataOf(parent.records) == std::vector<std::string>{"before"});
}

TEST_CASE("reading a closed parent to its end yields no next iterator and the children",
          "[stream][reshard][split]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  for (int i = 0; i < 5; ++i) PutOk(*f, "s", "k" + std::to_string(i));
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  auto open = OpenShards(*f, "s");

  auto read = ReadShard(*f, "s", kShard0, /*limit=*/2);
  CHECK(read.records.size() == 5);
  CHECK(read.reached_end);
  REQUIRE(read.child_shards.size() == 2);
  std::set<std::string> child_ids;
  for (const auto& c : read.child_shards) {
    child_ids.insert(c.shard_id);
    CHECK(c.parent_shards == std::vector<std::string>{kShard0});
    auto d = FindShard(*f, "s", c.shard_id);
    REQUIRE(d.has_value());
    CHECK(c.hash_key_range == d->hash_key_range);
  }
  CHECK(child_ids == ShardIds(open));

  // An iterator taken at the end of the closed parent also ends immediately.
  auto parent = FindShard(*f, "s", kShard0);
  std::string it = testing::Iterator(*f, "s", kShard0, ShardIteratorType::kAfterSequenceNumber,
                                     parent->ending_sequence_number->ToString());
  auto r = f->GetRecords(it);
  REQUIRE_OK(r);
  CHECK(r->records.empty());
  CHECK_FALSE(r->next_shard_iterator.has_value());
  CHECK(r->child_shards.size() == 2);
  // So does LATEST on a closed shard.
  auto latest = f->GetRecords(testing::Iterator(*f, "s", kShard0, ShardIteratorType::kLatest));
  REQUIRE_OK(latest);
  CHECK(latest->records.empty());
  CHECK_FALSE(latest->next_shard_iterator.has_value());
}

TEST_CASE("an iterator taken while the shard was open reads on to the end after it closes",
          "[stream][reshard][iterator]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  std::string it = testing::Iterator(*f, "s", kShard0);
  PutOk(*f, "s", "k", "a");
  PutOk(*f, "s", "k", "b");
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  auto read = testing::ReadFrom(*f, it, 1);
  CHECK(testing::DataOf(read.records) == std::vector<std::string>{"a", "b"});
  CHECK(read.reached_end);
  CHECK(read.child_shards.size() == 2);
  // A LATEST iterator taken before the split ends too, without records.
  StoreFixture g;
  REQUIRE_OK(g->CreateStream("s", 1));
  std::string latest = testing::Iterator(*g, "s", kShard0, ShardIteratorType::kLatest);
  REQUIRE_OK(g->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  auto r = testing::ReadFrom(*g, latest);
  CHECK(r.records.empty());
  CHECK(r.reached_end);
}

TEST_CASE("AT_TIMESTAMP after a shard closed reads nothing and ends with the children",
          "[stream][reshard][iterator][local-only]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  PutOk(*f, "s", "k", "a");
  f.clock.Advance(absl::Minutes(1));
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  f.clock.Advance(absl::Minutes(1));
  auto read = testing::ReadFrom(*f, testing::Iterator(*f, "s", kShard0, ShardIteratorType::kAtTimestamp,
                                                      std::nullopt, f.clock.Now()));
  CHECK(read.records.empty());
  CHECK(read.reached_end);
  CHECK(read.child_shards.size() == 2);
}

TEST_CASE("a shard's starting sequence number is a valid AT_SEQUENCE_NUMBER position",
          "[stream][reshard][iterator]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  for (const auto& child : OpenShards(*f, "s")) {
    std::string key = KeyIn(child.hash_key_range);
    PutOk(*f, "s", key, "x");
    auto read = testing::ReadFrom(*f, testing::Iterator(*f, "s", child.shard_id, ShardIteratorType::kAtSequenceNumber,
                                                        child.starting_sequence_number.ToString()));
    CHECK(testing::DataOf(read.records) == std::vector<std::string>{"x"});
  }
}

TEST_CASE("sequence numbers a shard advertises are valid iterator positions even when it is empty",
          "[stream][reshard][iterator]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  // The empty, closed parent: its starting and ending sequence numbers.
  auto parent = FindShard(*f, "s", kShard0);
  REQUIRE(parent.has_value());
  REQUIRE(parent->ending_sequence_number.has_value());
  for (auto type : {ShardIteratorType::kAtSequenceNumber, ShardIteratorType::kAfterSequenceNumber}) {
    for (SequenceNumber seq : {parent->starting_sequence_number, *parent->ending_sequence_number}) {
      INFO(ToString(type) << " " << seq);
      GetShardIteratorRequest req;
      req.stream = "s";
      req.shard_id = kShard0;
      req.type = type;
      req.starting_sequence_number = seq.ToString();
      auto it = f->GetShardIterator(req);
      CHECK_OK(it);
      if (!it.ok()) continue;
      auto read = testing::ReadFrom(*f, *it);
      CHECK(read.records.empty());
      CHECK(read.reached_end);
      CHECK(read.child_shards.size() == 2);
    }
  }
  // An empty open child: AT its starting sequence number, then a record arrives.
  auto child = OpenShards(*f, "s")[0];
  GetShardIteratorRequest req;
  req.stream = "s";
  req.shard_id = child.shard_id;
  req.type = ShardIteratorType::kAtSequenceNumber;
  req.starting_sequence_number = child.starting_sequence_number.ToString();
  auto it = f->GetShardIterator(req);
  CHECK_OK(it);
  PutOk(*f, "s", KeyIn(child.hash_key_range), "first");
  if (!it.ok()) return;
  CHECK(testing::DataOf(testing::ReadFrom(*f, *it).records) == std::vector<std::string>{"first"});
}

TEST_CASE("an empty parent closes at its starting sequence number", "[stream][reshard][split]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));
  auto parent = FindShard(*f, "s", kShard0);
  REQUIRE(parent.has_value());
  CHECK(parent->state == ShardState::kClosed);
  REQUIRE(parent->ending_sequence_number.has_value());
  CHECK(*parent->ending_sequence_number == parent->starting_sequence_number);
  for (const auto& child : OpenShards(*f, "s")) {
    CHECK(child.starting_sequence_number > *parent->ending_sequence_number);
  }
  auto read = ReadShard(*f, "s", kShard0);
  CHECK(read.records.empty());
  CHECK(read.reached_end);
  CHECK(read.child_shards.size() == 2);
}

TEST_CASE("children's sequence numbers exceed all of their parents'", "[stream][reshard][sequence]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  // Make shard 1's counter run far ahead of shard 0's, then merge them: the
  // child must start above both parents.
  for (int i = 0; i < 100; ++i) REQUIRE_OK(f->Put("s", InputWithHash("k", "340282366920938463463374607431768211455")));
  auto low = f->Put("s", InputWithHash("k", "0"));
  REQUIRE_OK(low);
  REQUIRE_OK(f->MergeShards("s", kShard0, kShard1));
  auto p0 = FindShard(*f, "s", kShard0);
  auto p1 = FindShard(*f, "s", kShard1);
  auto open = OpenShards(*f, "s");
  REQUIRE(open.size() == 1);
  SequenceNumber top = std::max(*p0->ending_sequence_number, *p1->ending_sequence_number);
  CHECK(open[0].starting_sequence_number > top);
  auto r = PutOk(*f, "s", "k");
  CHECK(r.sequence_number > top);
}

TEST_CASE("split points strictly inside the range are accepted", "[stream][reshard][split]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  auto shards = OpenShards(*f, "s");
  const HashKeyRange r = shards[1].hash_key_range;
  auto offset = GENERATE(as<std::string>{}, "start+2", "mid", "end-1");
  HashKey k = offset == "start+2" ? Plus(r.start, 2) : offset == "end-1" ? Plus(r.end, -1) : Midpoint(r);
  INFO("split at " << offset << " = " << k);
  REQUIRE_OK(f->SplitShard("s", shards[1].shard_id, k.ToString()));
  auto open = OpenShards(*f, "s");
  REQUIRE(open.size() == 4);
  CHECK(PartitionProblem(open) == "");
  CHECK(open[1].hash_key_range == HashKeyRange{r.start, Plus(k, -1)});
  CHECK(open[2].hash_key_range == HashKeyRange{k, r.end});
}

TEST_CASE("split points at or outside the range edges are InvalidArgument", "[stream][reshard][split][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  auto before = AllShards(*f, "s");
  const HashKeyRange r = before[1].hash_key_range;
  auto where = GENERATE(as<std::string>{}, "start", "start+1", "end", "end+1", "start-1", "zero", "max");
  HashKey k = where == "start"     ? r.start
              : where == "start+1" ? Plus(r.start, 1)
              : where == "end"     ? r.end
              : where == "end+1"   ? Plus(r.end, 1)
              : where == "start-1" ? Plus(r.start, -1)
              : where == "zero"    ? HashKey::Min()
                                   : HashKey::Max();
  INFO("split at " << where << " = " << k);
  CHECK_ERROR(f->SplitShard("s", before[1].shard_id, k.ToString()), ErrorType::kInvalidArgument);
  CHECK(SameShards(AllShards(*f, "s"), before));
  CHECK(StatusOf(*f, "s") == StreamStatus::kActive);
}

TEST_CASE("splitting a shard too narrow to split is InvalidArgument", "[stream][reshard][split][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  // Carve out [0, 3], then split it at 2: the narrowest split there is.
  REQUIRE_OK(f->SplitShard("s", kShard0, "4"));
  auto open = OpenShards(*f, "s");
  REQUIRE(open[0].hash_key_range == HashKeyRange{HashKey(0), HashKey(3)});
  REQUIRE_OK(f->SplitShard("s", open[0].shard_id, "2"));
  auto tiny = OpenShards(*f, "s");
  REQUIRE(tiny.size() == 3);
  CHECK(tiny[0].hash_key_range == HashKeyRange{HashKey(0), HashKey(1)});
  CHECK(tiny[1].hash_key_range == HashKeyRange{HashKey(2), HashKey(3)});
  CHECK(PartitionProblem(tiny) == "");
  // [0, 1] and [2, 3] have no k with start + 1 < k < end.
  for (const char* k : {"0", "1", "2"}) {
    CHECK_ERROR(f->SplitShard("s", tiny[0].shard_id, k), ErrorType::kInvalidArgument);
  }
  for (const char* k : {"2", "3", "4"}) {
    CHECK_ERROR(f->SplitShard("s", tiny[1].shard_id, k), ErrorType::kInvalidArgument);
  }
  // Records still route to two-key shards.
  auto r = f->Put("s", InputWithHash("k", "3"));
  REQUIRE_OK(r);
  CHECK(r->shard_id == tiny[1].shard_id);
  r = f->Put("s", InputWithHash("k", "4"));
  REQUIRE_OK(r);
  CHECK(r->shard_id == tiny[2].shard_id);
}

TEST_CASE("a malformed split key is rejected", "[stream][reshard][split][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(f->SplitShard("s", kShard0, ""), ErrorType::kValidation);
  CHECK_ERROR(f->SplitShard("s", kShard0, "12abc"), ErrorType::kValidation);
  CHECK_ERROR(f->SplitShard("s", kShard0, "-5"), ErrorType::kValidation);
  CHECK_ERROR_IN(f->SplitShard("s", kShard0, "340282366920938463463374607431768211456"),
                 {ErrorType::kInvalidArgument, ErrorType::kValidation});
  CHECK(AllShards(*f, "s").size() == 1);
}

TEST_CASE("split and merge of unknown shards are ResourceNotFound", "[stream][reshard][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  CHECK_ERROR(f->SplitShard("s", "shardId-000000000005", "1000"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->MergeShards("s", kShard0, "shardId-000000000005"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->MergeShards("s", "shardId-000000000005", kShard0), ErrorType::kResourceNotFound);
  // Malformed ids are looked up like unknown ones (types.h); Kinesis reads
  // "shard-7" as shardId-000000000007.
  CHECK_ERROR(f->SplitShard("s", "bogus", "1000"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->MergeShards("s", kShard0, "shard-7"), ErrorType::kResourceNotFound);
  CHECK_ERROR(f->MergeShards("s", kShard0, "2.14E4"), ErrorType::kResourceNotFound);
  CHECK(AllShards(*f, "s").size() == 2);
}

TEST_CASE("split and merge of closed shards are ResourceInUse", "[stream][reshard][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  auto shards = AllShards(*f, "s");
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(shards[0].hash_key_range).ToString()));
  auto before = AllShards(*f, "s");
  CHECK_ERROR(f->SplitShard("s", kShard0, Midpoint(shards[0].hash_key_range).ToString()),
              ErrorType::kResourceInUse);
  auto open = OpenShards(*f, "s");  // [child a, child b, shard 1]
  REQUIRE(open.size() == 3);
  CHECK_ERROR(f->MergeShards("s", kShard0, kShard1), ErrorType::kResourceInUse);
  CHECK_ERROR(f->MergeShards("s", kShard1, kShard0), ErrorType::kResourceInUse);
  CHECK(SameShards(AllShards(*f, "s"), before));
}

TEST_CASE("a merge makes one child covering both adjacent parents", "[stream][reshard][merge]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  auto shards = AllShards(*f, "s");
  PutOk(*f, "s", KeyIn(shards[0].hash_key_range), "p0");
  PutOk(*f, "s", KeyIn(shards[1].hash_key_range), "p1");
  // Observed Kinesis behaviour: the adjacent shard is the one after the
  // shard to merge; the other order is not an adjacent pair.
  CHECK_ERROR(f->MergeShards("s", kShard1, kShard0), ErrorType::kInvalidArgument);
  std::string first = kShard0;
  std::string second = kShard1;
  REQUIRE_OK(f->MergeShards("s", first, second));

  auto open = OpenShards(*f, "s");
  REQUIRE(open.size() == 2);
  CHECK(PartitionProblem(open) == "");
  const auto& child = open[0];
  CHECK(child.hash_key_range == HashKeyRange{shards[0].hash_key_range.start, shards[1].hash_key_range.end});
  REQUIRE(child.parent_shard_id.has_value());
  REQUIRE(child.adjacent_parent_shard_id.has_value());
  CHECK(*child.parent_shard_id == first);
  CHECK(*child.adjacent_parent_shard_id == second);
  CHECK(child.shard_id == "shardId-000000000003");
  CHECK(open[1].shard_id == kShard2);

  for (const std::string& p : {kShard0, kShard1}) {
    auto d = FindShard(*f, "s", p);
    REQUIRE(d.has_value());
    CHECK(d->state == ShardState::kClosed);
    REQUIRE(d->ending_sequence_number.has_value());
    CHECK(child.starting_sequence_number > *d->ending_sequence_number);
    auto read = ReadShard(*f, "s", p);
    CHECK(read.records.size() == 1);
    CHECK(read.reached_end);
    REQUIRE(read.child_shards.size() == 1);
    CHECK(read.child_shards[0].shard_id == child.shard_id);
    CHECK(read.child_shards[0].hash_key_range == child.hash_key_range);
    auto parents = read.child_shards[0].parent_shards;
    std::sort(parents.begin(), parents.end());
    CHECK(parents == std::vector<std::string>{kShard0, kShard1});
  }
  // New records of both old ranges go to the child.
  CHECK(PutOk(*f, "s", KeyIn(shards[0].hash_key_range)).shard_id == child.shard_id);
  CHECK(PutOk(*f, "s", KeyIn(shards[1].hash_key_range)).shard_id == child.shard_id);
}

TEST_CASE("merging shards that are not adjacent is InvalidArgument", "[stream][reshard][merge][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  auto before = AllShards(*f, "s");
  CHECK_ERROR(f->MergeShards("s", kShard0, kShard2), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->MergeShards("s", kShard2, kShard0), ErrorType::kInvalidArgument);
  CHECK_ERROR(f->MergeShards("s", kShard1, kShard1), ErrorType::kInvalidArgument);
  CHECK(SameShards(AllShards(*f, "s"), before));
  CHECK(StatusOf(*f, "s") == StreamStatus::kActive);
}

TEST_CASE("a split past the shard limit is LimitExceeded", "[stream][reshard][limits]") {
  StoreOptions o;
  o.shard_limit = 3;
  StoreFixture f(o);
  REQUIRE_OK(f->CreateStream("s", 3));
  auto before = AllShards(*f, "s");
  CHECK_ERROR(f->SplitShard("s", kShard0, Midpoint(before[0].hash_key_range).ToString()),
              ErrorType::kLimitExceeded);
  CHECK(SameShards(AllShards(*f, "s"), before));
  // A merge frees a shard, after which a split fits again.
  REQUIRE_OK(f->MergeShards("s", kShard1, kShard2));
  CHECK_OK(f->SplitShard("s", kShard0, Midpoint(before[0].hash_key_range).ToString()));
}

TEST_CASE("shard lineage survives a chain of reshards", "[stream][reshard]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  REQUIRE_OK(f->SplitShard("s", kShard0, Midpoint(HashKeyRange::All()).ToString()));  // -> 1, 2
  auto open = OpenShards(*f, "s");
  REQUIRE_OK(f->SplitShard("s", open[1].shard_id, Midpoint(open[1].hash_key_range).ToString()));  // -> 3, 4
  open = OpenShards(*f, "s");
  REQUIRE(open.size() == 3);
  REQUIRE_OK(f->MergeShards("s", open[0].shard_id, open[1].shard_id));  // -> 5
  open = OpenShards(*f, "s");
  REQUIRE(open.size() == 2);
  CHECK(PartitionProblem(open) == "");
  auto all = AllShards(*f, "s");
  CHECK(all.size() == 6);
  // Ids are assigned in creation order and listed in id order.
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].shard_id == FormatShardId(static_cast<uint32_t>(i)));
  // Every child starts above each parent's end.
  for (const auto& s : all) {
    for (const auto& parent_id : {s.parent_shard_id, s.adjacent_parent_shard_id}) {
      if (!parent_id) continue;
      auto p = FindShard(*f, "s", *parent_id);
      REQUIRE(p.has_value());
      REQUIRE(p->ending_sequence_number.has_value());
      CHECK(s.starting_sequence_number > *p->ending_sequence_number);
    }
  }
}

}  // namespace
}  // namespace tributary
