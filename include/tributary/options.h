// Options for a Store and for the streams it creates.
//
// Every field has a default that gives Kinesis behaviour with instant status
// transitions and no throughput limits, which is what a unit test usually
// wants. Options are plain values: copy them freely.
#ifndef TRIBUTARY_OPTIONS_H_
#define TRIBUTARY_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "tributary/clock.h"
#include "tributary/env.h"
#include "tributary/types.h"

namespace tributary {

class FaultInjector;  // tributary/fault_injector.h

// Kinesis limits the library enforces. Kept in one place so the endpoint and
// the docs quote the same numbers (see docs/LIMITS.md).
namespace limits {
inline constexpr size_t kMaxStreamNameLength = 128;
inline constexpr size_t kMaxPartitionKeyChars = 256;
inline constexpr size_t kDefaultMaxRecordSize = 1 << 20;         // 1 MiB
inline constexpr size_t kMaxMaxRecordSize = 10 << 20;            // 10 MiB
inline constexpr size_t kMaxPutBatchRecords = 500;
inline constexpr size_t kMaxPutBatchBytes = 10 << 20;            // 10 MiB
inline constexpr int kMaxGetRecordsLimit = 10000;
inline constexpr size_t kMaxGetRecordsBytes = 10 << 20;          // 10 MiB
inline constexpr absl::Duration kIteratorLifetime = absl::Minutes(5);
inline constexpr absl::Duration kNextTokenLifetime = absl::Seconds(300);
inline constexpr int kMinRetentionHours = 24;
inline constexpr int kMaxRetentionHours = 8760;
inline constexpr int kDefaultRetentionHours = 24;
inline constexpr int kMaxShardsPerStream = 10000;
inline constexpr int kMaxRescalingsPer24h = 10;
inline constexpr int kOnDemandShardCount = 4;
inline constexpr size_t kMaxTagsPerStream = 50;
inline constexpr size_t kMaxTagsPerCall = 50;
inline constexpr size_t kMaxTagKeyLength = 128;
inline constexpr size_t kMaxTagValueLength = 256;
inline constexpr int kMaxListTagsLimit = 50;
inline constexpr int kMaxListLimit = 10000;
inline constexpr int kListShardsPageCap = 1000;
// Enhanced fan-out consumers.
inline constexpr int kMaxConsumersPerStream = 20;
inline constexpr int kMaxCreatingConsumers = 5;  // CREATING at once, per account
inline constexpr size_t kMaxConsumerNameLength = 128;
inline constexpr int kDefaultListConsumersResults = 100;
// SubscribeToShard: a subscription's lifetime, and how soon the same
// consumer may subscribe to the same shard again (ResourceInUseException).
inline constexpr absl::Duration kSubscriptionLifetime = absl::Minutes(5);
inline constexpr absl::Duration kResubscribeInterval = absl::Seconds(5);
// State-only settings.
inline constexpr int kMaxEncryptionKeyChangesPer24h = 25;
inline constexpr size_t kMaxKeyIdLength = 2048;
inline constexpr size_t kMaxResourcePolicyBytes = 20480;
inline constexpr int kMaxWarmThroughputMiBps = 10240;  // 10 GiBps
inline constexpr absl::Duration kMinimumCommitmentPeriod = absl::Hours(24);
}  // namespace limits

// Optional per-shard throughput limits, enforced with token buckets on the
// store's clock (capacity: one second of rate). Off by default. When a bucket
// is empty the call (or, in PutBatch, the record) fails with
// ProvisionedThroughputExceededException and changes nothing.
struct ThroughputLimits {
  bool enabled = false;
  double write_bytes_per_second = 1 << 20;   // 1 MiB/s in
  double write_records_per_second = 1000;    // 1,000 records/s in
  double read_bytes_per_second = 2 << 20;    // 2 MiB/s out
  double read_calls_per_second = 5;          // 5 GetRecords/s
};

// Whether a write waits until it is durable.
//   kYes: Put/PutBatch return only after the record's bytes were fdatasync'ed
//         (group commit: concurrent writers share one sync). An acknowledged
//         record survives a crash or power loss.
//   kNo:  records reach the OS page cache before Put returns. They survive a
//         crash of the process, not of the machine.
// In-memory stores ignore it.
enum class Sync { kNo, kYes };

// Per-call write options (Put, PutBatch).
struct WriteOptions {
  std::optional<Sync> sync;  // unset: StoreOptions::sync
};

struct StoreOptions {
  // All time comes from here. Not owned; must outlive the Store.
  // nullptr means SystemClock().
  Clock* clock = nullptr;

