// StoreImpl: the map of streams, name/ARN resolution, account-wide limits.
//
// Lock order: StoreImpl::mu_ -> StreamImpl::mu_ -> Shard::data_mu. Data-plane
// calls hold StoreImpl::mu_ shared for their whole duration (so a stream
// cannot be destroyed under them); only CreateStream and the removal of
// deleted streams take it exclusively.
#ifndef TRIBUTARY_LIB_STREAM_STORE_IMPL_H_
#define TRIBUTARY_LIB_STREAM_STORE_IMPL_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "util/mutex.h"
#include "log/disk_log.h"
#include "log/log_store.h"
#include "log/mem_log.h"
#include "stream/backend.h"
#include "stream/catalog.h"
#include "stream/stream_impl.h"
#include "tributary/store.h"

namespace tributary::stream {

// 1..128 characters of [a-zA-Z0-9_.-] (ValidationException otherwise).
absl::Status ValidateConsumerName(std::string_view name);

// The local backend: its StoreBackend methods are in local_backend.cc.
class StoreImpl final : public StoreBackend {
 public:
  // An in-memory store.
  explicit StoreImpl(const StoreOptions& options);
  // A durable store in `dir` (created if missing): takes the directory lock,
  // reads the catalog and reopens (recovering) every shard log.
  static absl::StatusOr<std::unique_ptr<StoreImpl>> OpenDurable(const std::string& dir,
                                                                const StoreOptions& options);
  ~StoreImpl() override;

  bool durable() const { return catalog_ != nullptr; }
  // Durable stores: the record storage's store-wide part (null in memory).
  log::LogStore* log_store() const { return log_store_.get(); }
  const log::RecoveryReport& recovery() const { return recovery_; }
  // A log for a new shard: on disk for a durable store. If the disk log
  // cannot be created the store turns unhealthy and the log fails every call.
  std::unique_ptr<log::ShardLog> NewLog(const std::string& stream, uint64_t incarnation,
                                        uint32_t shard_index, uint64_t start_counter);
  // `create`: a new shard (its files are made now); else a shard the
  // catalog restores.
  absl::StatusOr<std::unique_ptr<log::ShardLog>> OpenLog(const std::string& stream,
                                                         uint64_t incarnation, uint32_t shard_index,
                                                         uint64_t start_counter,
                                                         uint64_t min_next_counter, bool create);
  // Writes a stream's catalog entry; `make_blob` runs under the catalog lock.
  absl::Status PersistStream(const std::string& name, const std::function<std::string()>& make_blob);
  void RemoveStreamDir(const std::string& name, uint64_t incarnation);
  // OK unless a catalog or log write failed; then the first failure. Writes
  // check it so nothing is acknowledged that the disk state cannot hold.
  absl::Status CheckHealthy() const {
    if (healthy_.load(std::memory_order_acquire)) return absl::OkStatus();
    return Failure();
  }
  void MarkUnhealthy(const absl::Status& cause);

  const StoreOptions& options() const override { return options_; }
  Clock* clock() const { return clock_; }
  Env* env() const override { return env_; }
  const std::string& dir() const { return dir_; }
  const std::string& directory() const override { return dir_; }
  std::shared_ptr<void> GetOrCreateAttachment(std::string_view key,
                                              const std::function<std::shared_ptr<void>()>& make)
      ABSL_LOCKS_EXCLUDED(attachments_mu_) override;
  absl::Time Now() const { return clock_->Now(); }
  log::ChunkPool* chunk_pool() { return &pool_; }

  std::string Arn(std::string_view name) const;
  // Accepts a stream name or ARN; returns the name. ValidationException for a
  // malformed name, ResourceNotFoundException for an ARN of another account
  // or region.
  absl::StatusOr<std::string_view> ResolveName(std::string_view stream) const;

  // Reserves `delta` open shards against options().shard_limit;
  // LimitExceededException (and nothing reserved) if that would exceed it.
  absl::Status ReserveShards(int delta, std::string_view what);
  void ReleaseShards(int n) { open_shards_.fetch_sub(n, std::memory_order_relaxed); }
  int open_shards() const { return open_shards_.load(std::memory_order_relaxed); }
  // Same for ON_DEMAND streams against options().on_demand_stream_count_limit.
  absl::Status ReserveOnDemand(std::string_view stream);
  void ReleaseOnDemand() { on_demand_streams_.fetch_sub(1, std::memory_order_relaxed); }
  int on_demand_streams() const { return on_demand_streams_.load(std::memory_order_relaxed); }

