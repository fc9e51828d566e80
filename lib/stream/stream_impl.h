// StreamImpl: one stream's shards, routing table, status machine, retention
// and tags. See lib/stream/README.md for the invariants and lock order.
#ifndef TRIBUTARY_LIB_STREAM_STREAM_IMPL_H_
#define TRIBUTARY_LIB_STREAM_STREAM_IMPL_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "log/shard_log.h"
#include "stream/iterator_token.h"
#include "stream/token_bucket.h"
#include "tributary/options.h"
#include "tributary/store.h"

namespace tributary::stream {

class StoreImpl;

// A reshard or mode change accepted while the stream goes UPDATING, applied
// when UPDATING ends. Persisted in the catalog: never renumber Kind.
struct PendingChange {
  // kState: a state-only change (encryption) that was applied at once and
  // only holds the stream UPDATING; kWarm: warm throughput reaches `target`.
  enum class Kind : uint8_t { kSplit = 1, kMerge = 2, kScale = 3, kMode = 4, kState = 5, kWarm = 6 };
  Kind kind = Kind::kSplit;
  uint32_t a = 0;  // split: the shard; merge: shard_to_merge
  uint32_t b = 0;  // merge: adjacent_shard_to_merge
  HashKey key;     // split: new starting hash key
  int32_t target = 0;  // scale: target shard count
  StreamMode mode = StreamMode::kProvisioned;  // mode change
};

// A shard. Fields fall in three groups with different protection. The
// struct is cache-line aligned and starts with what an append touches (the
// lock, the log, the counters), so that Puts spread over many shards touch
// two lines of shard state each (docs/PERFORMANCE.md).
struct alignas(64) Shard {
  // The record log and append state; guarded by data_mu, which is taken
  // after StreamImpl::mu_ (shared) and never the other way round.
  util::Mutex data_mu;
  std::unique_ptr<log::ShardLog> log ABSL_GUARDED_BY(data_mu);
  uint64_t next_counter ABSL_GUARDED_BY(data_mu) = 0;
  int64_t last_arrival_ms ABSL_GUARDED_BY(data_mu) = 0;
  std::optional<uint64_t> last_counter ABSL_GUARDED_BY(data_mu);
  // Appends look for expired records to trim at most once per second of
  // clock time (reading the oldest entry is a cache miss per shard).
  int64_t next_trim_check_ms ABSL_GUARDED_BY(data_mu) = 0;
  // Durable stores: counters below this are reserved in the catalog, so a
  // reopen after any crash starts above them (no sequence number is ever
  // issued twice, even when unsynced records were lost). Atomic: catalog
  // serialization reads it without data_mu.
  std::atomic<uint64_t> reserved_counter{0};

  // Immutable after creation.
  uint32_t index = 0;
  std::string id;
  HashKeyRange range;
  std::optional<uint32_t> parent;
  std::optional<uint32_t> adjacent_parent;
  uint64_t start_counter = 0;
  int64_t created_ms = 0;
  // The creation time Kinesis' sequence-number layout carries (kKinesis
  // streams): created_ms in seconds, but at least one second after each
  // parent's, so a child's numbers sort after its parents'. Derived from
  // created_ms and the parents; not persisted.
  int64_t seq_created_s = 0;

  // Guarded by the owning StreamImpl::mu_: written only with it held
  // exclusively, read with it held shared.
  bool closed = false;
  int64_t closed_ms = 0;
  std::optional<uint64_t> closed_last_counter;  // last record's counter at close
  // When the shard's newest record arrived (its close time if it never held
  // one): the shard is EXPIRED once this is older than the retention period.
  int64_t expires_after_ms = 0;
  std::vector<uint32_t> children;
  bool released = false;  // expired and its log freed

  // Throughput limits (off by default: then never touched); guarded by
  // data_mu.
  TokenBucket write_bytes ABSL_GUARDED_BY(data_mu);
  TokenBucket write_records ABSL_GUARDED_BY(data_mu);
  TokenBucket read_bytes ABSL_GUARDED_BY(data_mu);
  TokenBucket read_calls ABSL_GUARDED_BY(data_mu);
};

// An enhanced fan-out consumer. Its status follows the clock: CREATING until
// active_at_ms, then ACTIVE; DELETING from Deregister until gone_at_ms, then
// gone (dropped at the next change of the stream).
struct ConsumerState {
  std::string name;
  int64_t created_ms = 0;  // the ARN carries created_ms / 1000
  int64_t active_at_ms = 0;
  int64_t gone_at_ms = INT64_MAX;  // INT64_MAX: not deregistered
  std::map<std::string, std::string> tags;
  std::optional<std::string> policy;
};

// A consumer named by its stream's ARN parts: name, and the creation second
// of its ARN when the caller gave an ARN (a re-registered consumer of the
// same name has another one).
struct ConsumerKey {
  std::string name;
  std::optional<int64_t> created_s;
};

class StreamImpl {
 public:
  // Creates a stream with `shard_count` equal-width shards, CREATING until
  // `active_at`.
  StreamImpl(StoreImpl* store, std::string name, uint64_t incarnation, absl::Time now,
             absl::Time active_at, const CreateStreamOptions& options, int shard_count);
  ~StreamImpl();

