// ConsumerImpl: one worker of an ordered consumer (see tributary/consumer.h
// for the contract and docs/CONSUMER.md for the model).
//
// A Poll() is a fixed sequence of steps, each on the store's clock:
//   1. confirm: batches returned by the previous Poll are processed; a shard
//      whose last batch that was is finished (child leases created, then
//      the lease checkpointed at SHARD_END and released);
//   2. renew held leases when due, and hand over any lease another worker
//      asked for (checkpoint, then pass ownership);
//   3. shard sync when due (listing, lease creation down and up the
//      lineage, expired shards, clean-up of finished leases);
//   4. take leases when due: own leases first, then free or expired ones
//      whose parents are all at SHARD_END, up to a fair share; ask the most
//      loaded worker for one lease when short;
//   5. read the next held shard with records (round robin) and return them.
//
// Every lease write is a compare-and-set on the lease version, so the
// decisions above are safe against other workers doing the same at once.
//
// Thread safety: one thread at a time; lag()/stats() are safe from any
// thread (stats_mu_).
#ifndef TRIBUTARY_LIB_CONSUME_CONSUMER_IMPL_H_
#define TRIBUTARY_LIB_CONSUME_CONSUMER_IMPL_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tributary/consumer.h"
#include "util/mutex.h"

namespace tributary::consume {

// What the callback API hooks into. Called on the polling thread from inside
// Poll()/Shutdown(), at points where Checkpoint calls for the shard work.
class ConsumerListener {
 public:
  virtual ~ConsumerListener() = default;
  virtual void OnLeaseAcquired(const ShardStart& start) = 0;
  // Every record was delivered and processed; SHARD_END is written after.
  virtual void OnShardEnded(const std::string& shard_id) = 0;
  // The lease is about to be handed over (rebalance or shutdown).
  virtual void OnShutdownRequested(const std::string& shard_id) = 0;
  virtual void OnLeaseLost(const std::string& shard_id) = 0;
};

class ConsumerImpl {
 public:
  // `listener` may be null (pull API); it must outlive the consumer.
  static absl::StatusOr<std::unique_ptr<ConsumerImpl>> Create(Store& store, ConsumerOptions options,
                                                              ConsumerListener* listener);

  absl::StatusOr<std::optional<RecordBatch>> Poll();
  absl::Status Checkpoint(std::string_view shard_id, SequenceNumber seq);
  // `pos`: a kSequenceNumber position (with a sub-sequence number inside an
  // aggregate).
  absl::Status Checkpoint(std::string_view shard_id, const CheckpointPosition& pos);
  absl::Status CheckpointLast(std::string_view shard_id);
  absl::Status CheckpointAll();
  absl::Status PrepareCheckpoint(std::string_view shard_id, SequenceNumber seq, std::string_view state);
  absl::Status PrepareCheckpoint(std::string_view shard_id, const CheckpointPosition& pos,
                                 std::string_view state);
  absl::Status CommitCheckpoint(std::string_view shard_id);
  absl::Status Shutdown();

  std::vector<HeldShard> held() const;
  ConsumerLag lag() const ABSL_LOCKS_EXCLUDED(stats_mu_);
  ConsumerStats stats() const ABSL_LOCKS_EXCLUDED(stats_mu_);
  const std::string& worker_id() const { return worker_id_; }
  const LeaseScope& scope() const { return scope_; }
  Clock* clock() const { return clock_; }

 private:
  struct Held {
    Lease lease;           // the latest version this worker wrote or read
    std::string iterator;  // empty: open one before the next read
    std::optional<SequenceNumber> last_delivered;
    // The record the next one read should follow (delivered, checkpointed,
    // or the shard's start for a child read from its beginning): a jump
    // past it is checked for expiry. nullopt: no check possible.
    std::optional<SequenceNumber> expect_after;
    bool end_pending = false;          // the shard's last batch was delivered
    std::vector<ChildShard> children;  // from the GetRecords that ended it
    absl::Time rest_until = absl::InfinitePast();
    std::optional<PendingCheckpoint> pending_to_report;  // on the first batch
    // Reading resumed AT the sequence number of a checkpoint inside a KPL
    // aggregate: the next records returned start with that aggregate, whose
    // user records up to this position were processed and are skipped.
    std::optional<CheckpointPosition> skip_through;
  };

  ConsumerImpl(Store& store, ConsumerOptions options, ConsumerListener* listener);
  absl::Status Start();

  // Poll steps.
  absl::Status ConfirmProcessed();
  absl::Status Renew(absl::Time now);
  absl::Status Sync(absl::Time now);
  absl::Status Take(absl::Time now);
  absl::StatusOr<std::optional<RecordBatch>> Read(const std::string& shard_id, absl::Time now);

