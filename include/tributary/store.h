// Store: a set of named Kinesis-style streams, in process.
//
// A Store holds streams; a stream is a set of shards that partition the
// 128-bit hash-key space; a shard is an ordered log of records. The API
// mirrors the Kinesis Data Streams actions (CreateStream, PutRecord(s),
// GetShardIterator, GetRecords, SplitShard, MergeShards, UpdateShardCount,
// ListShards, ...) with the same names, limits, errors and semantics, so that
// code tested here behaves the same against Amazon Kinesis, and so that the
// HTTP endpoint (tributary-server) is a thin adapter over this class.
//
// Wherever a call takes `stream`, it accepts a stream name or a stream ARN
// (arn:aws:kinesis:<region>:<account>:stream/<name>).
//
// Thread safety: a Store is safe for concurrent use by any number of threads.
// Appends to different shards do not serialize on a common lock; a reader
// never sees a partially written record. Results are returned by value and
// own their memory.
//
// Errors: every failure is an absl::Status carrying the Kinesis error type
// (see tributary/status.h). A rejected call changes nothing.
#ifndef TRIBUTARY_STORE_H_
#define TRIBUTARY_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tributary/options.h"
#include "tributary/status.h"
#include "tributary/types.h"

namespace tributary {

namespace stream {
class StoreBackend;
}  // namespace stream

struct RemoteOptions;  // tributary/remote.h

// ---------------------------------------------------------------- records

// One record to write. The views must stay valid for the duration of the call.
struct PutRecordInput {
  std::string_view partition_key;  // 1..256 Unicode characters
  std::string_view data;           // 0..max record size bytes (minus the key)
  // Decimal 128-bit hash key that overrides MD5(partition_key) for routing.
  std::optional<std::string_view> explicit_hash_key;
};

struct PutRecordResult {
  ShardId shard_id;  // converts to "shardId-000000000001"
  SequenceNumber sequence_number;
};

// One entry of PutBatch's result, in request order: either a sequence number
// and shard id, or an error (error_code is the Kinesis error type name, e.g.
// "ProvisionedThroughputExceededException").
struct PutBatchEntryResult {
  std::optional<SequenceNumber> sequence_number;
  std::optional<ShardId> shard_id;  // set when ok()
  std::string error_code;
  std::string error_message;
  bool ok() const { return error_code.empty(); }
};

struct PutBatchResult {
  int failed_record_count = 0;
  std::vector<PutBatchEntryResult> records;
};

// A record read back from a shard.
//
// Records that a Kinesis Producer Library (KPL) wrote in its aggregation
// format are one Kinesis record holding many user records. When the store
// deaggregates (StoreOptions::deaggregate_kpl_records,
// RemoteOptions::deaggregate_kpl_records; tributary/kpl.h), each user record
// comes back as a Record of its own: all of them carry the Kinesis record's
// sequence number and arrival time, their own partition key and data,
// `aggregated` = true and `sub_sequence_number` = their index in the
// aggregate (0, 1, ...). A user record's position in the shard is the pair
// (sequence_number, sub_sequence_number), compared in that order; a record
// that is not aggregated has sub-sequence number 0. docs/REMOTE.md
// ("Deaggregation") says how to checkpoint and resume at such a position.
struct Record {
  SequenceNumber sequence_number;
  absl::Time approximate_arrival_timestamp;  // millisecond precision
  std::string partition_key;
  std::string data;
  int64_t sub_sequence_number = 0;
  bool aggregated = false;  // a user record taken out of a KPL aggregate
};

// A shard opened by the reshard that closed the shard being read: read it
// once all of `parent_shards` are read to their end (a merge child has two).
struct ChildShard {
  std::string shard_id;
  std::vector<std::string> parent_shards;
  HashKeyRange hash_key_range;
};

struct GetRecordsResult {
  std::vector<Record> records;
  // Absent once a CLOSED shard has been read to its end; then child_shards
  // names the shards to read next (parents are drained before children).
  std::optional<std::string> next_shard_iterator;
  // How far the returned records are behind the tip of the shard, in
  // milliseconds of clock time; 0 when the reader is caught up.
  int64_t millis_behind_latest = 0;
  std::vector<ChildShard> child_shards;
  // Tributary extension, not part of Kinesis' GetRecords: how many records
  // the shard holds after the last one returned, at the time of the call.
  // The local store sets it; a backend that cannot tell (a remote Kinesis
  // endpoint) leaves it empty. The ordered consumer reports it as lag.
  std::optional<int64_t> records_behind_latest;
};

// ---------------------------------------------------------------- shards

// One shard as ListShards and DescribeStream report it. The parents are
// absent for the stream's first shards; a merge child has both.
struct ShardDescription {
  std::string shard_id;
  std::optional<std::string> parent_shard_id;
  std::optional<std::string> adjacent_parent_shard_id;
  HashKeyRange hash_key_range;
  SequenceNumber starting_sequence_number;
  // Set once the shard is CLOSED: the sequence number of its last record
  // (its starting sequence number if it never held one).
  std::optional<SequenceNumber> ending_sequence_number;
  ShardState state = ShardState::kOpen;
};

// DescribeStream's answer: the stream's settings and one page of its shards.
struct StreamDescription {
  std::string stream_name;
  std::string stream_arn;
  StreamStatus stream_status = StreamStatus::kActive;
  StreamMode stream_mode = StreamMode::kProvisioned;
  std::vector<ShardDescription> shards;  // one page, in shard-id order
  bool has_more_shards = false;
  int retention_period_hours = 24;
  absl::Time stream_creation_timestamp;
  int max_record_size_kib = 1024;
  EncryptionType encryption_type = EncryptionType::kNone;
  std::optional<std::string> key_id;  // set while encryption_type is KMS
  std::vector<std::string> shard_level_metrics;  // enhanced monitoring, sorted
};

// Warm throughput of an ON_DEMAND stream (UpdateStreamWarmThroughput).
struct WarmThroughput {
  int target_mibps = 0;
  int current_mibps = 0;
};

// DescribeStreamSummary's answer: the settings without the shard list.
struct StreamDescriptionSummary {
  std::string stream_name;
  std::string stream_arn;
  StreamStatus stream_status = StreamStatus::kActive;
  StreamMode stream_mode = StreamMode::kProvisioned;
  int retention_period_hours = 24;
  absl::Time stream_creation_timestamp;
  int open_shard_count = 0;
  int consumer_count = 0;  // registered consumers (CREATING, ACTIVE or DELETING)
  int max_record_size_kib = 1024;
  EncryptionType encryption_type = EncryptionType::kNone;
  std::optional<std::string> key_id;
  std::vector<std::string> shard_level_metrics;
  std::optional<WarmThroughput> warm_throughput;  // once set on the stream
};

// ---------------------------------------------------------------- consumers

enum class ConsumerStatus { kCreating, kActive, kDeleting };
std::string_view ToString(ConsumerStatus s);

// An enhanced fan-out consumer (RegisterStreamConsumer). Its ARN is
// <stream ARN>/consumer/<name>:<creation time in epoch seconds>, so a
// consumer registered again under the same name gets a new ARN.
struct ConsumerDescription {
  std::string consumer_name;
  std::string consumer_arn;
  ConsumerStatus consumer_status = ConsumerStatus::kCreating;
  absl::Time consumer_creation_timestamp;
  std::string stream_arn;
};

// Names a consumer: by `consumer_arn`, or by `stream` (name or ARN) and
// `consumer_name`, or all three as long as they agree (Kinesis' rule).
struct ConsumerRef {
  std::optional<std::string> stream;
  std::optional<std::string> consumer_name;
  std::optional<std::string> consumer_arn;
};

struct ListStreamConsumersRequest {
  std::string stream;  // name or ARN; required even with next_token (Kinesis)
  std::optional<std::string> next_token;
  std::optional<int> max_results;  // 1..10000, default 100
  // Must equal the stream's creation time if given; not with next_token.
  std::optional<absl::Time> stream_creation_timestamp;
};

struct ListStreamConsumersResult {
  std::vector<ConsumerDescription> consumers;  // by consumer name
  std::optional<std::string> next_token;
};

// Enhanced monitoring: the shard-level metrics before and after the call.
struct EnhancedMonitoringResult {
  std::string stream_name;
  std::string stream_arn;
  std::vector<std::string> current_shard_level_metrics;
  std::vector<std::string> desired_shard_level_metrics;
};

struct UpdateWarmThroughputResult {
  std::string stream_name;
  std::string stream_arn;
  WarmThroughput warm_throughput;  // target = requested, current = before
};

// Account settings (DescribeAccountSettings / UpdateAccountSettings).
enum class CommitmentStatus { kDisabled, kEnabled, kEnabledUntilEarliestAllowedEnd };
std::string_view ToString(CommitmentStatus s);

struct AccountSettings {
  CommitmentStatus minimum_throughput_billing_commitment = CommitmentStatus::kDisabled;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> ended_at;
  std::optional<absl::Time> earliest_allowed_end_at;
};

// DescribeStream: one page of up to `limit` shards after
// `exclusive_start_shard_id`.
struct DescribeStreamRequest {
  std::string stream;
  int limit = 100;  // 1..10000
  std::optional<std::string> exclusive_start_shard_id;
};

// One entry of ListStreams.
struct StreamSummary {
  std::string stream_name;
  std::string stream_arn;
  StreamStatus stream_status = StreamStatus::kActive;
  StreamMode stream_mode = StreamMode::kProvisioned;
  absl::Time stream_creation_timestamp;
};

// ListStreams: streams by name, paged either by `exclusive_start_stream_name`
// or by the `next_token` of the previous page.
struct ListStreamsRequest {
  int limit = 100;  // 1..10000
  std::optional<std::string> exclusive_start_stream_name;
  std::optional<std::string> next_token;
};

struct ListStreamsResult {
  std::vector<std::string> stream_names;  // sorted
  std::vector<StreamSummary> stream_summaries;
  bool has_more_streams = false;
  std::optional<std::string> next_token;
};

// Which shards ListShards returns (docs/CONCEPTS.md "ListShards" has the
// table per type).
struct ShardFilter {
  ShardFilterType type = ShardFilterType::kFromTrimHorizon;
  std::optional<std::string> shard_id;  // AFTER_SHARD_ID only
  std::optional<absl::Time> timestamp;  // AT_TIMESTAMP / FROM_TIMESTAMP only
};

// Exactly one of `stream` and `next_token` (Kinesis rule). A NextToken
// expires limits::kNextTokenLifetime after it was issued.
struct ListShardsRequest {
  std::optional<std::string> stream;
  std::optional<std::string> next_token;
  std::optional<std::string> exclusive_start_shard_id;
  std::optional<int> max_results;  // 1..10000; pages hold at most 1000
  std::optional<absl::Time> stream_creation_timestamp;
  std::optional<ShardFilter> shard_filter;
};

struct ListShardsResult {
  std::vector<ShardDescription> shards;
  std::optional<std::string> next_token;
};

// Where an iterator starts in `shard_id` of `stream` (name or ARN).
struct GetShardIteratorRequest {
  std::string stream;
  std::string shard_id;
  ShardIteratorType type = ShardIteratorType::kTrimHorizon;
  // AT_/AFTER_SEQUENCE_NUMBER only (decimal).
  std::optional<std::string> starting_sequence_number;
  // AT_TIMESTAMP only.
  std::optional<absl::Time> timestamp;
};

// UpdateShardCount's answer: open shards before and the target.
struct UpdateShardCountResult {
  std::string stream_name;
  std::string stream_arn;
  int current_shard_count = 0;
  int target_shard_count = 0;
};

// One page of ListTagsForStream.
struct ListTagsResult {
  std::vector<std::pair<std::string, std::string>> tags;  // sorted by key
  bool has_more_tags = false;
};

// What Store::Open found and repaired (docs/DURABILITY.md "Recovery").
struct RecoveryReport {
  uint64_t segments = 0;          // segments the store holds
  uint64_t records = 0;           // records they hold
  uint64_t truncated_bytes = 0;   // torn tails removed (never acknowledged as synced)
  // One line per finding (torn tail, corruption, orphans); damage found
  // after the open (by a read, or a damaged segment index rebuilt) is
  // added as it is found.
  std::vector<std::string> problems;
  // How the open went: from a recovery point (metadata only), or by
  // scanning segments (a store written before recovery points, a damaged
  // recovery point, StoreOptions::verify_on_open); and what it replayed
  // from the write-ahead log (what was written after the last recovery
  // point: none after a clean shutdown).
  bool from_recovery_point = false;
  uint64_t segments_scanned = 0;
  uint64_t bytes_scanned = 0;
  uint64_t wal_files = 0;
  uint64_t wal_bytes = 0;
  uint64_t records_replayed = 0;
};

// DescribeLimits: the account's shard limit and use, and the on-demand
// stream limit and use.
// Per-shard figures for status pages and tools (not a Kinesis action):
// GetShardStatistics.
struct ShardStatistics {
  std::string shard_id;
  // Records and bytes (data + partition key) the shard holds. Records past
  // the retention period count until their space is reclaimed (in-memory
  // stores check at most once a second on append, durable stores free a
  // segment at a time), so these can exceed what a reader would get.
  uint64_t records = 0;
  uint64_t bytes = 0;
  // The newest record's sequence number, if the shard ever held one.
  std::optional<SequenceNumber> last_sequence_number;
  // Arrival times of the oldest and newest record held; unset when empty.
  std::optional<absl::Time> oldest_arrival;
  std::optional<absl::Time> newest_arrival;
};

struct DescribeLimitsResult {
  int shard_limit = 0;
  int open_shard_count = 0;
  int on_demand_stream_count = 0;
  int on_demand_stream_count_limit = 0;
};

// ---------------------------------------------------------------- backends

// What a Store runs on: Store::OpenInMemory, Store::Open (a directory) or
// Store::OpenRemote (a Kinesis endpoint, tributary/remote.h).
enum class BackendKind { kInMemory, kDurable, kRemote };
std::string_view ToString(BackendKind kind);  // "in-memory", "durable", "remote"

// What a Store's backend lets the caller control. The stream API itself is
// the same on every backend; these are the things a remote Kinesis endpoint
// decides for itself (docs/REMOTE.md has the full table). Calls that need a
// capability the backend lacks fail with Unimplemented and say so.
struct StoreCapabilities {
  // Every clock read (record arrival, retention, iterator and token expiry,
  // CREATING/UPDATING/DELETING periods) comes from StoreOptions::clock, so a
  // ManualClock drives them. Remote: the server's clock decides; the
  // RemoteOptions clock only paces the client's own waits and retries.
  bool injectable_clock = false;
  // StoreOptions::create_delay / update_delay / delete_delay set how long
  // transitions last (zero: instant). Remote: the server decides.
  bool configurable_transitions = false;
  // StoreOptions::shard_limit and ::throughput apply. Remote: the server's.
  bool configurable_limits = false;
  // GetRecoveryReport() reports what opening the store recovered.
  bool recovery_report = false;
  // File I/O goes through StoreOptions::env (so a FaultEnv can inject faults).
  bool env = false;
  // WriteOptions::sync chooses whether a write waits for fdatasync.
  bool sync_control = false;
  // Every call is served in this process: no network, no retries.
  bool in_process = false;
  // SubscribeToShard (enhanced fan-out push). Remote: over the endpoint's
  // HTTP/2 event stream (libcurl; h2c for http://, ALPN h2 for https://).
  bool subscribe_to_shard = false;
};

// ---------------------------------------------------------------- subscriptions

// Where a subscription starts (SubscribeToShard's StartingPosition): the
// GetShardIterator types, with sequence_number for AT_/AFTER_SEQUENCE_NUMBER
// and timestamp for AT_TIMESTAMP.
struct StartingPosition {
  ShardIteratorType type = ShardIteratorType::kLatest;
  std::optional<std::string> sequence_number;
  std::optional<absl::Time> timestamp;
};

// One SubscribeToShardEvent: the records pushed since the previous event.
struct SubscribeToShardEvent {
  std::vector<Record> records;
  // Resume with AFTER_SEQUENCE_NUMBER from here (the last record's number,
  // or the position's predecessor when the event has no records). Absent in
  // the event that ends a CLOSED shard; that event carries child_shards.
  std::optional<std::string> continuation_sequence_number;
  int64_t millis_behind_latest = 0;
  std::vector<ChildShard> child_shards;
};

// An enhanced fan-out subscription of one consumer to one shard
// (Store::SubscribeToShard). It lasts limits::kSubscriptionLifetime of store
// clock time, then ends; the consumer resubscribes from the last
// continuation sequence number.
//
// Thread safety: Next() from one thread at a time; Cancel() from any
// thread. The Store must outlive the subscription.
class ShardSubscription {
 public:
  ~ShardSubscription();
  ShardSubscription(const ShardSubscription&) = delete;
  ShardSubscription& operator=(const ShardSubscription&) = delete;

