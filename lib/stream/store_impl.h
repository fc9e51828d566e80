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
#include "log/mem_log.h"
#include "stream/catalog.h"
#include "stream/stream_impl.h"
#include "tributary/store.h"

namespace tributary::stream {

// 1..128 characters of [a-zA-Z0-9_.-] (ValidationException otherwise).
absl::Status ValidateConsumerName(std::string_view name);

class StoreImpl {
 public:
  // An in-memory store.
  explicit StoreImpl(const StoreOptions& options);
  // A durable store in `dir` (created if missing): takes the directory lock,
  // reads the catalog and reopens (recovering) every shard log.
  static absl::StatusOr<std::unique_ptr<StoreImpl>> OpenDurable(const std::string& dir,
                                                                const StoreOptions& options);
  ~StoreImpl();

  bool durable() const { return catalog_ != nullptr; }
  const log::RecoveryReport& recovery() const { return recovery_; }
  // A log for a new shard: on disk for a durable store. If the disk log
  // cannot be created the store turns unhealthy and the log fails every call.
  std::unique_ptr<log::ShardLog> NewLog(const std::string& stream, uint64_t incarnation,
                                        uint32_t shard_index, uint64_t start_counter);
  absl::StatusOr<std::unique_ptr<log::ShardLog>> OpenLog(const std::string& stream,
                                                         uint64_t incarnation, uint32_t shard_index,
                                                         uint64_t start_counter,
                                                         uint64_t min_next_counter = 0);
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

  const StoreOptions& options() const { return options_; }
  Clock* clock() const { return clock_; }
  Env* env() const { return env_; }
  const std::string& dir() const { return dir_; }
  std::shared_ptr<void> GetOrCreateAttachment(std::string_view key,
                                              const std::function<std::shared_ptr<void>()>& make)
      ABSL_LOCKS_EXCLUDED(attachments_mu_);
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
  // held shared; ResourceNotFoundException if there is none.
  template <typename Fn>
  auto WithStream(std::string_view stream, absl::Time now, Fn&& fn)
      -> decltype(fn(std::declval<StreamImpl&>()));
  // Same, for the stream a token names, checking its incarnation.
  template <typename Fn>
  auto WithStreamIncarnation(const std::string& name, uint64_t incarnation, absl::Time now,
                             Fn&& fn) -> decltype(fn(std::declval<StreamImpl&>()));

  absl::Status CreateStream(std::string_view name, const CreateStreamOptions& options);
  absl::Status DeleteStream(std::string_view stream, bool enforce_consumer_deletion = true);
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
  absl::StatusOr<ListStreamsResult> ListStreams(const ListStreamsRequest& request);
  absl::StatusOr<DescribeLimitsResult> DescribeLimits();

  // ---- subscriptions (subscription.cc)
  // Every successful Put/PutBatch bumps the append generation; a subscription
  // with nothing to read waits for it to change. Cheap when nobody waits:
  // one atomic increment and one atomic load.
  uint64_t append_generation() const { return append_gen_.load(); }
  void NotifyAppend() {
    append_gen_.fetch_add(1);
    if (append_waiters_.load() > 0) WakeAppendWaiters();
  }
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
  absl::StatusOr<std::string_view> name = ResolveName(stream);
  if (!name.ok()) return name.status();
  util::ReaderLock l(&mu_);
  StreamImpl* s = FindLocked(*name, now);
  if (s == nullptr) {
    return ResourceNotFoundError("Stream " + std::string(*name) + " under account " +
                                 options_.account_id + " not found.");
  }
  return fn(*s);
}

template <typename Fn>
auto StoreImpl::WithStreamIncarnation(const std::string& name, uint64_t incarnation,
                                      absl::Time now, Fn&& fn)
    -> decltype(fn(std::declval<StreamImpl&>())) {
  util::ReaderLock l(&mu_);
  StreamImpl* s = FindLocked(name, now);
  if (s == nullptr || s->incarnation() != incarnation) {
    return ResourceNotFoundError("Stream " + name + " under account " + options_.account_id +
                                 " not found (the shard iterator refers to a deleted stream).");
  }
  return fn(*s);
}

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_STORE_IMPL_H_