  // Rebuilds a stream from its catalog blob (SerializeLocked), reopening its
  // shard logs. DataLoss (kCorruption) for a blob that does not decode.
  static absl::StatusOr<std::unique_ptr<StreamImpl>> Restore(StoreImpl* store,
                                                             const std::string& name,
                                                             std::string_view blob);

  // The catalog blob Persist writes (tests decode it with Restore).
  std::string Serialize() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes this stream's state to the store's catalog (no-op in memory).
  absl::Status Persist() ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes every shard log's storage (the stream was deleted).
  void DestroyStorage() ABSL_LOCKS_EXCLUDED(mu_);
  // After a durable store replayed its write-ahead log into the shard logs:
  // takes up what the replay added (the newest arrival times).
  void AfterRecovery() ABSL_LOCKS_EXCLUDED(mu_);
  // OK unless a shard log could not be created by the constructor.
  absl::Status init_status() const { return init_status_; }
  int AccountedShards() ABSL_LOCKS_EXCLUDED(mu_);
  bool AccountedOnDemand() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& name() const { return name_; }
  const std::string& arn() const { return arn_; }
  uint64_t incarnation() const { return incarnation_; }
  absl::Time created() const { return created_; }

  // Deletion: DELETING until `gone_at`, then the store drops the stream.
  void MarkDeleting(absl::Time now, absl::Time gone_at) ABSL_LOCKS_EXCLUDED(mu_);
  bool GoneAt(absl::Time now) const {
    return absl::FromUnixNanos(gone_at_ns_.load(std::memory_order_acquire)) <= now;
  }
  bool deleting() const {
    return gone_at_ns_.load(std::memory_order_acquire) != kNotDeleting;
  }