  // Runs `fn(StreamImpl&)` on the live stream named by `stream` with mu_
  // held shared; ResourceNotFoundException if there is none, with Kinesis'
  // message "Stream X under account A not found." or, given `missing`,
  // missing(X).
  template <typename Fn>
  auto WithStream(std::string_view stream, absl::Time now, Fn&& fn)
      -> decltype(fn(std::declval<StreamImpl&>()));
  template <typename Fn, typename Missing>
  auto WithStream(std::string_view stream, absl::Time now, Fn&& fn, Missing&& missing)
      -> decltype(fn(std::declval<StreamImpl&>()));
  // Same, for the stream a token names, checking its incarnation;
  // missing(name) is the message when it is gone.
  template <typename Fn, typename Missing>
  auto WithStreamIncarnation(const std::string& name, uint64_t incarnation, absl::Time now,
                             Fn&& fn, Missing&& missing) -> decltype(fn(std::declval<StreamImpl&>()));
  // ResourceNotFoundException "Could not find shard <id> in stream <stream>
  // under account <account>." for a shard id Kinesis cannot read
  // (ParseShardId), which Kinesis reports before it looks the stream up.
  absl::Status CheckShardId(std::string_view stream, std::string_view shard_id) const;

  absl::Status CreateStream(std::string_view name, const CreateStreamOptions& options) override;
  absl::Status DeleteStream(std::string_view stream, bool enforce_consumer_deletion) override;
  // Store::DeleteAllStreams: every stream gone at once (mu_ exclusive).
  absl::Status DeleteAllStreams();
  // Checks the account-wide CREATING limit and registers (mu_ exclusive, so
  // two registrations cannot both take the last slot).
  absl::StatusOr<ConsumerDescription> RegisterConsumer(std::string_view stream, std::string_view name,
                                                       const std::map<std::string, std::string>& tags);
  // A consumer ARN <stream ARN>/consumer/<name>:<epoch seconds>, split into
  // the stream ARN and the consumer key. ValidationException if malformed.
  static absl::StatusOr<std::pair<std::string, ConsumerKey>> ParseConsumerArn(std::string_view arn);
  // Account settings, in memory only.
  AccountSettings GetAccountSettings(absl::Time now) ABSL_LOCKS_EXCLUDED(account_mu_);
  AccountSettings SetCommitment(bool enable, absl::Time now) ABSL_LOCKS_EXCLUDED(account_mu_);
  bool CommitmentActive(absl::Time now) { return GetAccountSettings(now).minimum_throughput_billing_commitment != CommitmentStatus::kDisabled; }
  absl::StatusOr<ListStreamsResult> ListStreams(const ListStreamsRequest& request) override;
  absl::StatusOr<DescribeLimitsResult> DescribeLimits() override;

