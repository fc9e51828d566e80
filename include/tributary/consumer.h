// Ordered consumption of a whole stream, across any history of reshards.
//
// A Consumer reads every shard of a stream and hands the host batches of
// records, with these guarantees (docs/CONSUMER.md explains each one and the
// tests that pin it):
//   * a shard's records arrive in sequence order;
//   * a shard is read only after each of its parents was read to its end and
//     checkpointed at SHARD_END, so every record of a partition key arrives
//     in sequence order whatever splits, merges and shard-count updates
//     happened (the resharding document's rule, enforced rather than advised);
//   * unrelated shards are read side by side, and several workers (threads
//     or processes) of one consumer name share the shards through leases;
//   * a restarted or replacing worker resumes after the last checkpoint:
//     at least once, never a gap, except records that retention removed
//     before anyone read them, which are reported (GapReport), never silent.
//
// Two ways to drive it:
//   * the pull API, Consumer::Poll(): one step at a time from the caller's
//     thread (deterministic; tests and simple programs);
//   * the callback API, ConsumerWorker: a RecordProcessor per shard, called
//     from RunOnce() or from a thread the worker owns.
//
// The consumer reads only through the public Store API (ListShards,
// GetShardIterator, GetRecords and its ChildShards, DescribeStreamSummary),
// and keeps its leases and checkpoints in a LeaseTable
// (tributary/lease_table.h). All timing (lease expiry, renewals, idle
// waits) uses the store's clock, so a ManualClock drives it in tests.
#ifndef TRIBUTARY_CONSUMER_H_
#define TRIBUTARY_CONSUMER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/lease_table.h"
#include "tributary/store.h"
#include "tributary/types.h"

namespace tributary {

namespace consume {
class ConsumerImpl;
class WorkerImpl;
}  // namespace consume

// Records of one shard handed to the host, in sequence order.
struct RecordBatch {
  std::string shard_id;
  std::vector<Record> records;  // never empty
  // These are the shard's last records (it is CLOSED and now read to its
  // end). Once the batch is processed (the next Poll), the consumer
  // checkpoints the shard at SHARD_END and its children become readable.
  bool shard_end = false;
  // From the GetRecords call that returned the batch.
  int64_t millis_behind_latest = 0;
  std::optional<int64_t> records_behind_latest;  // when the store can tell
  // On the first batch this worker delivers from a lease it took over: the
  // prepared checkpoint the previous holder left (two-phase checkpoints).
  std::optional<PendingCheckpoint> pending_checkpoint;

