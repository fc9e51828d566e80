// The ordered consumer, scenario by scenario (pull API, one thread, a
// ManualClock): lineage order, checkpoints, the KCL holes it closes, leases
// and handoffs, two-phase checkpoints, retention gaps and lag.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "consume/consumer_util.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using consume_test::DrainAll;
using consume_test::MakeConsumer;
using consume_test::PollUntilIdle;
using consume_test::Producer;
using consume_test::TestOptions;
using testing::DeliveryGuarantee;
using testing::OpenShards;
using testing::OrderingVerifier;
using testing::StoreFixture;

OrderingVerifier::Options ExactlyOnce() {
  OrderingVerifier::Options o;
  o.guarantee = DeliveryGuarantee::kExactlyOnce;
  return o;
}

std::string Split(Store& store, const std::string& stream, const ShardDescription& s) {
  REQUIRE_OK(store.SplitShard(stream, s.shard_id, s.hash_key_range.Midpoint()));
  return s.shard_id;
}

// Which shard each delivery came from, in delivery order.
struct DeliveryLog {
  std::vector<std::string> shards;
  void Add(const RecordBatch& b) { shards.push_back(b.shard_id); }
  // Index of the first / last batch from `shard` (-1 if none).
  int First(const std::string& shard) const {
    auto it = std::find(shards.begin(), shards.end(), shard);
    return it == shards.end() ? -1 : static_cast<int>(it - shards.begin());
  }
  int Last(const std::string& shard) const {
    auto it = std::find(shards.rbegin(), shards.rend(), shard);
    return it == shards.rend() ? -1 : static_cast<int>(shards.rend() - it) - 1;
  }
};

TEST_CASE("consumer drains a stream across a split and a merge, parents before children",
          "[consume][lineage]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  OrderingVerifier v(ExactlyOnce());
  Producer p(*f, "s", &v);
  std::mt19937_64 rng(7);
  p.PutMany(300, 20, rng);
  auto open = OpenShards(*f, "s");
  Split(*f, "s", open[0]);
  p.PutMany(300, 20, rng);
  open = OpenShards(*f, "s");  // [child a, child b, shard 1]
  REQUIRE(open.size() == 3);
  REQUIRE_OK(f->MergeShards("s", open[1].shard_id, open[2].shard_id));
  p.PutMany(300, 20, rng);

  ConsumerOptions o = TestOptions("s", "app", "w1");
  o.max_records_per_batch = 37;  // many batches per shard
  auto c = MakeConsumer(*f, o);
  DeliveryLog log;
  int64_t n = PollUntilIdle(*c, &v, [&](const RecordBatch& b) { log.Add(b); });
  CHECK(n == 900);
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());
  CHECK(report.distinct == 900);

  // Every child's first batch comes after each parent's last batch.
  for (const ShardDescription& s : testing::AllShards(*f, "s")) {
    for (const auto& parent : {s.parent_shard_id, s.adjacent_parent_shard_id}) {
      if (!parent || log.First(s.shard_id) < 0 || log.Last(*parent) < 0) continue;
      INFO(s.shard_id << " after its parent " << *parent);
      CHECK(log.First(s.shard_id) > log.Last(*parent));
    }
  }
  // Closed shards ended at SHARD_END; open ones hold their last record.
  auto table = LeaseTableFor(*f);
  REQUIRE_OK(table);
  auto leases = (*table)->ListLeases(c->scope());
  REQUIRE_OK(leases);
  for (const Lease& l : *leases) {
    auto d = testing::FindShard(*f, "s", l.shard_id);
    REQUIRE(d.has_value());
    INFO(l.shard_id << " " << l.checkpoint.ToString());
    CHECK(l.checkpoint.is_shard_end() == (d->state == ShardState::kClosed));
  }
}