  // ---- StoreBackend (local_backend.cc)
  BackendKind kind() const override;
  StoreCapabilities capabilities() const override;
  absl::StatusOr<RecoveryReport> GetRecoveryReport() const override;
  std::string StreamArn(std::string_view name) const override;
  StoreImpl* local() override { return this; }
  absl::StatusOr<StreamDescription> DescribeStream(const DescribeStreamRequest& request,
                                                   std::optional<uint32_t> exclusive_start) override;
  absl::StatusOr<StreamDescriptionSummary> DescribeStreamSummary(std::string_view stream) override;
  absl::Status WaitUntilActive(std::string_view stream, absl::Duration timeout) override;
  absl::Status WaitUntilDeleted(std::string_view stream, absl::Duration timeout) override;
  absl::StatusOr<ListShardsResult> ListShards(const ListShardsRequest& request,
                                              std::optional<uint32_t> exclusive_start) override;
  absl::StatusOr<PutRecordResult> Put(std::string_view stream, const PutRecordInput& record, HashKey hash,
                                      std::optional<std::string_view> sequence_number_for_ordering,
                                      const WriteOptions& write_options) override;
  absl::StatusOr<PutBatchResult> PutBatch(std::string_view stream, absl::Span<const PutRecordInput> records,
                                          absl::Span<const HashKey> hashes,
                                          const WriteOptions& write_options) override;
  absl::StatusOr<std::string> GetShardIterator(const GetShardIteratorRequest& request) override;
  absl::StatusOr<GetRecordsResult> GetRecords(std::string_view shard_iterator, int limit) override;
  absl::Status SplitShard(std::string_view stream, std::string_view shard_to_split,
                          std::string_view new_starting_hash_key) override;
  absl::Status MergeShards(std::string_view stream, std::string_view shard_to_merge,
                           std::string_view adjacent_shard_to_merge) override;
  absl::StatusOr<UpdateShardCountResult> UpdateShardCount(std::string_view stream, int target,
                                                          ScalingType scaling_type) override;
  absl::Status UpdateStreamMode(std::string_view stream, StreamMode mode) override;
  absl::Status UpdateMaxRecordSize(std::string_view stream, int max_record_size_kib) override;
  absl::Status IncreaseStreamRetentionPeriod(std::string_view stream, int hours) override;
  absl::Status DecreaseStreamRetentionPeriod(std::string_view stream, int hours) override;
  absl::Status AddTagsToStream(std::string_view stream,
                               const std::map<std::string, std::string>& tags) override;
  absl::Status RemoveTagsFromStream(std::string_view stream,
                                    const std::vector<std::string>& tag_keys) override;
  absl::StatusOr<ListTagsResult> ListTagsForStream(std::string_view stream,
                                                   std::optional<std::string> exclusive_start_tag_key,
                                                   int limit) override;
  absl::Status TagResource(std::string_view resource_arn,
                           const std::map<std::string, std::string>& tags) override;
  absl::Status UntagResource(std::string_view resource_arn, const std::vector<std::string>& tag_keys) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListTagsForResource(
      std::string_view resource_arn) override;
  absl::StatusOr<ConsumerDescription> RegisterStreamConsumer(
      std::string_view stream, std::string_view consumer_name,
      const std::map<std::string, std::string>& tags) override;
  absl::StatusOr<ConsumerDescription> DescribeStreamConsumer(const ConsumerRef& consumer) override;
  absl::StatusOr<ListStreamConsumersResult> ListStreamConsumers(
      const ListStreamConsumersRequest& request) override;
  absl::Status DeregisterStreamConsumer(const ConsumerRef& consumer) override;
  absl::Status StartStreamEncryption(std::string_view stream, EncryptionType type,
                                     std::string_view key_id) override;
  absl::Status StopStreamEncryption(std::string_view stream, EncryptionType type,
                                    std::string_view key_id) override;
  absl::StatusOr<EnhancedMonitoringResult> EnableEnhancedMonitoring(
      std::string_view stream, const std::vector<std::string>& shard_level_metrics) override;
  absl::StatusOr<EnhancedMonitoringResult> DisableEnhancedMonitoring(
      std::string_view stream, const std::vector<std::string>& shard_level_metrics) override;
  absl::Status PutResourcePolicy(std::string_view resource_arn, std::string_view policy) override;
  absl::StatusOr<std::string> GetResourcePolicy(std::string_view resource_arn) override;
  absl::Status DeleteResourcePolicy(std::string_view resource_arn) override;
  absl::StatusOr<AccountSettings> DescribeAccountSettings() override;
  absl::StatusOr<AccountSettings> UpdateAccountSettings(bool minimum_throughput_billing_commitment) override;
  absl::StatusOr<UpdateWarmThroughputResult> UpdateStreamWarmThroughput(std::string_view stream,
                                                                        int warm_throughput_mibps) override;

  // ---- subscriptions (subscription.cc)
  // While subscriptions exist, every successful Put/PutBatch bumps the
  // append generation; a subscription with nothing to read waits for it to
  // change. Without subscriptions an append costs one atomic load of a
  // counter nobody writes (no cache-line traffic between writers).
  //
  // Why no wake-up is lost: a subscription counts itself (seq_cst) before
  // its first read, and reads under the shard's lock; an append unlocks the
  // shard, then loads the count (seq_cst). If the load missed the count,
  // the subscription's read comes after the append and sees the record.
  uint64_t append_generation() const { return append_gen_.load(); }
  void NotifyAppend() {
    if (subscriptions_.load() == 0) return;
    append_gen_.fetch_add(1);
    if (append_waiters_.load() > 0) WakeAppendWaiters();
  }
  void SubscriptionAdded() { subscriptions_.fetch_add(1); }
  void SubscriptionRemoved() { subscriptions_.fetch_sub(1); }
  void WakeAppendWaiters() ABSL_LOCKS_EXCLUDED(append_mu_);
  // Waits until the generation is no longer `seen`, `*stop` is set, or
  // `timeout` (real time) passed.
  void WaitForAppend(uint64_t seen, absl::Duration timeout, const std::atomic<bool>* stop)
      ABSL_LOCKS_EXCLUDED(append_mu_);