  SequenceNumber first_sequence_number() const { return records.front().sequence_number; }
  SequenceNumber last_sequence_number() const { return records.back().sequence_number; }
};

// Records that retention removed before the consumer read them (a retention
// race: a shard, often a closed parent, expired before it was drained).
// The consumer reports each gap once and goes on reading.
struct GapReport {
  std::string shard_id;
  // The last record of the shard known to be delivered (or the shard's
  // start); nullopt when not known.
  std::optional<SequenceNumber> after;
  // The first record read after the gap; nullopt when the rest of the shard
  // is gone.
  std::optional<SequenceNumber> resumed_at;
  // Records lost, counted from sequence-number counters: exact unless
  // producers used SequenceNumberForOrdering (then an upper bound); nullopt
  // when the consumer cannot know where the shard ended.
  std::optional<uint64_t> records_lost;
  absl::Time detected_at;
};

// How far one held shard is behind its newest record, as of the last
// GetRecords on it.
struct ShardLag {
  std::string shard_id;
  int64_t millis_behind_latest = 0;
  std::optional<int64_t> records_behind;  // when the store can tell
};

struct ConsumerLag {
  std::vector<ShardLag> shards;  // the shards this worker holds and has read, by id
  // The largest per-shard MillisBehindLatest (the KCL's aggregate).
  int64_t millis_behind_latest = 0;
  // The sum of per-shard records behind; `records_behind_known` is false
  // when some shard could not tell (the sum then covers the others).
  int64_t records_behind = 0;
  bool records_behind_known = true;
};

// Counters of one worker since it was created.
struct ConsumerStats {
  uint64_t batches = 0;
  uint64_t records = 0;
  uint64_t get_records_calls = 0;
  uint64_t expired_iterators = 0;  // iterators renewed AFTER_SEQUENCE_NUMBER
  uint64_t throttled = 0;          // GetRecords/GetShardIterator throttled
  uint64_t leases_taken = 0;       // free or expired leases taken
  uint64_t leases_lost = 0;        // taken by another worker while held
  uint64_t handoffs_given = 0;     // handed over gracefully to another worker
  uint64_t handoffs_received = 0;
  uint64_t shards_finished = 0;  // checkpointed at SHARD_END
  uint64_t gaps = 0;
  uint64_t records_lost = 0;  // sum of the known GapReport::records_lost
  uint64_t shard_syncs = 0;   // full shard-sync passes (periodic, or for an unknown parent)
};

// A shard this worker holds.
struct HeldShard {
  std::string shard_id;
  CheckpointPosition checkpoint;
  std::optional<PendingCheckpoint> pending_checkpoint;
  std::optional<SequenceNumber> last_delivered;
  absl::Time lease_expires_at;
};

struct ConsumerOptions {
  // The stream (name or ARN) and the consumer's name: leases and checkpoints
  // belong to (consumer_name, stream). Both required.
  std::string stream;
  std::string consumer_name;
  // This worker's id, unique among the workers of consumer_name. Empty: a
  // fresh one ("<hostname>-<pid>-<n>"). A worker started again with the same
  // id takes its own leases back without waiting for them to expire.
  std::string worker_id;
  // Where to start when the consumer has never run on this stream. Ignored
  // once checkpoints exist. LATEST means "records that arrive after the
  // consumer first started" (pinned then, so no record is skipped later).
  InitialPosition initial_position = InitialPosition::TrimHorizon();
  // Where leases and checkpoints live. nullptr: LeaseTableFor(store).
  std::shared_ptr<LeaseTable> lease_table;

  // A lease not renewed for this long may be taken by another worker.
  absl::Duration lease_duration = absl::Seconds(10);
  // How often held leases are renewed (zero: lease_duration / 3).
  absl::Duration renew_interval = absl::ZeroDuration();
  // How often the worker looks for leases to take and balances load (zero:
  // lease_duration / 2). It also looks right after a shard ends.
  absl::Duration take_interval = absl::ZeroDuration();
  // How often the full shard listing is refreshed (expired shards, leases
  // to create). Children of a shard this worker finishes are picked up at
  // once from GetRecords' ChildShards, without waiting for this.
  absl::Duration shard_sync_interval = absl::Seconds(60);
  // How long a caught-up shard rests before it is read again.
  absl::Duration idle_interval = absl::Seconds(1);
  // Backoff after ProvisionedThroughputExceeded on a shard.
  absl::Duration throttle_backoff = absl::Milliseconds(500);
  // The GetRecords limit (1..10000): the largest batch.
  int max_records_per_batch = limits::kMaxGetRecordsLimit;
  // At most this many leases per worker (0: no cap beyond a fair share).
  int max_leases = 0;
  // When a lease is handed over (load balancing, Shutdown), first
  // checkpoint the records already processed, so the next holder does not
  // process them again. Turn off only if processed records are not durable
  // until the host checkpoints them itself (RecordProcessor::ShutdownRequested
  // is the host's chance to do that).
  bool checkpoint_on_handoff = true;
  // Called (on the polling thread) for every gap found; also counted in
  // ConsumerStats. May be empty.
  std::function<void(const GapReport&)> on_gap;
};

// The pull API: one worker of a consumer.
//
// Thread safety: one thread at a time, except lag(), stats() and
// worker_id(), which are safe from any thread.
//
// Processing contract: a batch returned by Poll() counts as processed when
// Poll() is called again (the KCL's "processRecords returned"). That is when
// a finished shard is checkpointed at SHARD_END and when a graceful handoff
// checkpoints. Checkpoint explicitly to bound what a crash would replay.
class Consumer {
 public:
  // Validates the options, reads the stream's summary and, on the very
  // first start of `consumer_name` on the stream, records where it starts
  // (ScopeRecord). Takes no lease yet. Errors: InvalidArgument for bad
  // options; ResourceNotFound for a missing stream; FailedPrecondition
  // (kInvalidArgument) when the table holds checkpoints of an earlier stream
  // of the same name (DeleteScope them to start over).
  // REQUIRES: `store` outlives the consumer.
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(Store& store, ConsumerOptions options);

