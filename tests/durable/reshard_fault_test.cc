// Fault injection combined with resharding (issue 7): Env failures
// (failed writes, syncs, opens, renames, directory syncs; ENOSPC) and power
// loss (FaultEnv::DropUnsyncedData) while SplitShard, MergeShards and
// UpdateShardCount run, alone and concurrently with writers. After every
// fault the store reopens, every record acknowledged with Sync::kYes is
// there exactly once with its data, and the shard lineage is consistent
// (CheckLineage below says what that means).
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "durable/durable_util.h"
#include "log/disk_log.h"

namespace tributary::durable_test {
namespace {

using Op = FaultEnv::Op;
using testing::Input;
using testing::Midpoint;
using testing::OpenShards;
using testing::PartitionProblem;

struct Acked {
  std::string shard_id;
  SequenceNumber seq;
  std::string key;
  std::string data;
};

// The lineage of a stream is consistent when:
//  - shard ids are unique, and every parent named is listed;
//  - the OPEN shards partition the hash-key space;
//  - a shard is CLOSED iff it has children, and its children cover exactly
//    its range: two split children [start, k-1] and [k, end] of one parent,
//    or one merge child whose range is the union of its two adjacent
//    parents;
//  - a CLOSED shard has an ending sequence number, an OPEN one none;
//  - a child's first sequence number is above its parents' last one, and
//    every record of a child is numbered above every record of its parents.
void CheckLineage(Store& store, const std::string& stream) {
  std::vector<ShardDescription> all = testing::AllShards(store, stream);
  std::map<std::string, const ShardDescription*> by_id;
  for (const ShardDescription& s : all) {
    INFO("shard " << s.shard_id);
    CHECK(by_id.emplace(s.shard_id, &s).second);
  }
  CHECK(PartitionProblem(OpenShards(store, stream)).empty());
  std::map<std::string, std::vector<const ShardDescription*>> children;
  for (const ShardDescription& s : all) {
    INFO("shard " << s.shard_id);
    for (const auto& p : {s.parent_shard_id, s.adjacent_parent_shard_id}) {
      if (!p) continue;
      REQUIRE(by_id.count(*p) == 1);
      children[*p].push_back(&s);
    }
    if (s.adjacent_parent_shard_id) CHECK(s.parent_shard_id.has_value());
    CHECK((s.state == ShardState::kClosed) == s.ending_sequence_number.has_value());
  }
  std::map<std::string, std::vector<Record>> records = AllRecords(store, stream);
  for (const ShardDescription& s : all) {
    INFO("shard " << s.shard_id);
    const auto& kids = children[s.shard_id];
    CHECK((s.state == ShardState::kClosed) == !kids.empty());
    if (kids.empty()) continue;
    if (kids.size() == 2) {
      // A split: both children name only this parent, and tile its range.
      const ShardDescription* a = kids[0];
      const ShardDescription* b = kids[1];
      if (b->hash_key_range.start < a->hash_key_range.start) std::swap(a, b);
      CHECK_FALSE(a->adjacent_parent_shard_id.has_value());
      CHECK_FALSE(b->adjacent_parent_shard_id.has_value());
      CHECK(a->hash_key_range.start == s.hash_key_range.start);
      CHECK(a->hash_key_range.IsFollowedBy(b->hash_key_range));
      CHECK(b->hash_key_range.end == s.hash_key_range.end);
    } else {
      REQUIRE(kids.size() == 1);
      const ShardDescription* m = kids[0];
      REQUIRE(m->adjacent_parent_shard_id.has_value());
      const ShardDescription* p1 = by_id.at(*m->parent_shard_id);
      const ShardDescription* p2 = by_id.at(*m->adjacent_parent_shard_id);
      if (p2->hash_key_range.start < p1->hash_key_range.start) std::swap(p1, p2);
      CHECK(p1->hash_key_range.IsFollowedBy(p2->hash_key_range));
      CHECK(m->hash_key_range.start == p1->hash_key_range.start);
      CHECK(m->hash_key_range.end == p2->hash_key_range.end);
    }
    std::optional<SequenceNumber> parent_max = MaxSeq(records[s.shard_id]);
    for (const ShardDescription* k : kids) {
      INFO("child " << k->shard_id);
      if (s.ending_sequence_number) {
        CHECK(*s.ending_sequence_number < k->starting_sequence_number);
      }
      if (!parent_max) continue;
      CHECK(*parent_max <= *s.ending_sequence_number);
      for (const Record& r : records[k->shard_id]) CHECK(*parent_max < r.sequence_number);
    }
  }
}

// Every acknowledged record is present once, with its key and data.
void CheckAcked(Store& store, const std::string& stream, const std::vector<Acked>& acked) {
  auto all = AllRecords(store, stream);
  std::map<std::string, std::map<std::string, const Record*>> by_seq;
  for (const auto& [id, recs] : all) {
    CheckStrictlyIncreasing(recs);
    for (const Record& r : recs) {
      INFO("shard " << id << " holds two records numbered " << r.sequence_number.ToString());
      CHECK(by_seq[id].emplace(r.sequence_number.ToString(), &r).second);
    }
  }
  for (const Acked& a : acked) {
    INFO("acknowledged " << a.shard_id << " " << a.seq.ToString() << " " << a.data.substr(0, 30));
    auto it = by_seq[a.shard_id].find(a.seq.ToString());
    REQUIRE(it != by_seq[a.shard_id].end());
    CHECK(it->second->data == a.data);
    CHECK(it->second->partition_key == a.key);
  }
}

// How many calls of `op` one run of `fn` makes.
template <typename Fn>
int CallsOf(Disk& d, Op op, Fn&& fn) {
  int before = d.fault->CallCount(op);
  fn();
  return d.fault->CallCount(op) - before;
}

void PutSome(Disk& d, const std::string& stream, int n, const std::string& tag,
             std::vector<Acked>* acked) {
  for (int i = 0; i < n; ++i) {
    std::string key = "k" + std::to_string(i % 13);
    std::string data = Payload(tag + "-" + std::to_string(i), 40 + (i * 17) % 200);
    auto r = d->Put(stream, Input(key, data));
    REQUIRE_OK(r);
    acked->push_back({r->shard_id.ToString(), r->sequence_number, key, data});
  }
}

TEST_CASE("UpdateShardCount failing at each I/O step: the store reopens with a consistent lineage",
          "[durable][fault][reshard]") {
  // UpdateShardCount 3 -> 5 is a series of splits and merges, each a
  // catalog commit plus new shard logs. Fail the n-th call of each kind it
  // makes, for every n, with and without a power loss afterwards.
  Op op = GENERATE(Op::kOpen, Op::kAppend, Op::kSync, Op::kRename, Op::kSyncDir);
  bool power_loss = GENERATE(false, true);
  Disk probe;
  probe.Open();
  REQUIRE_OK(probe->CreateStream("s", 3));
  const int calls = CallsOf(probe, op, [&] { REQUIRE_OK(probe->UpdateShardCount("s", 5)); });
  REQUIRE(calls >= 1);
  for (int nth = 1; nth <= calls; ++nth) {
    INFO("failing " << FaultEnv::OpName(op) << " #" << nth << " of " << calls
                    << (power_loss ? ", then power loss" : ", then reopen"));
    Disk d;
    d.options.segment_bytes = 4096;
    d.Open();
    REQUIRE_OK(d->CreateStream("s", 3));
    std::vector<Acked> acked;
    PutSome(d, "s", 30, "before", &acked);
    d.fault->FailNth(op, nth);
    auto r = d->UpdateShardCount("s", 5);
    if (!r.ok()) CHECK(GetErrorType(r.status()) == ErrorType::kInternalFailure);
    // Writes after the failure: acknowledged ones must survive too.
    for (int i = 0; i < 10; ++i) {
      std::string data = "after-failure-" + std::to_string(i);
      auto p = d->Put("s", Input("a" + std::to_string(i), data));
      if (p.ok()) acked.push_back({p->shard_id.ToString(), p->sequence_number, "a" + std::to_string(i), data});
      else CHECK(GetErrorType(p.status()) == ErrorType::kInternalFailure);
    }
    d.fault->ClearFailures();
    if (power_loss) d.PowerLoss();
    d.Open();
    CheckAcked(*d, "s", acked);
    CheckLineage(*d, "s");
    // The stream is usable: the scaling can be finished and takes writes.
    auto open = OpenShards(*d, "s");
    if (open.size() != 5) {
      auto again = d->UpdateShardCount("s", 5);
      REQUIRE_OK(again);
    }
    CHECK(OpenShards(*d, "s").size() == 5);
    PutSome(d, "s", 20, "reopened", &acked);
    d.Reopen();
    CheckAcked(*d, "s", acked);
    CheckLineage(*d, "s");
  }
}

TEST_CASE("split and merge while shard writes fail (ENOSPC): children take writes after reopen",
          "[durable][fault][reshard]") {
  bool power_loss = GENERATE(false, true);
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked;
  PutSome(d, "s", 20, "before", &acked);
  d.fault->SetNoSpace(true);
  auto bad = d->Put("s", Input("k1", "no space"));
  CHECK_FALSE(bad.ok());
  // Resharding needs new segment files (their header is an Append): with
  // the disk full it fails cleanly or succeeds whole, never half.
  auto open = OpenShards(*d, "s");
  absl::Status split = d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range));
  if (!split.ok()) CHECK(GetErrorType(split) == ErrorType::kInternalFailure);
  d.fault->SetNoSpace(false);
  if (power_loss) d.PowerLoss();
  d.Open();
  CheckAcked(*d, "s", acked);
  CheckLineage(*d, "s");
  open = OpenShards(*d, "s");
  if (open.size() == 2) {
    REQUIRE_OK(d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range)));
    open = OpenShards(*d, "s");
  }
  REQUIRE(open.size() == 3);
  REQUIRE_OK(d->MergeShards("s", open[1].shard_id, open[2].shard_id));
  for (const ShardDescription& sh : OpenShards(*d, "s")) {
    auto r = d->Put("s", testing::InputWithHash("x", sh.hash_key_range.start.ToString(), "child"));
    REQUIRE_OK(r);
    CHECK(r->shard_id.ToString() == sh.shard_id);
    acked.push_back({r->shard_id.ToString(), r->sequence_number, "x", "child"});
  }
  d.PowerLoss();
  d.Open();
  CheckAcked(*d, "s", acked);
  CheckLineage(*d, "s");
}

