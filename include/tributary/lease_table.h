// Leases and checkpoints of ordered consumers, and the table that stores them.
//
// An ordered consumer (tributary/consumer.h) keeps, per consumer name and
// stream, one *lease* per shard: who is reading the shard (owner, until
// when), how far its records have been processed (the checkpoint, or
// SHARD_END once the shard is done), an optional prepared checkpoint (the
// first phase of a two-phase checkpoint), and the parents that must be at
// SHARD_END before anyone may read the shard. The model is the Java KCL's
// DynamoDB lease table; the semantics are in docs/CONSUMER.md.
//
// LeaseTable is the storage seam. Every write is conditional, like a
// DynamoDB conditional put: UpdateLease succeeds only if the stored lease
// still has the version the caller read, and bumps the version. That one
// rule is what makes concurrent workers (threads or processes) safe: two
// workers that both try to take, renew or checkpoint the same lease cannot
// both succeed.
//
// Implementations shipped here:
//   * NewInMemoryLeaseTable(): a map in memory (tests, in-memory stores).
//   * OpenDurableLeaseTable(env, dir): the file <dir>/LEASES, replaced
//     atomically on every write and guarded by an OS file lock per
//     operation, so several processes can share it (format: docs/FORMAT.md
//     "Lease table").
//   * LeaseTableFor(store): the table that belongs to a store (in memory for
//     an in-memory store, <store dir>/LEASES for a durable one).
//   * OpenDynamoDbLeaseTable(options) (tributary/dynamodb_lease_table.h):
//     items in Amazon DynamoDB, for workers on many hosts.
// A host can pass any other implementation (ConsumerOptions::lease_table).
//
// Errors carry Kinesis error types like every Tributary call: a version
// conflict is Aborted with ErrorType::kResourceInUse; a missing lease is
// NotFound with kResourceNotFound; creating one that exists is AlreadyExists
// with kResourceInUse; a damaged durable table is DataLoss with kCorruption.
#ifndef TRIBUTARY_LEASE_TABLE_H_
#define TRIBUTARY_LEASE_TABLE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/env.h"
#include "tributary/types.h"

namespace tributary {

class Store;
struct Record;

// Where a consumer starts in shards it has no checkpoint for.
struct InitialPosition {
  // Values are persisted in the lease table: never renumber.
  enum class Type : uint8_t { kTrimHorizon = 1, kLatest = 2, kAtTimestamp = 3 };
  Type type = Type::kTrimHorizon;
  absl::Time timestamp;  // kAtTimestamp only

  static InitialPosition TrimHorizon() { return {Type::kTrimHorizon, absl::Time()}; }
  static InitialPosition Latest() { return {Type::kLatest, absl::Time()}; }
  static InitialPosition AtTimestamp(absl::Time t) { return {Type::kAtTimestamp, t}; }
  std::string ToString() const;  // "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP(2024-...)"
};

// How far a shard has been processed. A checkpoint names the last record
// processed (kSequenceNumber: reading resumes AFTER it), a starting position
// that no record has been processed from yet (kTrimHorizon, kAtTimestamp),
// or kShardEnd: every record of the (closed) shard was processed and its
// children may be read.
//
// Records a KPL producer aggregated (tributary/kpl.h) are many user records
// in one Kinesis record, all with its sequence number. A kSequenceNumber
// checkpoint without a sub-sequence number covers the whole Kinesis record
// (every user record in it); with one, only the user records of that
// aggregate up to and including that index: reading resumes at the same
// Kinesis record and skips them. Positions in a shard are ordered by
// (sequence number, sub-sequence number), a whole record after each of its
// user records (docs/CONSUMER.md "Aggregated records").
struct CheckpointPosition {
  // Values are persisted in the lease table: never renumber.
  enum class Kind : uint8_t { kTrimHorizon = 1, kAtTimestamp = 3, kSequenceNumber = 4, kShardEnd = 5 };
  Kind kind = Kind::kTrimHorizon;
  SequenceNumber sequence_number;  // kSequenceNumber only
  absl::Time timestamp;            // kAtTimestamp only
  // kSequenceNumber only: absent for a whole record; otherwise the index of
  // the last processed user record of the aggregate at sequence_number (>= 0).
  std::optional<int64_t> sub_sequence_number;