  // Does not touch the lease table: leases expire unless Shutdown() ran.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // One step: confirms the batches returned before as processed (finishing
  // shards that ended), renews leases, takes and balances leases, refreshes
  // the shard listing when due, then reads the next held shard that has
  // records (round robin). Returns that batch, or nullopt when no held shard
  // has records right now (caught up, throttled, or nothing held yet).
  // Errors are not sticky: Poll again to retry.
  absl::StatusOr<std::optional<RecordBatch>> Poll();

  // Checkpoints `shard_id` at `sequence_number` (reading resumes after it).
  // InvalidArgument if the number is not from that shard, is beyond the last
  // record delivered from it, or is before its current checkpoint;
  // FailedPrecondition (kResourceInUse) if this worker does not hold the
  // shard (never taken, finished, or lost to another worker). Clears a
  // prepared checkpoint.
  // The checkpoint covers the whole Kinesis record: with KPL deaggregation
  // on, every user record of an aggregate at `sequence_number`.
  absl::Status Checkpoint(std::string_view shard_id, SequenceNumber sequence_number);
  // Just after `record`, a record delivered from `shard_id`. For a user
  // record of a KPL aggregate (record.aggregated) that is its sub-sequence
  // number: a restart resumes at the next user record of the same
  // aggregate. Same checks as above, on (sequence, sub-sequence) positions.
  absl::Status Checkpoint(std::string_view shard_id, const Record& record);
  // At the batch's last record (a batch always ends on a whole Kinesis
  // record, so this covers every user record of a final aggregate).
  absl::Status Checkpoint(const RecordBatch& batch);
  // Every held shard at its last delivered record.
  absl::Status CheckpointAll();
  // Two-phase: record the intent (with host bytes, <= kMaxPendingStateBytes),
  // then commit it. Same checks as Checkpoint. CommitCheckpoint without a
  // prepared checkpoint is FailedPrecondition.
  absl::Status PrepareCheckpoint(std::string_view shard_id, SequenceNumber sequence_number,
                                 std::string_view state = "");
  absl::Status PrepareCheckpoint(std::string_view shard_id, const Record& record,
                                 std::string_view state = "");
  absl::Status CommitCheckpoint(std::string_view shard_id);

  // Graceful stop: finishes shards whose last batch was delivered,
  // checkpoints what was delivered (if checkpoint_on_handoff) and releases
  // every lease so other workers take them at once. The consumer holds
  // nothing afterwards; Poll() would start taking leases again.
  absl::Status Shutdown();

  std::vector<HeldShard> held() const;
  ConsumerLag lag() const;
  ConsumerStats stats() const;
  const std::string& worker_id() const;
  const LeaseScope& scope() const;

 private:
  friend class consume::WorkerImpl;
  explicit Consumer(std::unique_ptr<consume::ConsumerImpl> impl);
  std::unique_ptr<consume::ConsumerImpl> impl_;
};

// ------------------------------------------------------------ callback API

// Checkpoints for one shard, handed to RecordProcessor callbacks. Valid only
// during the callback. Errors as for Consumer::Checkpoint.
class Checkpointer {
 public:
  // At the last record of the batch being processed (in ProcessRecords), or
  // of the last batch delivered from the shard (in the other callbacks; OK
  // and nothing written when no record was delivered from it).
  absl::Status Checkpoint();
  absl::Status Checkpoint(SequenceNumber sequence_number);
  absl::Status Checkpoint(const Record& record);  // after a user record of an aggregate too
  absl::Status PrepareCheckpoint(SequenceNumber sequence_number, std::string_view state = "");
  absl::Status PrepareCheckpoint(const Record& record, std::string_view state = "");
  absl::Status CommitCheckpoint();
  const std::string& shard_id() const { return shard_id_; }