TEST_CASE("consumer starts at LATEST and AT_TIMESTAMP", "[consume][position]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  Producer before(*f, "s");
  before.Put("old");
  f.clock.Advance(absl::Seconds(5));
  const absl::Time t = f.clock.Now();
  SECTION("LATEST: only records written after the consumer first started") {
    ConsumerOptions o = TestOptions("s", "latest", "w");
    o.initial_position = InitialPosition::Latest();
    auto c = MakeConsumer(*f, o);
    OrderingVerifier v(ExactlyOnce());
    Producer p(*f, "s", &v);
    p.Put("new-1");
    // A split between the start and the first read must not lose the
    // records written to the parent meanwhile.
    Split(*f, "s", OpenShards(*f, "s")[0]);
    p.Put("new-2");
    p.Put("new-3");
    CHECK(PollUntilIdle(*c, &v) == 3);
    CHECK(v.Check().ok());
  }
  SECTION("AT_TIMESTAMP") {
    Producer p(*f, "s");
    f.clock.Advance(absl::Seconds(1));
    OrderingVerifier v(ExactlyOnce());
    Producer q(*f, "s", &v);
    q.Put("a");
    q.Put("b");
    ConsumerOptions o = TestOptions("s", "at", "w");
    o.initial_position = InitialPosition::AtTimestamp(t + absl::Milliseconds(500));
    auto c = MakeConsumer(*f, o);
    CHECK(PollUntilIdle(*c, &v) == 2);
    CHECK(v.Check().ok());
  }
}

TEST_CASE("checkpoint beyond what was delivered is rejected", "[consume][checkpoint]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  Producer p(*f, "s");
  std::vector<SequenceNumber> seqs;
  for (int i = 0; i < 10; ++i) seqs.push_back(p.Put("k").sequence_number);
  ConsumerOptions o = TestOptions("s", "app", "w");
  o.max_records_per_batch = 4;
  auto c = MakeConsumer(*f, o);
  const std::string shard = FormatShardId(0);
  // Nothing delivered yet: no checkpoint at all.
  CHECK_ERROR(c->Checkpoint(shard, seqs[0]), ErrorType::kResourceInUse);  // not held yet
  auto b = c->Poll();
  REQUIRE_OK(b);
  REQUIRE(b->has_value());
  REQUIRE((*b)->records.size() == 4);
  CHECK_ERROR(c->Checkpoint(shard, seqs[4]), ErrorType::kInvalidArgument);
  CHECK_ERROR(c->Checkpoint(shard, seqs[9]), ErrorType::kInvalidArgument);
  CHECK_ERROR(c->PrepareCheckpoint(shard, seqs[5]), ErrorType::kInvalidArgument);
  CHECK_OK(c->Checkpoint(shard, seqs[2]));
  // Backwards is rejected too; the same position again is fine.
  CHECK_ERROR(c->Checkpoint(shard, seqs[1]), ErrorType::kInvalidArgument);
  CHECK_OK(c->Checkpoint(shard, seqs[2]));
  CHECK_OK(c->Checkpoint(**b));
  CHECK_ERROR(c->Checkpoint("shardId-000000000099", seqs[0]), ErrorType::kResourceInUse);
  CHECK_ERROR(c->CommitCheckpoint(shard), ErrorType::kInvalidArgument);  // nothing prepared
  auto held = c->held();
  REQUIRE(held.size() == 1);
  CHECK(held[0].checkpoint == CheckpointPosition::After(seqs[3]));
}

TEST_CASE("a restarted consumer resumes after its checkpoint (in-memory store)", "[consume][checkpoint]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  OrderingVerifier v;
  Producer p(*f, "s", &v);
  std::mt19937_64 rng(3);
  p.PutMany(200, 10, rng);
  std::set<std::string> first_run;
  {
    ConsumerOptions o = TestOptions("s", "app", "w1");
    o.max_records_per_batch = 25;
    auto c = MakeConsumer(*f, o);
    for (int i = 0; i < 4; ++i) {
      auto b = c->Poll();
      REQUIRE_OK(b);
      REQUIRE(b->has_value());
      v.Delivered(**b);
      for (const Record& r : (*b)->records) first_run.insert(r.data);
      REQUIRE_OK(c->Checkpoint(**b));
    }
    // Crash: no Shutdown. The leases stay with w1 until they expire.
  }
  f.clock.Advance(absl::Seconds(11));
  auto c2 = MakeConsumer(*f, TestOptions("s", "app", "w2"));
  std::set<std::string> second_run;
  PollUntilIdle(*c2, &v, [&](const RecordBatch& b) {
    for (const Record& r : b.records) second_run.insert(r.data);
  });
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());
  CHECK(report.duplicates == 0);  // everything delivered was checkpointed
  CHECK(first_run.size() + second_run.size() == 200);
}

// The KCL lets a child run when its parent has no lease or checkpoint yet
// (for example while shard sync has not created it, or after the parent's
// lease was lost). Here the child waits for the parent, whatever the table.
struct ParentAndChildren {
  StoreFixture f;
  OrderingVerifier v{ExactlyOnce()};
  std::string parent = FormatShardId(0);
  std::vector<ShardDescription> children;
  std::vector<SequenceNumber> parent_seqs;
  std::shared_ptr<LeaseTable> table{NewInMemoryLeaseTable()};
  LeaseScope scope{"app", "s"};