  // One live subscription per consumer and shard (SubscribeToShard's rule).
  struct SubscriptionSlot {
    absl::Time started;
    std::atomic<bool> taken_over{false};
    std::atomic<bool> ended{false};
  };
  // Claims the slot `key` (consumer ARN + shard id) at `now`:
  // ResourceInUseException if a live subscription claimed it less than
  // limits::kResubscribeInterval ago; an older live one is taken over.
  absl::StatusOr<std::shared_ptr<SubscriptionSlot>> ClaimSubscription(const std::string& key,
                                                                      absl::Time now)
      ABSL_LOCKS_EXCLUDED(subs_mu_);
  // Forgets `slot` if it still holds `key`.
  void ReleaseSubscription(const std::string& key, const SubscriptionSlot* slot)
      ABSL_LOCKS_EXCLUDED(subs_mu_);

 private:
  absl::Status Failure() const;
  std::string StreamDir(const std::string& name, uint64_t incarnation) const;
  absl::Status LoadCatalog();

  // Drops streams whose deletion finished. REQUIRES mu_ held exclusively.
  void ReapLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  StreamImpl* FindLocked(std::string_view name, absl::Time now) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const StoreOptions options_;
  Clock* const clock_;
  Env* const env_;
  std::string dir_;  // empty for an in-memory store
  util::Mutex account_mu_;
  AccountSettings account_ ABSL_GUARDED_BY(account_mu_);
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<Catalog> catalog_;
  // Durable stores: the WAL, file cache, recovery point and checkpoints.
  // Declared before streams_, so it outlives every shard log.
  std::unique_ptr<log::LogStore> log_store_;
  log::RecoveryReport recovery_;
  std::atomic<bool> healthy_{true};
  mutable util::Mutex failure_mu_;
  absl::Status failure_ ABSL_GUARDED_BY(failure_mu_);
  std::atomic<int> open_shards_{0};
  std::atomic<int> on_demand_streams_{0};
  log::ChunkPool pool_;  // declared before streams_: outlives every log
  // Objects of higher layers owned by the store (a leaf lock).
  util::Mutex attachments_mu_;
  std::map<std::string, std::shared_ptr<void>, std::less<>> attachments_ ABSL_GUARDED_BY(attachments_mu_);

  mutable util::SharedMutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<StreamImpl>> streams_ ABSL_GUARDED_BY(mu_);
  uint64_t next_incarnation_ ABSL_GUARDED_BY(mu_) = 1;
  std::atomic<uint64_t> next_incarnation_hint_{1};  // for catalog writes (see PersistStream)

  // Subscriptions (see NotifyAppend / ClaimSubscription).
  std::atomic<int> subscriptions_{0};
  std::atomic<uint64_t> append_gen_{0};
  std::atomic<int> append_waiters_{0};
  util::Mutex append_mu_;
  util::CondVar append_cv_;
  util::Mutex subs_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<SubscriptionSlot>> subs_ ABSL_GUARDED_BY(subs_mu_);
};

template <typename Fn>
auto StoreImpl::WithStream(std::string_view stream, absl::Time now, Fn&& fn)
    -> decltype(fn(std::declval<StreamImpl&>())) {
  return WithStream(stream, now, std::forward<Fn>(fn), [this](std::string_view name) {
    return "Stream " + std::string(name) + " under account " + options_.account_id + " not found.";
  });
}

template <typename Fn, typename Missing>
auto StoreImpl::WithStream(std::string_view stream, absl::Time now, Fn&& fn, Missing&& missing)
    -> decltype(fn(std::declval<StreamImpl&>())) {
  absl::StatusOr<std::string_view> name = ResolveName(stream);
  if (!name.ok()) return name.status();
  util::ReaderLock l(&mu_);
  StreamImpl* s = FindLocked(*name, now);
  if (s == nullptr) return ResourceNotFoundError(missing(*name));
  return fn(*s);
}

template <typename Fn, typename Missing>
auto StoreImpl::WithStreamIncarnation(const std::string& name, uint64_t incarnation,
                                      absl::Time now, Fn&& fn, Missing&& missing)
    -> decltype(fn(std::declval<StreamImpl&>())) {
  util::ReaderLock l(&mu_);
  StreamImpl* s = FindLocked(name, now);
  if (s == nullptr || s->incarnation() != incarnation) return ResourceNotFoundError(missing(name));
  return fn(*s);
}

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_STORE_IMPL_H_