TEST_CASE("a reshard pending while UPDATING survives a power loss and failing writes",
          "[durable][fault][reshard]") {
  // With update_delay the split is accepted (catalog commit of the pending
  // change) and applied only when UPDATING ends; a crash in between must
  // neither lose it nor apply it twice.
  Disk d;
  d.options.update_delay = absl::Seconds(30);
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked;
  PutSome(d, "s", 20, "before", &acked);
  auto open = OpenShards(*d, "s");
  REQUIRE_OK(d->SplitShard("s", open[1].shard_id, Midpoint(open[1].hash_key_range)));
  // A second reshard while UPDATING is refused and changes nothing.
  REQUIRE_ERROR(d->MergeShards("s", open[0].shard_id, open[1].shard_id),
                ErrorType::kResourceInUse);
  d.fault->FailNth(Op::kSync, 2);
  for (int i = 0; i < 10; ++i) {
    std::string data = "during-" + std::to_string(i);
    auto p = d->Put("s", Input("d" + std::to_string(i), data));
    if (p.ok()) acked.push_back({p->shard_id.ToString(), p->sequence_number, "d" + std::to_string(i), data});
  }
  d.fault->ClearFailures();
  d.PowerLoss();
  d.Open();
  CheckAcked(*d, "s", acked);
  CHECK(OpenShards(*d, "s").size() == 2);  // not applied yet
  d.clock.Advance(absl::Seconds(31));
  REQUIRE_OK(d->WaitUntilActive("s", absl::Seconds(1)));
  CHECK(OpenShards(*d, "s").size() == 3);
  PutSome(d, "s", 20, "after", &acked);
  d.PowerLoss();
  d.Open();
  CheckAcked(*d, "s", acked);
  CheckLineage(*d, "s");
  CHECK(OpenShards(*d, "s").size() == 3);  // applied exactly once
}