  ParentAndChildren() {
    REQUIRE_OK(f->CreateStream("s", 1));
    Producer p(*f, "s", &v);
    for (int i = 0; i < 20; ++i) parent_seqs.push_back(p.Put("k" + std::to_string(i % 4)).sequence_number);
    Split(*f, "s", OpenShards(*f, "s")[0]);
    for (int i = 0; i < 20; ++i) p.Put("k" + std::to_string(i % 4));
    children = OpenShards(*f, "s");
    REQUIRE(children.size() == 2);
    // A scope with no roots of its own and leases only for the children,
    // naming their parent: what a KCL table looks like before shard sync
    // has created the parent's lease.
    auto summary = f->DescribeStreamSummary("s");
    REQUIRE_OK(summary);
    ScopeRecord rec;
    rec.stream_arn = summary->stream_arn;
    rec.stream_creation_timestamp = summary->stream_creation_timestamp;
    rec.created_at = f.clock.Now();
    REQUIRE_OK(table->CreateScope(scope, rec));
    for (const auto& child : children) {
      Lease l;
      l.shard_id = child.shard_id;
      l.parent_shard_ids = {parent};
      REQUIRE_OK(table->CreateLease(scope, l));
    }
  }
  std::unique_ptr<Consumer> Worker(const std::string& id) {
    ConsumerOptions o = TestOptions("s", "app", id);
    o.lease_table = table;
    return MakeConsumer(*f, o);
  }
};

TEST_CASE("a child is blocked while its parent has no lease", "[consume][lineage][kcl]") {
  ParentAndChildren t;
  auto c = t.Worker("w");
  DeliveryLog log;
  PollUntilIdle(*c, &t.v, [&](const RecordBatch& b) { log.Add(b); });
  DrainAll(t.f.clock, {c.get()}, &t.v);
  auto report = t.v.Check();
  INFO(report.ToString());
  CHECK(report.ok());
  // The parent was found through the children's leases and read first.
  REQUIRE(log.Last(t.parent) >= 0);
  for (const auto& child : t.children) CHECK(log.First(child.shard_id) > log.Last(t.parent));
}

TEST_CASE("a child is blocked while its parent's checkpoint is short of SHARD_END",
          "[consume][lineage][kcl]") {
  ParentAndChildren t;
  // The parent is held by a worker that died after checkpointing 5 records.
  Lease l;
  l.shard_id = t.parent;
  l.owner = "ghost";
  l.expires_at = t.f.clock.Now() + absl::Seconds(10);
  l.checkpoint = CheckpointPosition::After(t.parent_seqs[4]);
  REQUIRE_OK(t.table->CreateLease(t.scope, l));
  auto c = t.Worker("w");
  // While the ghost's lease runs, nothing is delivered: not the children.
  for (int i = 0; i < 9; ++i) {
    CHECK(PollUntilIdle(*c) == 0);
    t.f.clock.Advance(absl::Seconds(1));
  }
  CHECK(c->held().empty());
  t.f.clock.Advance(absl::Seconds(2));
  DeliveryLog log;
  std::vector<Record> got;
  for (int round = 0; round < 20; ++round) {
    PollUntilIdle(*c, nullptr, [&](const RecordBatch& b) {
      log.Add(b);
      got.insert(got.end(), b.records.begin(), b.records.end());
    });
    t.f.clock.Advance(absl::Seconds(1));
  }
  // The parent resumed after the checkpoint; the children followed it.
  REQUIRE_FALSE(got.empty());
  CHECK(got.front().sequence_number == t.parent_seqs[5]);
  REQUIRE(log.Last(t.parent) >= 0);
  for (const auto& child : t.children) CHECK(log.First(child.shard_id) > log.Last(t.parent));
  CHECK(got.size() == 15 + 20);
}

