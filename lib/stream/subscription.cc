// SubscribeToShard in the library: ShardSubscription (tributary/store.h), the
// append notification it waits on, and the one-subscription-per-consumer-
// and-shard registry. docs/CONCEPTS.md "Subscriptions" states the rules.
#include <fmt/format.h>

#include "stream/iterator_token.h"
#include "stream/store_impl.h"
#include "tributary/store.h"
#include "util/status_macros.h"

namespace tributary {

using stream::IteratorToken;
using stream::StoreImpl;
using stream::StreamImpl;

namespace stream {

void StoreImpl::WakeAppendWaiters() {
  util::MutexLock l(&append_mu_);
  append_cv_.SignalAll();
}

void StoreImpl::WaitForAppend(uint64_t seen, absl::Duration timeout, const std::atomic<bool>* stop) {
  const absl::Time deadline = absl::Now() + timeout;
  util::MutexLock l(&append_mu_);
  append_waiters_.fetch_add(1);
  // NotifyAppend bumps the generation before it reads the waiter count, and
  // this thread counts itself before it reads the generation (both
  // sequentially consistent), so one of the two sees the other: either the
  // wake-up is sent (under append_mu_, after this thread waits) or the new
  // generation is seen here.
  while (append_gen_.load() == seen && !stop->load()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    append_cv_.WaitFor(&append_mu_, left);
  }
  append_waiters_.fetch_sub(1);
}

absl::StatusOr<std::shared_ptr<StoreImpl::SubscriptionSlot>> StoreImpl::ClaimSubscription(
    const std::string& key, absl::Time now) {
  util::MutexLock l(&subs_mu_);
  auto it = subs_.find(key);
  if (it != subs_.end() && !it->second->ended.load()) {
    if (now - it->second->started < limits::kResubscribeInterval) {
      return ResourceInUseError(fmt::format(
          "Another active subscription exists for this consumer and shard ({}); it started less "
          "than {} ago. Retry later.",
          key, absl::FormatDuration(limits::kResubscribeInterval)));
    }
    it->second->taken_over.store(true);
  }
  auto slot = std::make_shared<SubscriptionSlot>();
  slot->started = now;
  subs_[key] = slot;
  return slot;
}

absl::StatusOr<std::unique_ptr<SubscriptionSource>> StoreBackend::SubscribeToShard(
    std::string_view, std::string_view, const StartingPosition&) {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation,
                   "SubscribeToShard is not available on this store; read the shard with "
                   "GetShardIterator/GetRecords instead");
}

void StoreImpl::ReleaseSubscription(const std::string& key, const SubscriptionSlot* slot) {
  util::MutexLock l(&subs_mu_);
  auto it = subs_.find(key);
  if (it != subs_.end() && it->second.get() == slot) subs_.erase(it);
}

}  // namespace stream

struct ShardSubscription::State {
  // A subscription of a backend other than the local store (remote: an
  // HTTP/2 event stream): everything below but the two names is unused.
  std::unique_ptr<stream::SubscriptionSource> source;
  StoreImpl* store = nullptr;
  std::string consumer_arn;
  std::string shard_id;
  std::string stream_arn;
  stream::ConsumerKey consumer;
  IteratorToken token;
  std::string key;  // registry key
  std::shared_ptr<StoreImpl::SubscriptionSlot> slot;
  absl::Time expires;
  std::atomic<bool> cancelled{false};
  bool finished = false;  // the event ending the shard was returned
};

ShardSubscription::ShardSubscription(std::unique_ptr<State> state) : state_(std::move(state)) {
  if (state_->source != nullptr) return;
  state_->store->SubscriptionAdded();  // before the first read (see NotifyAppend)
}

ShardSubscription::~ShardSubscription() {
  if (state_->source != nullptr) return;
  state_->store->SubscriptionRemoved();
  state_->slot->ended.store(true);
  state_->store->ReleaseSubscription(state_->key, state_->slot.get());
}

const std::string& ShardSubscription::consumer_arn() const { return state_->consumer_arn; }
const std::string& ShardSubscription::shard_id() const { return state_->shard_id; }

void ShardSubscription::Cancel() {
  if (state_->source != nullptr) return state_->source->Cancel();
  state_->cancelled.store(true);
  state_->slot->ended.store(true);
  state_->store->WakeAppendWaiters();
}