  // ---- data plane
  // With `sync`, returns only once the record is durable (group commit).
  // `ordering`: SequenceNumberForOrdering as the caller gave it.
  absl::StatusOr<PutRecordResult> Put(const PutRecordInput& record, HashKey hash,
                                      std::optional<std::string_view> ordering, absl::Time now,
                                      bool sync) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<PutBatchResult> PutBatch(absl::Span<const PutRecordInput> records,
                                          absl::Span<const HashKey> hashes, absl::Time now,
                                          bool sync) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::string> GetShardIterator(const GetShardIteratorRequest& request,
                                               absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // `metered`: counts against the per-shard read limits (GetRecords);
  // enhanced fan-out reads (subscriptions) are not. `continuation`, if given,
  // receives the sequence number to continue AFTER: the last record's, or
  // the one just before the read position when nothing was read; it is left
  // untouched when the shard's end was reached (no next iterator).
  absl::StatusOr<GetRecordsResult> GetRecords(const IteratorToken& token, int limit,
                                              absl::Time now, bool metered = true,
                                              std::optional<SequenceNumber>* continuation = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);

  // ---- control plane
  absl::StatusOr<StreamDescription> Describe(int limit, std::optional<uint32_t> after,
                                             absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<StreamDescriptionSummary> DescribeSummary(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  StreamSummary Summary(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  StreamStatus Status(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // When the current CREATING/UPDATING/DELETING period ends.
  absl::Time TransitionDone() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ListShardsResult> ListShards(const ShardFilter& filter,
                                              std::optional<uint32_t> exclusive_start,
                                              int max_results, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Split(std::string_view shard, std::string_view new_starting_hash_key,
                     absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Merge(std::string_view shard, std::string_view adjacent, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<UpdateShardCountResult> UpdateShardCount(int target, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status UpdateMode(StreamMode mode, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status UpdateMaxRecordSize(int kib, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ChangeRetention(int hours, bool increase, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Tags of the stream (no key) or of one of its consumers.
  absl::Status AddTags(const std::optional<ConsumerKey>& consumer,
                       const std::map<std::string, std::string>& tags, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RemoveTags(const std::optional<ConsumerKey>& consumer,
                          const std::vector<std::string>& keys, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ListTagsResult> ListTags(const std::optional<ConsumerKey>& consumer,
                                          const std::optional<std::string>& after, int limit,
                                          absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Store::GetShardStatistics.
  std::vector<ShardStatistics> Statistics(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  int OpenShardCount() ABSL_LOCKS_EXCLUDED(mu_);
  StreamMode Mode() ABSL_LOCKS_EXCLUDED(mu_);

  // ---- consumers
  // Consumers that exist (not gone), and those of them CREATING.
  int ConsumerCount(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  int CreatingConsumers(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ConsumerDescription> RegisterConsumer(std::string_view name,
                                                       const std::map<std::string, std::string>& tags,
                                                       absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ConsumerDescription> DescribeConsumer(const ConsumerKey& key, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Consumers named after `after` (all if empty), by name; up to `limit`;
  // `*more` tells whether others follow.
  absl::StatusOr<std::vector<ConsumerDescription>> ListConsumers(const std::string& after, int limit,
                                                                 bool* more, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status DeregisterConsumer(const ConsumerKey& key, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  // ---- state-only settings
  absl::Status SetEncryption(EncryptionType type, std::string_view key_id, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<EnhancedMonitoringResult> ChangeMonitoring(const std::vector<std::string>& metrics,
                                                            bool enable, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The policy of the stream (no key) or of one of its consumers.
  absl::Status PutPolicy(const std::optional<ConsumerKey>& consumer, std::string_view policy,
                         absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::optional<std::string>> GetPolicy(const std::optional<ConsumerKey>& consumer,
                                                       absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status DeletePolicy(const std::optional<ConsumerKey>& consumer, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<UpdateWarmThroughputResult> UpdateWarmThroughput(int mibps, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static constexpr int64_t kNotDeleting = INT64_MAX;

  // Applies a due CREATING/UPDATING end (and its pending reshard). Cheap when
  // nothing is pending: one atomic load.
  void FinishTransitionIfDue(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  void FinishTransitionLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts UPDATING; `change` is applied when it ends (at once for a zero
  // delay) and the new state is persisted.
  absl::Status BeginUpdate(absl::Time now, const PendingChange& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyChange(const PendingChange& change, int64_t at_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SerializeLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status PersistLocked() ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Restoring constructor: fields are filled by Restore().
  StreamImpl(StoreImpl* store, std::string name, uint64_t incarnation, absl::Time created);

  absl::Status CheckReadable() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status CheckActiveForChange(std::string_view action) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  StreamStatus StatusLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Records with arrival_ms below this are expired.
  int64_t VisibleFromMs(int64_t now_ms) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Expired(const Shard& s, int64_t now_ms) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ShardState StateOf(const Shard& s, int64_t now_ms) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ShardDescription DescribeShard(const Shard& s, int64_t now_ms) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Shard*> FindShard(std::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Shard*> FindOpenShardForReshard(std::string_view id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Shard* Route(HashKey k) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::vector<Shard*> OpenShardsByRange() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Reshard primitives (no validation: callers validate first).
  Shard* NewShard(HashKeyRange range, std::optional<uint32_t> parent,
                  std::optional<uint32_t> adjacent, uint64_t start_counter, int64_t now_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t CloseShard(Shard* s, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DoSplit(Shard* s, HashKey k, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Shard* DoMerge(Shard* a, Shard* b, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DoUniformScale(int target, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RebuildRoutes() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees the logs of shards that expired.
  void ReleaseExpired(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Frees expired records' space if a check is due. Space only: reads skip
  // expired records whether or not they are trimmed.
  void MaybeTrim(Shard* s, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->data_mu)
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Makes sure `counter` is below the shard's persisted reservation,
  // extending it (a catalog write) when needed. Durable stores only.
  absl::Status ReserveCounter(Shard* s, uint64_t counter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->data_mu)
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status ThrottleWrite(Shard* s, size_t bytes, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->data_mu);
  void InitBuckets(Shard* s, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->data_mu);

  std::string ShardNotFound(std::string_view id) const;
  // The sequence number of `counter` in shard `s`, in this stream's layout;
  // `arrival_ms` is the record's arrival (Kinesis' layout carries it).
  SequenceNumber MakeSeq(const Shard& s, uint64_t counter, int64_t arrival_ms) const;
  // A StartingSequenceNumber for shard `s`, read as Kinesis reads it for a
  // stream in its layout (its messages: another shard's number, another
  // stream's, an invalid one), or as Tributary's layout otherwise. `what`
  // names the member, `operation` the call ("GetShardIterator").
  absl::StatusOr<SequenceNumber> ParseSequenceFor(const Shard& s, std::string_view text,
                                                  std::string_view what,
                                                  std::string_view operation) const;
  std::string ConsumerArn(const ConsumerState& c) const;
  ConsumerStatus ConsumerStatusAt(const ConsumerState& c, int64_t now_ms) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ConsumerDescription DescribeConsumerLocked(const ConsumerState& c, int64_t now_ms) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The live consumer `key` names; ResourceNotFoundException if none.
  absl::StatusOr<ConsumerState*> FindConsumer(const ConsumerKey& key, int64_t now_ms) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void ReapConsumersLocked(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // CREATING: ResourceInUseException; DELETING: ResourceNotFoundException.
  absl::Status CheckExists(std::string_view action) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void ChildShardsOf(const Shard& s, std::vector<ChildShard>* out) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Set by the constructor or Restore, immutable afterwards.
  SequenceFormat seq_format_ = SequenceFormat::kTributary;

  // Immutable after construction.
  StoreImpl* const store_;
  const std::string name_;
  const std::string arn_;
  const uint64_t incarnation_;
  const absl::Time created_;
  const ThroughputLimits throughput_;

  std::atomic<bool> transition_pending_{false};
  bool constructing_ = false;  // NewShard from the constructor records failures here:
  absl::Status init_status_;
  std::atomic<int64_t> gone_at_ns_{kNotDeleting};

  mutable util::SharedMutex mu_;
  StreamStatus status_ ABSL_GUARDED_BY(mu_) = StreamStatus::kCreating;
  absl::Time transition_done_ ABSL_GUARDED_BY(mu_);
  std::optional<PendingChange> pending_ ABSL_GUARDED_BY(mu_);
  StreamMode mode_ ABSL_GUARDED_BY(mu_) = StreamMode::kProvisioned;
  size_t max_record_size_ ABSL_GUARDED_BY(mu_) = limits::kDefaultMaxRecordSize;
  int retention_hours_ ABSL_GUARDED_BY(mu_) = limits::kDefaultRetentionHours;
  int64_t trim_floor_ms_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
  std::vector<std::unique_ptr<Shard>> shards_ ABSL_GUARDED_BY(mu_);  // by index
  std::vector<std::pair<HashKey, Shard*>> routes_ ABSL_GUARDED_BY(mu_);  // open, by start
  std::map<std::string, std::string> tags_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Time> rescales_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Time> mode_changes_ ABSL_GUARDED_BY(mu_);
  // Open shards this stream holds against the account limit, counting
  // reshards that are requested but not yet applied.
  int accounted_shards_ ABSL_GUARDED_BY(mu_) = 0;
  // Whether this stream counts against the on-demand stream limit (true from
  // the moment a switch to ON_DEMAND is accepted).
  bool accounted_on_demand_ ABSL_GUARDED_BY(mu_) = false;

  // Enhanced fan-out consumers, by name (mutable: readers compute status
  // from the clock and never change it).
  mutable std::map<std::string, ConsumerState> consumers_ ABSL_GUARDED_BY(mu_);
  // State-only settings (catalog blob's trailing section).
  EncryptionType encryption_ ABSL_GUARDED_BY(mu_) = EncryptionType::kNone;
  std::string key_id_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Time> key_changes_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> metrics_ ABSL_GUARDED_BY(mu_);
  std::optional<std::string> policy_ ABSL_GUARDED_BY(mu_);
  std::optional<WarmThroughput> warm_ ABSL_GUARDED_BY(mu_);
};

// Validation shared by CreateStream and AddTagsToStream. `failed` says what
// failed in Kinesis' message for a '%' ("add tags to stream s under account
// 000000000000"; default: "add tags").
absl::Status ValidateTags(const std::map<std::string, std::string>& tags, std::string_view failed = "add tags");
// Kinesis' character rules for a tag key or value (observed), in its order:
// a character other than a Unicode letter, digit or white space or one of
// _ . / = + - % @ : is "Some tags contain invalid characters. ..."; then a
// '%' is "Failed to <failed> because some tags contained illegal
// characters. ...". Both InvalidArgumentException.
absl::Status CheckTagCharacters(const std::vector<std::string_view>& texts, std::string_view failed);

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_STREAM_IMPL_H_