TEST_CASE("an expired iterator resumes after the last delivered record", "[consume][iterator][kcl]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  OrderingVerifier v(ExactlyOnce());
  Producer p(*f, "s", &v);
  for (int i = 0; i < 30; ++i) p.Put("k");
  ConsumerOptions o = TestOptions("s", "app", "w");
  o.max_records_per_batch = 10;
  o.lease_duration = absl::Hours(1);  // keep the lease over the pause
  auto c = MakeConsumer(*f, o);
  auto b = c->Poll();
  REQUIRE_OK(b);
  REQUIRE(b->has_value());
  v.Delivered(**b);
  // The host takes longer than the iterator's five minutes.
  f.clock.Advance(limits::kIteratorLifetime + absl::Seconds(1));
  CHECK(PollUntilIdle(*c, &v) == 20);
  CHECK(c->stats().expired_iterators == 1);
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());  // exactly once: nothing re-read, nothing skipped
}

TEST_CASE("new child shards are picked up without a restart", "[consume][lineage]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  OrderingVerifier v(ExactlyOnce());
  Producer p(*f, "s", &v);
  auto c = MakeConsumer(*f, TestOptions("s", "app", "w"));
  for (int i = 0; i < 10; ++i) p.Put("k" + std::to_string(i));
  CHECK(PollUntilIdle(*c, &v) == 10);
  for (int gen = 0; gen < 3; ++gen) {
    for (const auto& s : OpenShards(*f, "s")) Split(*f, "s", s);
    for (int i = 0; i < 10; ++i) p.Put("k" + std::to_string(i));
    f.clock.Advance(absl::Seconds(1));  // the shards rest 1 s once caught up
    CHECK(PollUntilIdle(*c, &v) == 10);
  }
  CHECK(c->held().size() == 8);
  // Children came from GetRecords' ChildShards: the clock never reached the
  // 30 s shard-sync interval, and only the first Poll ran a sync.
  CHECK(c->stats().shard_syncs == 1);
  CHECK(v.Check().ok());
}

TEST_CASE("leases are shared between workers and taken over when a worker crashes", "[consume][lease]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 4));
  OrderingVerifier v;
  Producer p(*f, "s", &v);
  std::mt19937_64 rng(11);
  p.PutMany(400, 30, rng);
  auto a = MakeConsumer(*f, TestOptions("s", "app", "a"));
  auto b = MakeConsumer(*f, TestOptions("s", "app", "b"));
  PollUntilIdle(*a, &v);
  PollUntilIdle(*b, &v);
  f.clock.Advance(absl::Seconds(2));  // b's next take pass
  PollUntilIdle(*b, &v);
  f.clock.Advance(absl::Seconds(3));  // a renews, sees b's request, hands over
  PollUntilIdle(*a, &v);
  f.clock.Advance(absl::Seconds(2));
  PollUntilIdle(*b, &v);
  CHECK(a->held().size() == 2);
  CHECK(b->held().size() == 2);
  CHECK(a->stats().handoffs_given == 2);
  CHECK(b->stats().handoffs_received == 2);

  // a crashes: it stops polling. After its leases expire b takes them all.
  p.PutMany(200, 30, rng);
  for (int i = 0; i < 12; ++i) {
    f.clock.Advance(absl::Seconds(1));
    PollUntilIdle(*b, &v);
  }
  CHECK(b->held().size() == 4);
  CHECK(b->stats().leases_taken == 2);
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());
}

TEST_CASE("a graceful rebalance processes nothing twice", "[consume][lease][handoff]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 6));
  OrderingVerifier v(ExactlyOnce());
  Producer p(*f, "s", &v);
  std::mt19937_64 rng(5);
  ConsumerOptions oa = TestOptions("s", "app", "a");
  oa.max_records_per_batch = 7;
  auto a = MakeConsumer(*f, oa);
  std::vector<std::unique_ptr<Consumer>> joiners;
  // While records keep coming, two more workers join; a hands leases over
  // between batches without ever checkpointing explicitly.
  for (int round = 0; round < 60; ++round) {
    p.PutMany(30, 40, rng);
    if (round == 10) joiners.push_back(MakeConsumer(*f, TestOptions("s", "app", "b")));
    if (round == 25) joiners.push_back(MakeConsumer(*f, TestOptions("s", "app", "c")));
    // One batch per worker per round: handovers happen mid-stream.
    for (Consumer* c : std::vector<Consumer*>{a.get()}) {
      auto got = c->Poll();
      REQUIRE_OK(got);
      if (got->has_value()) v.Delivered(**got);
    }
    for (auto& j : joiners) {
      auto got = j->Poll();
      REQUIRE_OK(got);
      if (got->has_value()) v.Delivered(**got);
    }
    f.clock.Advance(absl::Seconds(1));
  }
  std::vector<Consumer*> all{a.get()};
  for (auto& j : joiners) all.push_back(j.get());
  DrainAll(f.clock, all, &v);
  CHECK(a->held().size() == 2);
  CHECK(a->stats().handoffs_given == 4);
  CHECK(a->stats().leases_lost == 0);
  auto report = v.Check();
  INFO(report.ToString());
  CHECK(report.ok());  // exactly once
}