  // The next event. Returns at once with the records available after the
  // subscription's position (up to 10,000 records / 10 MiB); when there are
  // none, waits up to `max_wait` of real time for new records (a Put or
  // PutBatch on the store wakes it), then returns an event without records
  // (a heartbeat that still carries the continuation and MillisBehindLatest).
  // The waits never outlast the subscription's lifetime (converted to a real
  // duration: with a ManualClock, move the clock or pass a zero max_wait).
  // nullopt: the subscription is over (its lifetime passed, it was
  // cancelled, or the event ending the shard was returned). Errors:
  // ResourceInUseException when another subscription took it over;
  // ResourceNotFoundException when the consumer or the stream went away.
  absl::StatusOr<std::optional<SubscribeToShardEvent>> Next(absl::Duration max_wait);

  // Ends the subscription: a waiting Next() returns nullopt soon, later
  // calls at once.
  void Cancel();

  const std::string& consumer_arn() const;
  const std::string& shard_id() const;

 private:
  friend class Store;
  struct State;
  explicit ShardSubscription(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// ---------------------------------------------------------------- Store

class Store {
 public:
  // A store that keeps everything in memory; it is gone when destroyed.
  static absl::StatusOr<std::unique_ptr<Store>> OpenInMemory(
      const StoreOptions& options = StoreOptions());

  // A durable store in `directory` (created if missing), on options.env.
  // Recovers on open: torn tails are truncated, corruption is reported (see
  // recovery()) and fails only the reads that need the damaged records.
  // ResourceInUseException if another process or Store holds the
  // directory; DataLoss (ErrorType::kCorruption) if the catalog is damaged.
  // On-disk format: docs/FORMAT.md.
  static absl::StatusOr<std::unique_ptr<Store>> Open(std::string_view directory,
                                                     const StoreOptions& options = StoreOptions());

  // A store whose streams live at a Kinesis endpoint (Amazon Kinesis or any
  // Kinesis-compatible server) reached over HTTP(S): see tributary/remote.h
  // and docs/REMOTE.md. Nothing is contacted until the first call.
  // InvalidArgument for options that cannot work (no region and no
  // endpoint, a malformed URL, a bad retry policy), and the credential
  // provider's error if it has no credentials.
  static absl::StatusOr<std::unique_ptr<Store>> OpenRemote(const RemoteOptions& options);

  // What the last Open recovered (empty for in-memory and remote stores;
  // GetRecoveryReport() tells these apart).
  RecoveryReport recovery() const;
  // Same, but Unimplemented on a remote store, which has no local recovery.
  absl::StatusOr<RecoveryReport> GetRecoveryReport() const;

  BackendKind backend() const;
  StoreCapabilities capabilities() const;

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The options the store was opened with. On a remote store: defaults,
  // except `clock` (the client's clock), `region` and
  // `deaggregate_kpl_records`; the server's limits and delays are its own.
  const StoreOptions& options() const;

  // ---- streams
  // CreateStream: the stream is CREATING for options().create_delay, then
  // ACTIVE. ResourceInUseException (AlreadyExists) if the name is taken.
  absl::Status CreateStream(std::string_view name, const CreateStreamOptions& options);
  // Shorthand for a PROVISIONED stream of `shard_count` shards.
  absl::Status CreateStream(std::string_view name, int shard_count);
  // The stream is DELETING for options().delete_delay, then gone (with all
  // its records). Data calls fail with ResourceNotFoundException meanwhile.
  absl::Status DeleteStream(std::string_view stream);
  // Without `enforce_consumer_deletion`, a stream with registered consumers
  // is not deleted (ResourceInUseException); with it, they go with it.
  absl::Status DeleteStream(std::string_view stream, bool enforce_consumer_deletion);
  // Stream names in order, paged. ValidationException for a limit outside
  // 1..10000; ExpiredNextTokenException / InvalidArgumentException for a
  // stale or malformed next_token.
  absl::StatusOr<ListStreamsResult> ListStreams(const ListStreamsRequest& request = {});
  // Settings and one page of shards (EXPIRED shards are never listed).
  // ResourceNotFoundException for an unknown stream; ValidationException for
  // a bad limit or shard id.
  absl::StatusOr<StreamDescription> DescribeStream(const DescribeStreamRequest& request);
  // ResourceNotFoundException for an unknown stream.
  absl::StatusOr<StreamDescriptionSummary> DescribeStreamSummary(std::string_view stream);
  // Polls the stream status on the store's clock until it is ACTIVE.
  // Returns DeadlineExceeded (ErrorType::kWaiterTimeout) if it is not ACTIVE
  // within `timeout`, ResourceNotFoundException if the stream does not exist
  // or is deleted while waiting.
  absl::Status WaitUntilActive(std::string_view stream, absl::Duration timeout);
  // Polls until the stream no longer exists (DeleteStream finished).
  absl::Status WaitUntilDeleted(std::string_view stream, absl::Duration timeout);
  // Shards that are not EXPIRED, filtered and paged (docs/CONCEPTS.md
  // "ListShards"). InvalidArgumentException for a next_token combined with
  // other fields or a filter missing its argument; ExpiredNextTokenException
  // for a token older than 300 s; ResourceNotFoundException for an unknown
  // stream (or one re-created since the token was issued).
  absl::StatusOr<ListShardsResult> ListShards(const ListShardsRequest& request);
  // ShardStatistics of every shard that is not EXPIRED, by shard id. Cheap:
  // no record is read. ResourceNotFoundException for an unknown stream.
  absl::StatusOr<std::vector<ShardStatistics>> GetShardStatistics(std::string_view stream);
  // Testing (tributary-server's POST /_tributary/reset): removes every
  // stream at once, whatever its status, with its shards, records,
  // consumers, tags and policies, in memory and on disk (a durable store
  // removes each from its catalog, then its files), and resets the account
  // settings. No DELETING period: the names are free when it returns.
  // Iterators and subscriptions of the old streams fail afterwards
  // (ResourceNotFoundException), even for a new stream of the same name.
  // Calls running concurrently finish first. Objects attached to the store
  // (GetOrCreateAttachment: the consumer's lease table) are kept.
  // Unimplemented for a remote store.
  absl::Status DeleteAllStreams();

  // ---- writing
  // Routes by MD5(partition key) (or the explicit hash key) to the open
  // shard whose range holds it. If `sequence_number_for_ordering` is given,
  // the new record's sequence number is greater than it.
  // Errors: ValidationException (key length, record size, malformed hash key
  // or sequence number), InvalidArgumentException (record larger than the
  // stream's max record size), ResourceNotFoundException (unknown, CREATING
  // or DELETING stream), ProvisionedThroughputExceededException (throughput
  // limits on), InternalFailure (I/O error of a durable store: the record
  // may or may not be stored, as with Kinesis' 500s).
  absl::StatusOr<PutRecordResult> Put(
      std::string_view stream, const PutRecordInput& record,
      std::optional<std::string_view> sequence_number_for_ordering = std::nullopt,
      const WriteOptions& write_options = WriteOptions());
  // PutRecords: 1..500 records, at most 10 MiB in all. Invalid input fails
  // the whole call; throttling fails single entries (partial failure), like
  // Kinesis. Records of one partition key keep their request order.
  absl::StatusOr<PutBatchResult> PutBatch(std::string_view stream,
                                          absl::Span<const PutRecordInput> records,
                                          const WriteOptions& write_options = WriteOptions());

  // ---- reading
  // Returns an opaque, printable token (<= 512 chars) valid for
  // limits::kIteratorLifetime of clock time. ResourceNotFoundException for an
  // unknown stream or shard (EXPIRED shards included);
  // InvalidArgumentException for a sequence number of another shard or past
  // the shard's last one, or a missing sequence number / timestamp.
  absl::StatusOr<std::string> GetShardIterator(const GetShardIteratorRequest& request);
  // Up to `limit` records (1..10000) and 10 MiB from the iterator's position,
  // and the iterator to continue with (none once a CLOSED shard is read to
  // its end). ExpiredIteratorException after 5 minutes of clock time;
  // InvalidArgumentException for a token that does not decode;
  // ResourceNotFoundException if the stream was deleted since;
  // ProvisionedThroughputExceededException (throughput limits on);
  // kCorruption (InternalFailure on the wire) if the records are damaged.
  absl::StatusOr<GetRecordsResult> GetRecords(std::string_view shard_iterator,
                                              int limit = limits::kMaxGetRecordsLimit);

  // ---- resharding (one at a time per stream; ResourceInUseException while UPDATING)
  // Children get [start, k-1] and [k, end]. REQUIRES start + 1 < k < end
  // (Kinesis' rule), else InvalidArgumentException.
  absl::Status SplitShard(std::string_view stream, std::string_view shard_to_split,
                          std::string_view new_starting_hash_key);
  // Same, with the key as a value (e.g. range.Midpoint()).
  absl::Status SplitShard(std::string_view stream, std::string_view shard_to_split,
                          HashKey new_starting_hash_key);
  // Merges two adjacent OPEN shards; the child's parent is `shard_to_merge`
  // and its adjacent parent `adjacent_shard_to_merge`.
  absl::Status MergeShards(std::string_view stream, std::string_view shard_to_merge,
                           std::string_view adjacent_shard_to_merge);
  // UNIFORM_SCALING: ends with `target` open shards of equal width (widths
  // differ by at most one key) through real splits and merges; see
  // docs/CONCEPTS.md for the algorithm and limits.
  absl::StatusOr<UpdateShardCountResult> UpdateShardCount(
      std::string_view stream, int target_shard_count,
      ScalingType scaling_type = ScalingType::kUniformScaling);
  // PROVISIONED <-> ON_DEMAND; the stream goes UPDATING. ResourceInUseException
  // unless ACTIVE; LimitExceededException past the on-demand stream limit or
  // two switches in 24 hours.
  absl::Status UpdateStreamMode(std::string_view stream, StreamMode mode);
  // 1024..10240 KiB (ValidationException otherwise); applies at once.
  // ResourceInUseException unless the stream is ACTIVE.
  absl::Status UpdateMaxRecordSize(std::string_view stream, int max_record_size_kib);

  // ---- retention (hours, 24..8760)
  // InvalidArgumentException for an "increase" to a lower value, a
  // "decrease" to a higher one, or a value outside 24..8760. A decrease
  // hides older records at once; an increase never brings expired ones back.
  absl::Status IncreaseStreamRetentionPeriod(std::string_view stream, int hours);
  absl::Status DecreaseStreamRetentionPeriod(std::string_view stream, int hours);

  // ---- tags (at most 50 per stream and per call; keys 1..128 characters,
  // values 0..256: ValidationException; an "aws:" key or more than 50 tags:
  // InvalidArgumentException)
  absl::Status AddTagsToStream(std::string_view stream,
                               const std::map<std::string, std::string>& tags);
  absl::Status RemoveTagsFromStream(std::string_view stream,
                                    const std::vector<std::string>& tag_keys);
  absl::StatusOr<ListTagsResult> ListTagsForStream(
      std::string_view stream, std::optional<std::string> exclusive_start_tag_key = std::nullopt,
      int limit = limits::kMaxListTagsLimit);

  // The resource forms (TagResource, UntagResource, ListTagsForResource):
  // `resource_arn` is a stream ARN or a consumer ARN (consumer tags are kept
  // with the consumer, persisted, and gone when it is deregistered). Same
  // limits as the stream forms: 1..50 tags per call, 50 per resource.
  // ListTagsForResource returns every tag, sorted by key (no paging).
  absl::Status TagResource(std::string_view resource_arn,
                           const std::map<std::string, std::string>& tags);
  absl::Status UntagResource(std::string_view resource_arn, const std::vector<std::string>& tag_keys);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListTagsForResource(
      std::string_view resource_arn);

  // Never fails for a live store.
  absl::StatusOr<DescribeLimitsResult> DescribeLimits();

  // ---- enhanced fan-out consumers (docs/CONCEPTS.md "Consumers")
  // The consumer is CREATING for options().create_delay, then ACTIVE. At most
  // limits::kMaxConsumersPerStream per stream (LimitExceededException), at
  // most limits::kMaxCreatingConsumers CREATING at once in the account
  // (LimitExceededException); ResourceInUseException if the name is taken
  // or the stream is CREATING. Tags: as for streams.
  absl::StatusOr<ConsumerDescription> RegisterStreamConsumer(
      std::string_view stream, std::string_view consumer_name,
      const std::map<std::string, std::string>& tags = {});
  absl::StatusOr<ConsumerDescription> DescribeStreamConsumer(const ConsumerRef& consumer);
  absl::StatusOr<ListStreamConsumersResult> ListStreamConsumers(
      const ListStreamConsumersRequest& request);
  // The consumer is DELETING for options().delete_delay, then gone.
  absl::Status DeregisterStreamConsumer(const ConsumerRef& consumer);
  // Enhanced fan-out push delivery of one shard to an ACTIVE consumer
  // (docs/CONCEPTS.md "Subscriptions"). ResourceInUseException if the
  // consumer is not ACTIVE, or if a live subscription of the same consumer
  // to the same shard started less than 5 seconds ago (store clock); a
  // subscription 5 s or more old is taken over (its Next() then fails with
  // ResourceInUseException). The position is checked as GetShardIterator
  // checks it (same errors).
  absl::StatusOr<std::unique_ptr<ShardSubscription>> SubscribeToShard(
      std::string_view consumer_arn, std::string_view shard_id, const StartingPosition& position);

  // ---- state-only settings: stored, persisted and reported, not enforced
  // StartStreamEncryption: type must be KMS, key id 1..2048 characters; the
  // stream goes UPDATING like any change (ResourceInUseException unless
  // ACTIVE); at most limits::kMaxEncryptionKeyChangesPer24h new keys per
  // rolling 24 hours (LimitExceededException).
  absl::Status StartStreamEncryption(std::string_view stream, EncryptionType type,
                                     std::string_view key_id);
  absl::Status StopStreamEncryption(std::string_view stream, EncryptionType type,
                                    std::string_view key_id);
  // Metric names as Kinesis spells them ("IncomingBytes", ..., or "ALL"),
  // 1..7 of them.
  absl::StatusOr<EnhancedMonitoringResult> EnableEnhancedMonitoring(
      std::string_view stream, const std::vector<std::string>& shard_level_metrics);
  absl::StatusOr<EnhancedMonitoringResult> DisableEnhancedMonitoring(
      std::string_view stream, const std::vector<std::string>& shard_level_metrics);
  // Resource policies of a stream ARN or a consumer ARN; the policy text is
  // kept as given (1..limits::kMaxResourcePolicyBytes bytes).
  absl::Status PutResourcePolicy(std::string_view resource_arn, std::string_view policy);
  // "{}" when the resource has no policy.
  absl::StatusOr<std::string> GetResourcePolicy(std::string_view resource_arn);
  // ResourceNotFoundException if the resource has no policy.
  absl::Status DeleteResourcePolicy(std::string_view resource_arn);
  // Account-wide; kept in memory only (not in the catalog).
  absl::StatusOr<AccountSettings> DescribeAccountSettings();
  absl::StatusOr<AccountSettings> UpdateAccountSettings(bool minimum_throughput_billing_commitment);
  // ON_DEMAND streams of an account with the minimum throughput billing
  // commitment enabled only (InvalidArgumentException otherwise); 0..
  // limits::kMaxWarmThroughputMiBps. The stream goes UPDATING; current
  // becomes target when it ends.
  absl::StatusOr<UpdateWarmThroughputResult> UpdateStreamWarmThroughput(std::string_view stream,
                                                                        int warm_throughput_mibps);

  // The ARN the store gives a stream name. Remote: built from the region and
  // RemoteOptions::account_id when that is set, otherwise the ARN the server
  // reports for the stream (one DescribeStreamSummary call; "" if it fails).
  std::string StreamArn(std::string_view name) const;

  // ---- for layers built on the store (the ordered consumer, applications)
  // The directory of a durable store (as given to Open, without trailing
  // slashes); empty for an in-memory store.
  const std::string& directory() const;
  // The Env a durable store keeps its files on: options().env, or
  // DefaultEnv() when that is null.
  Env* env() const;
  // The clock everything is timed on: options().clock, or SystemClock() when
  // that is null (the applications layer times restarts and lag with it).
  Clock* clock() const;
  // An object the store owns and destroys with itself: made by `make` on the
  // first call with `key`, returned by every later call with that key (the
  // consumer keeps its lease table here). A null result of `make` is not
  // kept (the next call tries again). Safe for concurrent use; `make` runs
  // under a store-wide lock, so keep it short.
  std::shared_ptr<void> GetOrCreateAttachment(std::string_view key,
                                              const std::function<std::shared_ptr<void>()>& make);

 private:
  explicit Store(std::unique_ptr<stream::StoreBackend> backend, bool deaggregate_kpl_records);
  std::unique_ptr<stream::StoreBackend> backend_;
  const bool deaggregate_kpl_records_;
};

}  // namespace tributary

#endif  // TRIBUTARY_STORE_H_
