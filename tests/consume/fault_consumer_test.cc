// Fault injection combined with consumer checkpointing (issue 7;
// docs/RELIABILITY.md "Faults injected"). A durable store and a durable lease
// table share one FaultEnv. Keyed records are written while shards are split
// and merged, and the ordered consumer polls and checkpoints while the n-th
// open / append / sync / rename / directory sync fails, once among the lease
// table's writes (checkpoints, renewals, SHARD_END, new leases) and once
// among the store's (records, reshards). Then power loss; the store and the
// table are reopened and the consumer resumes. Checked:
//   * a failed Checkpoint says what failed (InternalFailure, the injected
//     I/O error) and leaves the table's checkpoint where it was; only a
//     failed directory sync may leave the new checkpoint in place (the
//     rename, the commit point, already happened: the outcome is unknown,
//     and it is either the old or the requested checkpoint, nothing else);
//   * after power loss each shard's durable checkpoint is the last one that
//     succeeded (or such an unknown outcome, or SHARD_END of a finished
//     shard), never one that failed before its rename;
//   * the records delivered again after the restart are exactly the
//     acknowledged records delivered after that durable checkpoint;
//   * nothing acknowledged is lost and per-key order holds across the
//     restart (OrderingVerifier), for the resuming consumer and for a new
//     consumer group that reads the reopened stream from the start.
// Single-threaded on a ManualClock and a MemEnv: deterministic and fast.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "consume/consumer_util.h"
#include "testing/fault_env.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using consume_test::TestOptions;
using testing::FaultEnv;
using testing::OpenShards;
using testing::OrderingVerifier;
using Op = FaultEnv::Op;

const LeaseScope kScope{"app", "s"};

bool IsInjected(const absl::Status& s) {
  return !s.ok() && GetErrorType(s) == ErrorType::kInternalFailure &&
         s.message().find("injected") != std::string_view::npos;
}

class Scenario {
 public:
  Scenario(Op op, int nth, uint32_t seed) : op_(op), nth_(nth), rng_(seed), env_(mem_.get()) {
    options_.env = &env_;
    options_.clock = &clock_;
  }

  void Run() {
    OpenStore();
    REQUIRE_OK(store_->CreateStream("s", 2));
    OpenConsumer();
    // Life 1: writes, reshards, consumption and checkpoints, with faults.
    for (int round = 0; round < 10; ++round) {
      if (round == 7) env_.FailNth(op_, nth_);  // lands among the store's writes
      Write(12);
      if (round % 2 == 1) Reshard();
      clock_.Advance(absl::Seconds(1));
      if (round == 2) env_.FailNth(op_, nth_);  // among the lease table's writes (Poll)
      arm_at_checkpoint_ = round == 4;          // ... from the next Checkpoint on
      Consume(/*life=*/1);
    }
    env_.ClearFailures();
    // Power loss; the old objects are torn down after it (their writes fail).
    absl::Status dropped = env_.DropUnsyncedData();
    if (!dropped.ok()) REQUIRE(dropped.code() == absl::StatusCode::kNotFound);
    consumer_.reset();
    table_.reset();
    store_.reset();

    OpenStore();
    reads_broken_ = false;
    CheckDurableCheckpoints();
    OpenConsumer();
    // Life 2: the same worker takes its leases back and drains the stream.
    for (int quiet = 0, guard = 0; quiet < 15 && guard < 2000; ++guard) {
      const int got = Consume(/*life=*/2);
      quiet = got == 0 ? quiet + 1 : 0;
      clock_.Advance(absl::Seconds(1));
    }

    OrderingVerifier::Report report = verifier_.Check();
    INFO(report.ToString());
    CHECK(report.ok());  // nothing acknowledged missing, per-key order held
    CHECK(report.missing == 0);
    CHECK(report.out_of_order == 0);
    CHECK(report.distinct >= acked_.size());

    // Delivered again = exactly the acknowledged records after the durable
    // checkpoint (unacknowledged ones, whose write failed, may have been
    // lost to the power loss: they may or may not come again).
    std::set<SequenceNumber> again_acked;
    for (const SequenceNumber& s : redelivered_) {
      if (acked_.count(s)) again_acked.insert(s);
      CHECK(expected_all_.count(s) == 1);  // never one covered by the checkpoint
    }
    CHECK(again_acked == expected_acked_);
    redeliveries_ = redelivered_.size();

    // A second consumer group reads the reopened stream from the start:
    // every acknowledged record is still there, in per-key order.
    OrderingVerifier audit(Unacknowledged());
    for (const auto& [seq, key] : acked_) audit.Acknowledged(key, seq);
    ConsumerOptions ao = TestOptions("s", "audit", "a");
    ao.lease_table = table_;
    auto auditor = Consumer::Create(*store_, ao);
    REQUIRE_OK(auditor);
    consume_test::DrainAll(clock_, {auditor->get()}, &audit);
    OrderingVerifier::Report full = audit.Check();
    INFO("audit: " << full.ToString());
    CHECK(full.ok());
    CHECK(full.duplicates == 0);
  }