TEST_CASE("a reshard reuses the shard numbers of one that never committed, without its files",
          "[durable][fault][reshard]") {
  // Found by the concurrent test below under TSan: a split whose catalog
  // commit failed left its children's directories (a segment starting at
  // the counter the parent had then); after the power loss the parent's
  // unsynced records were gone, the split was made again with the same
  // shard numbers and lower counters, and the new child appended counter
  // 1048754 into the leftover segment 1048758 (reads skipped it; the next
  // open reported corruption). Here the leftover is planted directly.
  bool power_loss = GENERATE(false, true);
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Acked> acked;
  PutSome(d, "s", 10, "before", &acked);
  const std::string stream_dir = StreamDirOf(d.base, d.dir, "s");
  for (uint32_t child : {1u, 2u}) {
    log::DiskShardLog::Options o;
    o.env = d.fault.get();
    o.dir = stream_dir + "/" + std::to_string(child);
    o.shard_index = child;
    o.start_counter = uint64_t{5} << 20;  // above anything the split will give
    auto leftover = log::DiskShardLog::Open(o, nullptr);
    REQUIRE_OK(leftover);
    log::AppendRecord junk{o.start_counter, 1, "junk", "never acknowledged"};
    REQUIRE_OK((*leftover)->Append({&junk, 1}));
    REQUIRE_OK((*leftover)->Sync((*leftover)->DurabilityToken()));
  }
  auto open = OpenShards(*d, "s");
  REQUIRE_OK(d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range)));
  for (const ShardDescription& sh : OpenShards(*d, "s")) {
    for (int i = 0; i < 5; ++i) {
      std::string data = "child-" + std::to_string(i);
      auto r = d->Put("s", testing::InputWithHash("x", sh.hash_key_range.start.ToString(), data));
      REQUIRE_OK(r);
      acked.push_back({r->shard_id.ToString(), r->sequence_number, "x", data});
    }
  }
  if (power_loss) d.PowerLoss();
  d.Open();
  CHECK(d->recovery().problems.empty());
  CheckAcked(*d, "s", acked);
  CheckLineage(*d, "s");
  for (const auto& [id, recs] : AllRecords(*d, "s")) {
    for (const Record& r : recs) CHECK(r.data != "never acknowledged");
  }
}