absl::StatusOr<std::optional<SubscribeToShardEvent>> ShardSubscription::Next(absl::Duration max_wait) {
  State& st = *state_;
  if (st.source != nullptr) return st.source->Next(max_wait);
  bool waited = false;
  while (true) {
    if (st.cancelled.load() || st.finished) return std::nullopt;
    const absl::Time now = st.store->Now();
    if (now >= st.expires) {
      st.slot->ended.store(true);
      return std::nullopt;
    }
    if (st.slot->taken_over.load()) {
      st.finished = true;
      return ResourceInUseError(fmt::format(
          "Another subscription of consumer {} to shard {} took over this one.", st.consumer_arn,
          st.shard_id));
    }
    // Read the generation before the records, so an append that lands
    // after the read wakes the wait below.
    const uint64_t generation = st.store->append_generation();
    std::optional<SequenceNumber> continuation;
    absl::StatusOr<GetRecordsResult> r = st.store->WithStream(
        st.stream_arn, now, [&](StreamImpl& s) -> absl::StatusOr<GetRecordsResult> {
          // The consumer must still exist (a deregistered one ends its
          // subscriptions with ResourceNotFoundException).
          TRIBUTARY_RETURN_IF_ERROR(s.DescribeConsumer(st.consumer, now).status());
          if (s.incarnation() != st.token.stream_incarnation) {
            return ResourceNotFoundError(fmt::format("Stream {} was deleted.", st.stream_arn));
          }
          return s.GetRecords(st.token, limits::kMaxGetRecordsLimit, now, /*metered=*/false,
                              &continuation);
        });
    if (!r.ok()) {
      st.finished = true;
      return r.status();
    }
    const bool shard_end = !r->next_shard_iterator.has_value();
    if (!r->records.empty() || shard_end || waited || max_wait <= absl::ZeroDuration()) {
      SubscribeToShardEvent ev;
      ev.records = std::move(r->records);
      ev.millis_behind_latest = r->millis_behind_latest;
      ev.child_shards = std::move(r->child_shards);
      if (shard_end) {
        st.finished = true;
        st.slot->ended.store(true);
      } else {
        TRIBUTARY_ASSIGN_OR_RETURN(st.token, stream::DecodeIterator(*r->next_shard_iterator));
        ev.continuation_sequence_number = continuation->ToString();
      }
      return ev;
    }
    // Nothing yet: wait for an append (or the end of the lifetime), once.
    const absl::Duration left = st.expires - now;
    st.store->WaitForAppend(generation, std::min(max_wait, left), &st.cancelled);
    waited = true;
  }
}

absl::StatusOr<std::unique_ptr<ShardSubscription>> Store::SubscribeToShard(
    std::string_view consumer_arn, std::string_view shard_id, const StartingPosition& position) {
  StoreImpl* impl = backend_->local();
  if (impl == nullptr) {
    // The remote backend subscribes at its endpoint over HTTP/2
    // (lib/remote/subscription.cc); the server enforces the rules.
    TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<stream::SubscriptionSource> source,
                               backend_->SubscribeToShard(consumer_arn, shard_id, position));
    auto state = std::make_unique<ShardSubscription::State>();
    state->source = std::move(source);
    state->consumer_arn = std::string(consumer_arn);
    state->shard_id = std::string(shard_id);
    return std::unique_ptr<ShardSubscription>(new ShardSubscription(std::move(state)));
  }
  TRIBUTARY_ASSIGN_OR_RETURN(auto parsed, StoreImpl::ParseConsumerArn(consumer_arn));
  const absl::Time now = impl->Now();
  auto state = std::make_unique<ShardSubscription::State>();
  state->store = impl;
  state->consumer_arn = std::string(consumer_arn);
  state->shard_id = std::string(shard_id);
  state->stream_arn = parsed.first;
  state->consumer = parsed.second;
  GetShardIteratorRequest req;
  req.stream = parsed.first;
  req.shard_id = std::string(shard_id);
  req.type = position.type;
  req.starting_sequence_number = position.sequence_number;
  req.timestamp = position.timestamp;
  TRIBUTARY_ASSIGN_OR_RETURN(
      std::string token,
      impl->WithStream(parsed.first, now, [&](StreamImpl& s) -> absl::StatusOr<std::string> {
        TRIBUTARY_ASSIGN_OR_RETURN(ConsumerDescription c, s.DescribeConsumer(parsed.second, now));
        if (c.consumer_status != ConsumerStatus::kActive) {
          return ResourceInUseError(fmt::format(
              "Consumer {} is {}, not ACTIVE: it cannot subscribe yet.", c.consumer_arn,
              ToString(c.consumer_status)));
        }
        return s.GetShardIterator(req, now);
      }));
  TRIBUTARY_ASSIGN_OR_RETURN(state->token, stream::DecodeIterator(token));
  state->key = fmt::format("{}|{}", consumer_arn, shard_id);
  TRIBUTARY_ASSIGN_OR_RETURN(state->slot, impl->ClaimSubscription(state->key, now));
  state->expires = now + limits::kSubscriptionLifetime;
  return std::unique_ptr<ShardSubscription>(new ShardSubscription(std::move(state)));
}

}  // namespace tributary