  size_t redeliveries() const { return redeliveries_; }
  int checkpoint_failures() const { return checkpoint_failures_; }
  int poll_failures() const { return poll_failures_; }
  int write_failures() const { return write_failures_; }

 private:
  void OpenStore() {
    auto s = Store::Open("/db", options_);
    REQUIRE_OK(s);
    store_ = std::move(s).value();
    auto t = OpenDurableLeaseTable(&env_, "/leases");
    REQUIRE_OK(t);
    table_ = std::shared_ptr<LeaseTable>(std::move(t).value());
  }

  void OpenConsumer() {
    ConsumerOptions co = TestOptions("s", "app", "w");
    co.lease_table = table_;
    co.max_records_per_batch = 7;
    auto c = Consumer::Create(*store_, co);
    REQUIRE_OK(c);
    consumer_ = std::move(c).value();
  }

  void Write(int n) {
    for (int i = 0; i < n && !store_broken_; ++i) {
      const std::string key = "k" + std::to_string(rng_() % 6);
      auto r = store_->Put("s", testing::Input(key, key + "#" + std::to_string(next_[key]++)));
      if (!r.ok()) {
        INFO(r.status().ToString());
        CHECK(IsInjected(r.status()));
        ++write_failures_;
        store_broken_ = true;  // the store refuses writes until it is reopened
        return;
      }
      acked_.emplace(r->sequence_number, key);
      verifier_.Acknowledged(key, r->sequence_number);
    }
  }

  void Reshard() {
    if (store_broken_) return;
    auto open = OpenShards(*store_, "s");
    absl::Status s;
    if (open.size() <= 2 || (open.size() < 5 && rng_() % 2 == 0)) {
      const auto& sh = open[rng_() % open.size()];
      s = store_->SplitShard("s", sh.shard_id, sh.hash_key_range.Midpoint());
    } else {
      const size_t k = rng_() % (open.size() - 1);
      s = store_->MergeShards("s", open[k].shard_id, open[k + 1].shard_id);
    }
    if (!s.ok()) {
      INFO(s.ToString());
      CHECK(IsInjected(s));
      store_broken_ = true;
    }
  }

  std::optional<CheckpointPosition> TableCheckpoint(const std::string& shard) {
    auto l = table_->GetLease(kScope, shard);
    REQUIRE_OK(l);
    if (!l->has_value()) return std::nullopt;
    return (*l)->checkpoint;
  }

  // Polls until the consumer is idle (a failed Poll is retried: errors are
  // not sticky) and checkpoints every other batch, at its last record or
  // in its middle. Returns the records delivered.
  int Consume(int life) {
    int delivered = 0;
    if (reads_broken_) return 0;
    for (int polls = 0, failures = 0; polls < 200; ++polls) {
      auto b = consumer_->Poll();
      NoteFinished();
      if (!b.ok()) {
        INFO(b.status().ToString());
        REQUIRE(life == 1);  // no faults after the restart
        CHECK(IsInjected(b.status()));
        ++poll_failures_;
        // A lease-table failure is not sticky: the next Poll goes on. A
        // failed store write (a reshard applied on a read) is: the store
        // answers with it until it is reopened.
        if (++failures == 5) {
          reads_broken_ = true;
          return delivered;
        }
        continue;
      }
      failures = 0;
      if (!b->has_value()) break;
      const RecordBatch& batch = **b;
      verifier_.Delivered(batch);
      delivered += static_cast<int>(batch.records.size());
      for (const Record& r : batch.records) {
        if (life == 1) {
          delivered_[batch.shard_id].push_back(r.sequence_number);
        } else if (first_life_.count(r.sequence_number)) {
          REQUIRE(redelivered_.insert(r.sequence_number).second);  // at most once more
        }
        if (life == 1) first_life_.insert(r.sequence_number);
      }
      if (++batches_ % 2 == 0) Checkpoint(batch);
    }
    return delivered;
  }

  // A shard read before and no longer held was finished (SHARD_END): after
  // its last batch, or at once when its end came with no records left.
  void NoteFinished() {
    std::set<std::string> held;
    for (const HeldShard& h : consumer_->held()) held.insert(h.shard_id);
    for (const auto& [shard, seqs] : delivered_) {
      if (!held.count(shard)) ended_[shard] = true;
    }
  }

  void Checkpoint(const RecordBatch& batch) {
    const SequenceNumber at = batches_ % 4 == 0 ? batch.last_sequence_number()
                                                : batch.records[batch.records.size() / 2].sequence_number;
    const std::optional<CheckpointPosition> before = TableCheckpoint(batch.shard_id);
    if (arm_at_checkpoint_) {
      env_.FailNth(op_, nth_);
      arm_at_checkpoint_ = false;
    }
    const int syncdirs = env_.CallCount(Op::kSyncDir);
    absl::Status s = consumer_->Checkpoint(batch.shard_id, at);
    const CheckpointPosition wanted = CheckpointPosition::After(at);
    if (s.ok()) {
      last_ok_[batch.shard_id] = wanted;
      unknown_[batch.shard_id].clear();
      CHECK(TableCheckpoint(batch.shard_id) == wanted);
      return;
    }
    ++checkpoint_failures_;
    INFO("Checkpoint(" << batch.shard_id << ", " << at << ") failed: " << s.ToString());
    CHECK(IsInjected(s));
    const std::optional<CheckpointPosition> after = TableCheckpoint(batch.shard_id);
    if (after == before) return;  // nothing moved
    // Only a failed directory sync (after the rename) may have moved it,
    // and then exactly to the requested position.
    CHECK(op_ == Op::kSyncDir);
    CHECK(env_.CallCount(Op::kSyncDir) > syncdirs);
    CHECK(after == wanted);
    unknown_[batch.shard_id].push_back(wanted);
  }