 private:
  friend class consume::WorkerImpl;
  Checkpointer(consume::ConsumerImpl* impl, std::string shard_id)
      : impl_(impl), shard_id_(std::move(shard_id)) {}
  consume::ConsumerImpl* impl_;
  std::string shard_id_;
};

// What a processor starts from when its worker takes a shard.
struct ShardStart {
  std::string shard_id;
  CheckpointPosition checkpoint;                        // reading resumes after it
  std::optional<PendingCheckpoint> pending_checkpoint;  // left by the previous holder
};

// The host's code for one shard. The worker creates one per shard it takes
// and calls it from one thread, in this order: Initialize, ProcessRecords
// (any number of times), then exactly one of ShardEnded, ShutdownRequested
// or LeaseLost.
class RecordProcessor {
 public:
  virtual ~RecordProcessor() = default;
  virtual void Initialize(const ShardStart& start) { (void)start; }
  virtual void ProcessRecords(const RecordBatch& batch, Checkpointer& checkpointer) = 0;
  // Every record of the shard was processed; the worker checkpoints it at
  // SHARD_END when this returns (the children become readable then).
  virtual void ShardEnded(Checkpointer& checkpointer) { (void)checkpointer; }
  // The lease is being handed over (rebalance or Stop): the last chance to
  // flush and checkpoint. With checkpoint_on_handoff the worker then
  // checkpoints every processed record itself.
  virtual void ShutdownRequested(Checkpointer& checkpointer) { (void)checkpointer; }
  // Another worker took the lease (this one stopped renewing in time);
  // checkpoints fail from now on. Records processed since the last
  // checkpoint will be processed again by the new holder.
  virtual void LeaseLost() {}
};

using RecordProcessorFactory = std::function<std::unique_ptr<RecordProcessor>(const std::string& shard_id)>;

struct WorkerOptions {
  // How the worker thread waits when no shard has records. Empty: in slices
  // of at most 100 ms on the store's clock (Clock::SleepFor), returning
  // early when Stop() is called. Tests on a ManualClock pass a function that
  // yields instead, and move the clock themselves.
  std::function<void(absl::Duration)> idle_wait;
  // How long to wait when idle (zero: ConsumerOptions::idle_interval).
  absl::Duration idle_wait_duration = absl::ZeroDuration();
};

// The callback API: a Consumer that calls RecordProcessors.
//
// Thread safety: Start/Stop/Halt from any one controlling thread; RunOnce
// only while the worker thread is not running; consumer().lag()/stats()
// from anywhere.
class ConsumerWorker {
 public:
  static absl::StatusOr<std::unique_ptr<ConsumerWorker>> Create(Store& store, ConsumerOptions options,
                                                                RecordProcessorFactory factory,
                                                                WorkerOptions worker_options = {});
  // Halts the thread if it runs; does not release leases (see Stop).
  ~ConsumerWorker();

  // One step: Consumer::Poll() and the callbacks it leads to. Returns true
  // if a batch was processed.
  absl::StatusOr<bool> RunOnce();

  // Runs RunOnce() on a thread of the worker's own until Stop() or Halt().
  // Errors from RunOnce are retried after an idle wait; the last one is kept
  // (last_error()).
  absl::Status Start();
  // Stops the thread, then shuts down gracefully (ShutdownRequested,
  // checkpoint, release every lease).
  absl::Status Stop();
  // Stops the thread without releasing anything, as a crash would: the
  // leases expire and other workers take them over.
  void Halt();
  absl::Status last_error() const;

  Consumer& consumer();

 private:
  explicit ConsumerWorker(std::unique_ptr<consume::WorkerImpl> impl);
  std::unique_ptr<consume::WorkerImpl> impl_;
};

}  // namespace tributary

#endif  // TRIBUTARY_CONSUMER_H_