  static CheckpointPosition TrimHorizon() { return {Kind::kTrimHorizon, {}, absl::Time(), std::nullopt}; }
  static CheckpointPosition AtTimestamp(absl::Time t) { return {Kind::kAtTimestamp, {}, t, std::nullopt}; }
  // After the whole Kinesis record `s` (all its user records, if an aggregate).
  static CheckpointPosition After(SequenceNumber s) {
    return {Kind::kSequenceNumber, s, absl::Time(), std::nullopt};
  }
  // After user record `sub` of the aggregate at `s` (the later ones remain).
  static CheckpointPosition AfterUserRecord(SequenceNumber s, int64_t sub) {
    return {Kind::kSequenceNumber, s, absl::Time(), sub};
  }
  static CheckpointPosition ShardEnd() { return {Kind::kShardEnd, {}, absl::Time(), std::nullopt}; }

  bool is_shard_end() const { return kind == Kind::kShardEnd; }
  bool has_sequence_number() const { return kind == Kind::kSequenceNumber; }
  // Inside an aggregate: a sequence number with a sub-sequence number.
  bool is_within_aggregate() const { return has_sequence_number() && sub_sequence_number.has_value(); }
  // "TRIM_HORIZON", "AT_TIMESTAMP(<RFC 3339>)", the decimal sequence number
  // (followed by "/<sub>" inside an aggregate), "SHARD_END".
  std::string ToString() const;

  friend bool operator==(const CheckpointPosition& a, const CheckpointPosition& b) {
    return a.kind == b.kind && a.sequence_number == b.sequence_number && a.timestamp == b.timestamp &&
           a.sub_sequence_number == b.sub_sequence_number;
  }
  friend bool operator!=(const CheckpointPosition& a, const CheckpointPosition& b) { return !(a == b); }
};

// The position just after `record`: its user record inside an aggregate
// (record.aggregated), the whole Kinesis record otherwise.
CheckpointPosition PositionAfter(const Record& record);

// The first phase of a two-phase checkpoint: a position the host intends to
// reach (for example before a side effect), with opaque host bytes. It does
// not move the checkpoint; CommitCheckpoint does. A later holder of the
// lease sees it and can reconcile.
struct PendingCheckpoint {
  SequenceNumber sequence_number;
  std::string state;  // host bytes, at most kMaxPendingStateBytes
  // As in CheckpointPosition: absent for a whole record, else the last user
  // record of the aggregate at sequence_number that the intent covers.
  std::optional<int64_t> sub_sequence_number;
  // The checkpoint that committing it writes.
  CheckpointPosition position() const {
    return sub_sequence_number ? CheckpointPosition::AfterUserRecord(sequence_number, *sub_sequence_number)
                               : CheckpointPosition::After(sequence_number);
  }
  friend bool operator==(const PendingCheckpoint& a, const PendingCheckpoint& b) {
    return a.sequence_number == b.sequence_number && a.state == b.state &&
           a.sub_sequence_number == b.sub_sequence_number;
  }
};
inline constexpr size_t kMaxPendingStateBytes = 64 << 10;

// One shard's lease. Workers change leases only through UpdateLease with the
// version they read.
struct Lease {
  std::string shard_id;
  // Compare-and-set counter (the KCL's leaseCounter): the table bumps it on
  // every write, so any change by anyone makes older copies stale.
  uint64_t version = 0;
  std::string owner;  // worker id of the holder; empty: nobody holds it
  // The holder must renew before this instant (measured on the store's
  // clock); after it, any worker may take the lease.
  absl::Time expires_at = absl::InfinitePast();
  CheckpointPosition checkpoint;
  std::optional<PendingCheckpoint> pending_checkpoint;
  // Shards that must be at SHARD_END before this one is read (recorded when
  // the lease is created: the shard's parents, or none for a shard the
  // consumer started at).
  std::vector<std::string> parent_shard_ids;
  uint64_t owner_switches = 0;  // times the lease changed hands
  // Set by a worker that asked the holder to hand the lease over gracefully
  // (load balancing); the holder checkpoints and passes the lease to it.
  std::string handoff_to;