  // How long CREATING, UPDATING (reshards, mode changes) and DELETING last,
  // measured on `clock`. Zero (the default) makes them instant. A resharding
  // is applied when its UPDATING period ends, as in Kinesis: until then the
  // parent shards stay open and take writes.
  absl::Duration create_delay = absl::ZeroDuration();
  absl::Duration update_delay = absl::ZeroDuration();
  absl::Duration delete_delay = absl::ZeroDuration();

  // The account-wide open-shard limit (DescribeLimits' ShardLimit). Creating
  // or resharding past it fails with LimitExceededException.
  int shard_limit = 500;
  int on_demand_stream_count_limit = 50;

  ThroughputLimits throughput;

  // In-memory stores pack records into 4 MiB chunks. Chunks freed by
  // retention, expiry or DeleteStream are kept for reuse up to this many
  // bytes instead of being returned to the OS: first-touch page faults cost
  // more than the rest of an append. 0 disables the pool.
  size_t memory_pool_bytes = 64 << 20;

  // File system for durable stores (Store::Open). nullptr: DefaultEnv().
  // Not owned; must outlive the Store.
  Env* env = nullptr;
  // Default durability of writes to a durable store (see Sync).
  Sync sync = Sync::kYes;
  // A shard's active segment file rolls at this size, or once its first
  // record is segment_max_age old (so retention frees a slow shard's space
  // segment by segment). Zero age: roll by size only.
  uint64_t segment_bytes = 64 << 20;
  absl::Duration segment_max_age = absl::Hours(1);
  // Segment files a durable store keeps open at once (appendable handles of
  // active segments and readers of any segment), whatever the number of
  // shards: past it the least recently used one is closed and reopened on
  // next use (docs/DURABILITY.md "Open files"). The store's other
  // descriptors (the write-ahead log, LOCK, a file being replaced) come on
  // top: a handful. At least 1.
  size_t max_open_files = 400;
  // A durable store writes a recovery point (docs/DURABILITY.md
  // "Checkpoints") once this much write-ahead log accumulated since the
  // last one, or once `checkpoint_interval` passed (on `clock`, judged when
  // a write arrives) and something was written; and at a clean shutdown.
  // A reopen after a crash replays the log written since the last one.
  uint64_t checkpoint_wal_bytes = 64 << 20;
  absl::Duration checkpoint_interval = absl::Minutes(5);  // zero: by size only
  // Scan every segment at Store::Open, checking every record, as stores did
  // before recovery points: damage anywhere is found (and listed in
  // recovery()) before the first read, at the cost of reading all data.
  // Off: a reopen reads metadata, and damage is found by the reads that
  // meet it (and by `tributary verify`).
  bool verify_on_open = false;

  // Used to build ARNs: arn:aws:kinesis:<region>:<account_id>:stream/<name>.
  std::string region = "us-east-1";
  std::string account_id = "000000000000";

  // Tests only: consulted by Put, PutBatch, GetShardIterator and GetRecords,
  // which fail when it says so (tributary/fault_injector.h; the ready-made
  // one is tributary::testing::Faults). nullptr (the default): no faults, no
  // cost. Not owned; must outlive the Store.
  FaultInjector* fault_injector = nullptr;

  // The sequence-number layout of streams this store creates (types.h
  // SequenceFormat): Kinesis' 56-digit one by default. A stream keeps the
  // layout it was created with; streams created before layouts existed have
  // kTributary's 39 digits.
  SequenceFormat sequence_format = SequenceFormat::kKinesis;

  // GetRecords returns the user records of records written in the Kinesis
  // Producer Library's aggregation format instead of the aggregates
  // themselves (tributary/kpl.h, docs/REMOTE.md "Deaggregation"). The
  // `limit` of GetRecords still counts stored (Kinesis) records.
  bool deaggregate_kpl_records = false;
};

// Options of CreateStream.
struct CreateStreamOptions {
  // Number of shards. Required for PROVISIONED; for ON_DEMAND it defaults to
  // limits::kOnDemandShardCount.
  std::optional<int> shard_count;
  StreamMode mode = StreamMode::kProvisioned;
  // Largest record (data + partition key) the stream accepts, in KiB:
  // 1024 (1 MiB, the default) .. 10240 (10 MiB).
  int max_record_size_kib = 1024;
  // Tags to attach at creation (same limits as AddTagsToStream).
  std::map<std::string, std::string> tags;
  // This stream's sequence-number layout; unset: StoreOptions::sequence_format.
  std::optional<SequenceFormat> sequence_format;
};

}  // namespace tributary

#endif  // TRIBUTARY_OPTIONS_H_