  // After power loss: each shard's durable checkpoint is one the consumer
  // may have: the last successful one, an unknown outcome since, or
  // SHARD_END of a finished shard. Computes what must come again.
  void CheckDurableCheckpoints() {
    for (const auto& [shard, seqs] : delivered_) {
      const std::optional<CheckpointPosition> durable = TableCheckpoint(shard);
      INFO("shard " << shard << ": durable checkpoint " << (durable ? durable->ToString() : "none"));
      std::vector<CheckpointPosition> allowed = unknown_[shard];
      if (last_ok_.count(shard)) allowed.push_back(last_ok_[shard]);
      if (ended_[shard]) allowed.push_back(CheckpointPosition::ShardEnd());
      const bool at_start = !durable || durable->kind == CheckpointPosition::Kind::kTrimHorizon;
      if (at_start) {
        CHECK(!last_ok_.count(shard));
      } else {
        CHECK(std::find(allowed.begin(), allowed.end(), *durable) != allowed.end());
      }
      for (const SequenceNumber& s : seqs) {
        const bool covered = durable && (durable->is_shard_end() ||
                                         (durable->has_sequence_number() && s <= durable->sequence_number));
        if (covered) continue;
        expected_all_.insert(s);
        if (acked_.count(s)) expected_acked_.insert(s);
      }
    }
  }

  const Op op_;
  const int nth_;
  std::mt19937 rng_;
  std::unique_ptr<Env> mem_ = NewMemEnv();
  FaultEnv env_;
  ManualClock clock_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<LeaseTable> table_;
  std::unique_ptr<Consumer> consumer_;
  static OrderingVerifier::Options Unacknowledged() {
    OrderingVerifier::Options o;
    o.require_acknowledged = false;  // a write whose sync failed may still be read
    return o;
  }
  OrderingVerifier verifier_{Unacknowledged()};

  bool store_broken_ = false;
  bool reads_broken_ = false;
  bool arm_at_checkpoint_ = false;  // Poll keeps failing until the store is reopened
  std::map<std::string, int> next_;
  std::map<SequenceNumber, std::string> acked_;  // -> partition key
  uint64_t batches_ = 0;
  // Life 1, per shard: records delivered, the last successful checkpoint,
  // checkpoints whose outcome is unknown since, whether it may be finished.
  std::map<std::string, std::vector<SequenceNumber>> delivered_;
  std::map<std::string, CheckpointPosition> last_ok_;
  std::map<std::string, std::vector<CheckpointPosition>> unknown_;
  std::map<std::string, bool> ended_;
  std::set<SequenceNumber> first_life_;
  // Life 2.
  std::set<SequenceNumber> redelivered_;
  std::set<SequenceNumber> expected_all_, expected_acked_;
  size_t redeliveries_ = 0;
  int checkpoint_failures_ = 0, poll_failures_ = 0, write_failures_ = 0;
};

TEST_CASE("fault injection: checkpoints under failing lease-table and store writes, reshards and power loss",
          "[consume][durable][fault]") {
  const Op ops[] = {Op::kOpen, Op::kAppend, Op::kSync, Op::kRename, Op::kSyncDir};
  int checkpoint_failures = 0, poll_failures = 0, write_failures = 0;
  size_t redeliveries = 0;
  for (Op op : ops) {
    int op_failures = 0;
    for (int nth = 1; nth <= 8; ++nth) {
      INFO("the " << nth << "-th " << FaultEnv::OpName(op) << " fails");
      Scenario sc(op, nth, static_cast<uint32_t>(1000 * static_cast<int>(op) + nth));
      sc.Run();
      checkpoint_failures += sc.checkpoint_failures();
      poll_failures += sc.poll_failures();
      write_failures += sc.write_failures();
      op_failures += sc.checkpoint_failures() + sc.poll_failures() + sc.write_failures();
      redeliveries += sc.redeliveries();
    }
    INFO(FaultEnv::OpName(op));
    CHECK(op_failures > 0);  // the faults did fire, and were seen
  }
  // Every path was taken: failed checkpoints, failed lease writes inside
  // Poll, failed store writes, and records delivered again.
  CHECK(checkpoint_failures > 0);
  CHECK(poll_failures > 0);
  CHECK(write_failures > 0);
  CHECK(redeliveries > 0);
}

}  // namespace
}  // namespace tributary