  // Lease transitions of held shards.
  absl::Status Acquire(const Lease& lease, absl::Time now);
  absl::Status FinishShard(const std::string& shard_id);
  absl::Status HandOver(const std::string& shard_id, const std::string& to, absl::Time now);
  absl::Status Release(const std::string& shard_id);
  void Lose(const std::string& shard_id);
  // Applies `mutate` to the held lease and writes it, re-reading and
  // re-applying after a version conflict while this worker still owns it.
  // FailedPrecondition (and the shard dropped) once the lease is lost.
  template <typename Fn>
  absl::Status UpdateHeld(const std::string& shard_id, Fn&& mutate);

  // A shard (held, or a free lease) that expired: report what was lost,
  // create its children's leases, and write SHARD_END.
  absl::Status ShardGone(const Lease& lease, std::optional<SequenceNumber> last_seen);
  void ReportGap(const std::string& shard_id, std::optional<SequenceNumber> after,
                 std::optional<SequenceNumber> resumed_at, std::optional<uint64_t> lost);
  // After a jump in sequence numbers inside a shard: were the skipped
  // records removed by retention? (Asks for the shard's trim horizon.)
  absl::Status ProbeGap(Held& h, const std::string& shard_id, const Record& first);
  // At a shard's end with no records in the final call: compares the last
  // record seen with the shard's ending sequence number.
  absl::Status CheckEndGap(Held& h, const std::string& shard_id);

  // Also sets h.skip_through when resuming inside an aggregate.
  absl::StatusOr<std::string> OpenIterator(const std::string& shard_id, Held& h);
  // The checks every checkpoint (and prepared one) passes: from this shard,
  // not beyond the last record delivered, not before the checkpoint.
  absl::Status CheckPosition(std::string_view what, std::string_view shard_id, const Held& h,
                             const CheckpointPosition& pos) const;
  absl::Status ListAll();
  absl::Status CreateChildLease(const std::string& shard_id, const std::vector<std::string>& parents);
  std::vector<std::string> ParentsOf(const ShardDescription& d) const;
  CheckpointPosition InitialCheckpoint() const;
  // True if every recorded parent of `lease` is at SHARD_END (or expired
  // before it was ever leased). `unfinished` indexes the unfinished leases;
  // `others` holds what the table said about the remaining parents not in
  // finished_ (nullopt: no lease). Sets *unknown when a parent has no lease
  // and this worker never saw it listed; `fresh_listing` says the latest
  // listing was taken after the leases were read, which settles such a parent.
  bool ParentsDone(const Lease& lease, const std::map<std::string_view, const Lease*>& unfinished,
                   const std::map<std::string, std::optional<Lease>>& others, bool fresh_listing,
                   bool* unknown) const;
  // Adds shards newer than any this worker knows to known_ (a ListShards
  // after the newest known id: cheap, unlike a full listing).
  absl::Status ListNew();
  void Know(ShardDescription d);
  void SetLag(const std::string& shard_id, const GetRecordsResult& r) ABSL_LOCKS_EXCLUDED(stats_mu_);
  void DropLag(const std::string& shard_id) ABSL_LOCKS_EXCLUDED(stats_mu_);
  template <typename Fn>
  void Count(Fn&& fn) ABSL_LOCKS_EXCLUDED(stats_mu_) {
    util::MutexLock l(&stats_mu_);
    fn(stats_);
  }

  Store& store_;
  const ConsumerOptions options_;
  ConsumerListener* const listener_;
  Clock* const clock_;
  std::shared_ptr<LeaseTable> table_;
  std::string worker_id_;
  std::string stream_;  // resolved name
  LeaseScope scope_;
  ScopeRecord scope_record_;
  absl::Duration renew_interval_;
  absl::Duration take_interval_;

  std::map<std::string, Held> held_;
  std::string cursor_;     // round robin: the shard read last
  uint64_t acquired_ = 0;  // leases acquired so far (Poll reads again after new ones)
  // Every shard description seen in a listing (kept after the shard leaves
  // the listing: its ending number sizes a gap), and the latest listing.
  std::map<std::string, ShardDescription> known_;
  std::string newest_known_;  // the highest shard id in known_
  // The shards of the latest full listing and those learned since (by a
  // partial listing): a shard in known_ but not here has expired.
  std::set<std::string> listed_;
  // Shards whose leases are at SHARD_END (finished here or seen so): that
  // never changes back, so their parents' status needs no table read.
  std::set<std::string, std::less<>> finished_;
  bool listed_this_poll_ = false;
  absl::Time next_renew_ = absl::InfinitePast();
  absl::Time next_take_ = absl::InfinitePast();
  absl::Time next_sync_ = absl::InfinitePast();

  mutable util::Mutex stats_mu_;
  ConsumerStats stats_ ABSL_GUARDED_BY(stats_mu_);
  std::map<std::string, ShardLag> lag_ ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace tributary::consume

#endif  // TRIBUTARY_LIB_CONSUME_CONSUMER_IMPL_H_