TEST_CASE("a prepared checkpoint is visible to the next holder of the lease", "[consume][checkpoint][2pc]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  Producer p(*f, "s");
  std::vector<SequenceNumber> seqs;
  for (int i = 0; i < 10; ++i) seqs.push_back(p.Put("k").sequence_number);
  const std::string shard = FormatShardId(0);
  ConsumerOptions oa = TestOptions("s", "app", "a");
  oa.max_records_per_batch = 6;
  auto a = MakeConsumer(*f, oa);
  auto b1 = a->Poll();
  REQUIRE_OK(b1);
  REQUIRE(b1->has_value());
  CHECK_FALSE((*b1)->pending_checkpoint.has_value());
  REQUIRE_OK(a->Checkpoint(shard, seqs[2]));
  // Phase one: a records that it is about to act on records up to seqs[5].
  REQUIRE_OK(a->PrepareCheckpoint(shard, seqs[5], "txn-17"));
  auto held = a->held();
  REQUIRE(held.size() == 1);
  REQUIRE(held[0].pending_checkpoint.has_value());
  // ... and dies before committing.
  f.clock.Advance(absl::Seconds(11));
  auto b = MakeConsumer(*f, TestOptions("s", "app", "b"));
  auto got = b->Poll();
  REQUIRE_OK(got);
  REQUIRE(got->has_value());
  // b resumes after the committed checkpoint and sees a's intent.
  CHECK((*got)->records.front().sequence_number == seqs[3]);
  REQUIRE((*got)->pending_checkpoint.has_value());
  CHECK((*got)->pending_checkpoint->sequence_number == seqs[5]);
  CHECK((*got)->pending_checkpoint->state == "txn-17");
  // b settles it and commits.
  REQUIRE_OK(b->PrepareCheckpoint(shard, seqs[5], "txn-17"));
  REQUIRE_OK(b->CommitCheckpoint(shard));
  held = b->held();
  REQUIRE(held.size() == 1);
  CHECK(held[0].checkpoint == CheckpointPosition::After(seqs[5]));
  CHECK_FALSE(held[0].pending_checkpoint.has_value());
}

TEST_CASE("a parent that expires before it is drained is reported as a gap, and reading goes on",
          "[consume][retention][gap]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  Producer p(*f, "s");
  for (int i = 0; i < 50; ++i) p.Put("k" + std::to_string(i % 5));
  const std::string parent = FormatShardId(0);
  std::vector<GapReport> gaps;
  ConsumerOptions o = TestOptions("s", "app", "w");
  o.max_records_per_batch = 10;
  o.on_gap = [&](const GapReport& g) { gaps.push_back(g); };
  auto c = MakeConsumer(*f, o);
  auto b = c->Poll();
  REQUIRE_OK(b);
  REQUIRE(b->has_value());
  CHECK((*b)->records.size() == 10);
  // The parent is split; the consumer sees it closed at its next sync.
  Split(*f, "s", OpenShards(*f, "s")[0]);
  f.clock.Advance(absl::Seconds(31));
  b = c->Poll();
  REQUIRE_OK(b);
  REQUIRE(b->has_value());
  CHECK((*b)->shard_id == parent);
  // Then the consumer stalls for longer than the retention period.
  f.clock.Advance(absl::Hours(25));
  OrderingVerifier v(ExactlyOnce());
  Producer q(*f, "s", &v);
  for (int i = 0; i < 20; ++i) q.Put("k" + std::to_string(i % 5));
  CHECK(PollUntilIdle(*c, &v) == 20);
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].shard_id == parent);
  REQUIRE(gaps[0].records_lost.has_value());
  CHECK(*gaps[0].records_lost == 30);
  CHECK(c->stats().gaps == 1);
  CHECK(c->stats().records_lost == 30);
  CHECK(v.Check().ok());
}