  // Free, or its holder stopped renewing.
  bool available(absl::Time now) const { return owner.empty() || expires_at <= now; }
};

// The leases of one consumer name on one stream.
struct LeaseScope {
  std::string consumer_name;
  std::string stream_name;
  friend bool operator==(const LeaseScope& a, const LeaseScope& b) {
    return a.consumer_name == b.consumer_name && a.stream_name == b.stream_name;
  }
};

// Written once, when the first worker of a consumer starts on a stream: which
// stream (ARN and creation time, so a stream deleted and created again under
// the same name is not mistaken for it), where the consumer started, and the
// shards it started at (the roots of everything it will read).
struct ScopeRecord {
  std::string stream_arn;
  absl::Time stream_creation_timestamp;
  InitialPosition initial_position;
  absl::Time created_at;  // LATEST means "records that arrived from here on"
  std::vector<std::string> initial_shard_ids;
};

// A key-value table of leases with conditional writes. Implementations must
// be safe for concurrent use by any number of threads (and, for shared
// storage, processes). Results are copies owned by the caller.
class LeaseTable {
 public:
  virtual ~LeaseTable() = default;

  virtual absl::StatusOr<std::optional<ScopeRecord>> GetScope(const LeaseScope& scope) = 0;
  // Stores `record` unless the scope already has one; returns the stored
  // record (the new one, or the one that was there).
  virtual absl::StatusOr<ScopeRecord> CreateScope(const LeaseScope& scope, const ScopeRecord& record) = 0;
  // Removes the scope record and all its leases (resets the consumer).
  virtual absl::Status DeleteScope(const LeaseScope& scope) = 0;

  // Every lease of the scope, by shard id.
  virtual absl::StatusOr<std::vector<Lease>> ListLeases(const LeaseScope& scope) = 0;
  // Every scope that has a scope record or a lease, by consumer name then
  // stream name (status pages find the consumers of a stream with it). The
  // default answers Unimplemented, so tables written before it still build.
  virtual absl::StatusOr<std::vector<LeaseScope>> ListScopes() {
    return absl::UnimplementedError("this LeaseTable cannot list its scopes");
  }
  // The leases not at SHARD_END, by shard id: the consumer's frequent query
  // (finished leases pile up with every reshard until their shards expire).
  // The default filters ListLeases(); implementations may do better.
  virtual absl::StatusOr<std::vector<Lease>> ListUnfinishedLeases(const LeaseScope& scope);
  virtual absl::StatusOr<std::optional<Lease>> GetLease(const LeaseScope& scope,
                                                        std::string_view shard_id) = 0;
  // Stores `lease` with version 1 unless the shard has a lease
  // (AlreadyExists, kResourceInUse). Returns the stored lease.
  virtual absl::StatusOr<Lease> CreateLease(const LeaseScope& scope, const Lease& lease) = 0;
  // Replaces the stored lease of lease.shard_id if its version equals
  // lease.version (else Aborted, kResourceInUse; NotFound if there is none).
  // Returns the stored lease, whose version is lease.version + 1.
  virtual absl::StatusOr<Lease> UpdateLease(const LeaseScope& scope, const Lease& lease) = 0;
  // Deletes the lease if its version equals `expected_version` (else Aborted).
  virtual absl::Status DeleteLease(const LeaseScope& scope, std::string_view shard_id,
                                   uint64_t expected_version) = 0;
};

// A table in memory; gone when the last reference is dropped.
std::unique_ptr<LeaseTable> NewInMemoryLeaseTable();

// The durable table in `directory` (created if missing): the file LEASES,
// rewritten whole on every write (LEASES.tmp, fdatasync, rename, directory
// sync) and checksummed; every operation holds an exclusive lock on
// LEASES.lock, so processes sharing the directory see each other's writes.
// A damaged file fails the operations that read it (DataLoss, kCorruption).
// `env` is not owned and must outlive the table.
absl::StatusOr<std::unique_ptr<LeaseTable>> OpenDurableLeaseTable(Env* env, std::string_view directory);

// The table that belongs to `store`: for a durable store, the durable table
// in the store's directory (<dir>/LEASES, on the store's Env); for an
// in-memory store, one in-memory table that the store owns (created on first
// use, shared by every caller, kept as long as the store or a caller holds
// it). Checkpoints of an in-memory store therefore live as long as the store.
// A durable store's table uses the store's Env, which must outlive it.
absl::StatusOr<std::shared_ptr<LeaseTable>> LeaseTableFor(Store& store);

}  // namespace tributary

#endif  // TRIBUTARY_LEASE_TABLE_H_