TEST_CASE("concurrent writers, a resharding loop and injected I/O failures, then power loss",
          "[durable][fault][reshard][concurrency]") {
  // Rounds of: 3 synced writers and one resharder (split, merge,
  // UpdateShardCount) run together while a fault thread arms failures of
  // random kinds; then power loss and reopen. Whatever was acknowledged
  // survives; the lineage is consistent after every round.
  const uint32_t seed = Catch::rngSeed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Acked> acked;
  std::mt19937 rng(seed);
  int total_failures = 0;
  for (int round = 0; round < 6; ++round) {
    INFO("round " << round);
    // Catch2 v2 assertions are not thread-safe: threads collect what went
    // wrong and the test checks it after joining them.
    std::mutex mu;
    std::vector<std::string> unexpected;
    std::atomic<int> writes_failed{0}, reshards_failed{0}, reshards_ok{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 3; ++w) {
      threads.emplace_back([&, w] {
        for (int i = 0; i < 60; ++i) {
          std::string key = "w" + std::to_string(w) + "-" + std::to_string(i % 7);
          std::string data = Payload("r" + std::to_string(round) + "w" + std::to_string(w) + "-" +
                                         std::to_string(i),
                                     30 + (i * 13) % 150);
          auto r = d->Put("s", Input(key, data));
          std::lock_guard<std::mutex> l(mu);
          if (!r.ok()) {
            if (GetErrorType(r.status()) != ErrorType::kInternalFailure) {
              unexpected.push_back("Put: " + r.status().ToString());
            }
            ++writes_failed;
            continue;
          }
          acked.push_back({r->shard_id.ToString(), r->sequence_number, key, data});
        }
      });
    }
    const uint32_t reshard_seed = static_cast<uint32_t>(rng());
    threads.emplace_back([&, reshard_seed] {
      std::mt19937 r(reshard_seed);
      for (int i = 0; i < 6; ++i) {
        auto shards = d->ListShards([] {
          ListShardsRequest q;
          q.stream = "s";
          return q;
        }());
        if (!shards.ok()) continue;
        std::vector<ShardDescription> open;
        for (const auto& s : shards->shards) {
          if (s.state == ShardState::kOpen) open.push_back(s);
        }
        std::sort(open.begin(), open.end(), [](const auto& a, const auto& b) {
          return a.hash_key_range.start < b.hash_key_range.start;
        });
        absl::Status st;
        int dice = static_cast<int>(r() % 3);
        if (dice == 0 && open.size() < 6) {
          const auto& sh = open[r() % open.size()];
          st = d->SplitShard("s", sh.shard_id, Midpoint(sh.hash_key_range));
        } else if (dice == 1 && open.size() >= 2) {
          size_t k = r() % (open.size() - 1);
          st = d->MergeShards("s", open[k].shard_id, open[k + 1].shard_id);
        } else {
          // A target UpdateShardCount accepts: [ceil(n/2), min(2n, 6)].
          const int n = static_cast<int>(open.size());
          const int lo = (n + 1) / 2, hi = std::max(lo, std::min(2 * n, 6));
          st = d->UpdateShardCount("s", lo + static_cast<int>(r() % (hi - lo + 1))).status();
        }
        if (st.ok()) {
          ++reshards_ok;
        } else {
          // I/O failures, or the daily rescale limit: nothing else.
          ErrorType t = GetErrorType(st);
          if (t != ErrorType::kInternalFailure && t != ErrorType::kLimitExceeded) {
            std::lock_guard<std::mutex> l(mu);
            unexpected.push_back("reshard: " + st.ToString());
          }
          ++reshards_failed;
        }
      }
    });
    // Faults: one shard-write failure (a round makes ~180 appends and
    // syncs) and one resharding failure (a round makes a few opens,
    // renames and directory syncs), at random points.
    const Op data_op = rng() % 2 ? Op::kAppend : Op::kSync;
    const int data_nth = 1 + static_cast<int>(rng() % 150);
    const Op meta_kinds[] = {Op::kOpen, Op::kRename, Op::kSyncDir};
    const Op meta_op = meta_kinds[rng() % 3];
    const int meta_nth = 1 + static_cast<int>(rng() % 6);
    INFO("injected " << FaultEnv::OpName(data_op) << " #" << data_nth << " and "
                     << FaultEnv::OpName(meta_op) << " #" << meta_nth);
    d.fault->FailNth(data_op, data_nth);
    d.fault->FailNth(meta_op, meta_nth);
    for (auto& t : threads) t.join();
    total_failures += writes_failed + reshards_failed;
    for (const std::string& u : unexpected) FAIL_CHECK("unexpected error: " << u);
    INFO("writes failed " << writes_failed << ", reshards ok " << reshards_ok << ", failed "
                          << reshards_failed);
    d.fault->ClearFailures();
    d.PowerLoss();
    d.Open();
    std::string recovered;
    for (const std::string& p : d->recovery().problems) recovered += "\n  " + p;
    INFO("recovery found:" << recovered);
    CHECK(d->recovery().truncated_bytes == 0);
    CheckAcked(*d, "s", acked);
    CheckLineage(*d, "s");
    // Time passes: the daily rescale limit must not stop later rounds.
    d.clock.Advance(absl::Hours(3));
  }
  CHECK(total_failures > 0);  // the faults did fire
}

}  // namespace
}  // namespace tributary::durable_test