TEST_CASE("records that expire inside a shard before they are read are reported as a gap",
          "[consume][retention][gap]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  Producer p(*f, "s");
  for (int i = 0; i < 10; ++i) p.Put("old");
  f.clock.Advance(absl::Hours(2));
  for (int i = 0; i < 5; ++i) p.Put("new");
  std::vector<GapReport> gaps;
  ConsumerOptions o = TestOptions("s", "app", "w");
  o.max_records_per_batch = 4;
  o.lease_duration = absl::Hours(48);
  o.on_gap = [&](const GapReport& g) { gaps.push_back(g); };
  auto c = MakeConsumer(*f, o);
  auto b = c->Poll();
  REQUIRE_OK(b);
  REQUIRE(b->has_value());
  // 4 of the 10 old records read; the other 6 expire before the next read.
  f.clock.Advance(absl::Hours(23));
  int64_t n = PollUntilIdle(*c);
  CHECK(n == 5);
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].records_lost == 6u);
  CHECK(gaps[0].after == (*b)->records.back().sequence_number);
  CHECK(gaps[0].resumed_at.has_value());
}

TEST_CASE("lag per shard and in total", "[consume][lag]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 2));
  Producer p(*f, "s");
  std::mt19937_64 rng(9);
  p.PutMany(100, 16, rng);
  f.clock.Advance(absl::Seconds(4));
  ConsumerOptions o = TestOptions("s", "app", "w");
  o.max_records_per_batch = 10;
  auto c = MakeConsumer(*f, o);
  CHECK(c->lag().shards.empty());
  // One batch from each shard.
  for (int i = 0; i < 2; ++i) {
    auto b = c->Poll();
    REQUIRE_OK(b);
    REQUIRE(b->has_value());
  }
  ConsumerLag lag = c->lag();
  REQUIRE(lag.shards.size() == 2);
  CHECK(lag.records_behind_known);
  CHECK(lag.records_behind == 100 - 20);
  int64_t sum = 0;
  for (const ShardLag& s : lag.shards) {
    REQUIRE(s.records_behind.has_value());
    sum += *s.records_behind;
    CHECK(s.millis_behind_latest >= 4000);
  }
  CHECK(sum == 80);
  CHECK(lag.millis_behind_latest >= 4000);
  PollUntilIdle(*c);
  lag = c->lag();
  CHECK(lag.records_behind == 0);
  CHECK(lag.millis_behind_latest == 0);
}

TEST_CASE("Shutdown hands every lease back at once", "[consume][lease]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 3));
  OrderingVerifier v(ExactlyOnce());
  Producer p(*f, "s", &v);
  std::mt19937_64 rng(1);
  p.PutMany(90, 9, rng);
  auto a = MakeConsumer(*f, TestOptions("s", "app", "a"));
  PollUntilIdle(*a, &v);
  REQUIRE(a->held().size() == 3);
  REQUIRE_OK(a->Shutdown());
  CHECK(a->held().empty());
  p.PutMany(90, 9, rng);
  // No clock movement: b takes the released leases immediately, after a's
  // last delivered records (Shutdown checkpointed them).
  auto b = MakeConsumer(*f, TestOptions("s", "app", "b"));
  CHECK(PollUntilIdle(*b, &v) == 90);
  CHECK(b->held().size() == 3);
  CHECK(v.Check().ok());
}

TEST_CASE("consumer options are validated", "[consume][validation]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  ConsumerOptions o = TestOptions("s", "app", "w");
  o.consumer_name.clear();
  CHECK_ERROR(Consumer::Create(*f, o), ErrorType::kInvalidArgument);
  o = TestOptions("", "app", "w");
  CHECK_ERROR(Consumer::Create(*f, o), ErrorType::kInvalidArgument);
  o = TestOptions("s", "app", "w");
  o.max_records_per_batch = 10001;
  CHECK_ERROR(Consumer::Create(*f, o), ErrorType::kInvalidArgument);
  o = TestOptions("nope", "app", "w");
  CHECK_ERROR(Consumer::Create(*f, o), ErrorType::kResourceNotFound);
}

TEST_CASE("checkpoints of a deleted stream do not apply to a new stream of the same name",
          "[consume][checkpoint]") {
  StoreFixture f;
  REQUIRE_OK(f->CreateStream("s", 1));
  auto c = MakeConsumer(*f, TestOptions("s", "app", "w"));
  c.reset();
  REQUIRE_OK(f->DeleteStream("s"));
  f.clock.Advance(absl::Seconds(1));
  REQUIRE_OK(f->CreateStream("s", 1));
  CHECK_ERROR(Consumer::Create(*f, TestOptions("s", "app", "w")), ErrorType::kInvalidArgument);
}

}  // namespace
}  // namespace tributary
