// StoreImpl as a StoreBackend: the in-process store under tributary::Store.
// The Store (store.cc) has checked the request's arguments; what is left is
// the part that needs this store's own state: tokens it issued, the clock,
// name resolution, and the per-stream calls on StreamImpl.
#include <fmt/format.h>

#include <algorithm>

#include "stream/iterator_token.h"
#include "stream/store_impl.h"
#include "util/status_macros.h"

namespace tributary::stream {
namespace {

// The stream and consumer a ConsumerRef names (Kinesis: the consumer ARN, or
// the stream ARN and the consumer name, or all three if they agree).
absl::StatusOr<std::pair<std::string, ConsumerKey>> ResolveConsumer(StoreImpl& impl,
                                                                    const ConsumerRef& r) {
  if (r.consumer_arn.has_value()) {
    TRIBUTARY_ASSIGN_OR_RETURN(auto parsed, StoreImpl::ParseConsumerArn(*r.consumer_arn));
    if (r.consumer_name.has_value() && *r.consumer_name != parsed.second.name) {
      return InvalidArgumentError(fmt::format("ConsumerName '{}' and ConsumerARN '{}' name different consumers",
                                              r.consumer_name->substr(0, 128),
                                              r.consumer_arn->substr(0, 256)));
    }
    if (r.stream.has_value()) {
      TRIBUTARY_ASSIGN_OR_RETURN(std::string_view a, impl.ResolveName(*r.stream));
      TRIBUTARY_ASSIGN_OR_RETURN(std::string_view b, impl.ResolveName(parsed.first));
      if (a != b) {
        return InvalidArgumentError(fmt::format("StreamARN '{}' and ConsumerARN '{}' name different streams",
                                                r.stream->substr(0, 256), r.consumer_arn->substr(0, 256)));
      }
    }
    return parsed;
  }
  // The Store checked that both are present and the name is valid.
  return std::make_pair(*r.stream, ConsumerKey{*r.consumer_name, std::nullopt});
}

// ResourceARN of the policy actions: a stream ARN or a consumer ARN (the
// Store checked its shape).
absl::StatusOr<std::pair<std::string, std::optional<ConsumerKey>>> ResolveResource(std::string_view arn) {
  if (arn.find("/consumer/") != std::string_view::npos) {
    TRIBUTARY_ASSIGN_OR_RETURN(auto parsed, StoreImpl::ParseConsumerArn(arn));
    return std::make_pair(parsed.first, std::optional<ConsumerKey>(std::move(parsed.second)));
  }
  return std::make_pair(std::string(arn), std::optional<ConsumerKey>());
}

}  // namespace

BackendKind StoreImpl::kind() const { return durable() ? BackendKind::kDurable : BackendKind::kInMemory; }

StoreCapabilities StoreImpl::capabilities() const {
  StoreCapabilities c;
  c.injectable_clock = true;
  c.configurable_transitions = true;
  c.configurable_limits = true;
  c.recovery_report = true;
  c.env = durable();
  c.sync_control = durable();
  c.in_process = true;
  c.subscribe_to_shard = true;
  return c;
}

absl::StatusOr<RecoveryReport> StoreImpl::GetRecoveryReport() const {
  const log::RecoveryReport& r = recovery_;
  RecoveryReport out{r.segments, r.records, r.truncated_bytes, r.problems};
  out.from_recovery_point = r.from_recovery_point;
  out.segments_scanned = r.segments_scanned;
  out.bytes_scanned = r.bytes_scanned;
  out.wal_files = r.wal_files;
  out.wal_bytes = r.wal_bytes;
  out.records_replayed = r.records_replayed;
  if (log_store_ != nullptr) {
    for (std::string& p : log_store_->problems()) out.problems.push_back("found after open: " + std::move(p));
  }
  return out;
}

std::string StoreImpl::StreamArn(std::string_view name) const { return Arn(name); }

absl::StatusOr<StreamDescription> StoreImpl::DescribeStream(const DescribeStreamRequest& request,
                                                            std::optional<uint32_t> after) {
  absl::Time now = Now();
  return WithStream(request.stream, now, [&](StreamImpl& s) {
    return s.Describe(request.limit, after, now);
  });
}

absl::StatusOr<StreamDescriptionSummary> StoreImpl::DescribeStreamSummary(std::string_view stream) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.DescribeSummary(now); });
}

absl::Status StoreImpl::WaitUntilActive(std::string_view stream, absl::Duration timeout) {
  Clock* clock = clock_;
  const absl::Time deadline = clock->Now() + timeout;
  while (true) {
    absl::Time now = clock->Now();
    absl::Time done;
    absl::StatusOr<StreamStatus> st = WithStream(
        stream, now, [&](StreamImpl& s) -> absl::StatusOr<StreamStatus> {
          done = s.TransitionDone();
          return s.Status(now);
        });
    if (!st.ok()) return st.status();
    if (*st == StreamStatus::kActive) return absl::OkStatus();
    if (*st == StreamStatus::kDeleting) {
      return ResourceNotFoundError(fmt::format("Stream {} is DELETING; it will not become ACTIVE", stream));
    }
    if (now >= deadline) {
      return MakeError(absl::StatusCode::kDeadlineExceeded, ErrorType::kWaiterTimeout,
                       fmt::format("Stream {} is still {} after waiting {} for ACTIVE", stream,
                                   ToString(*st), absl::FormatDuration(timeout)));
    }
    absl::Duration nap = std::clamp(done - now, absl::Milliseconds(1), absl::Seconds(1));
    clock->SleepFor(std::min(nap, deadline - now));
  }
}

absl::Status StoreImpl::WaitUntilDeleted(std::string_view stream, absl::Duration timeout) {
  Clock* clock = clock_;
  const absl::Time deadline = clock->Now() + timeout;
  while (true) {
    absl::Time now = clock->Now();
    absl::Time done;
    absl::Status st = WithStream(stream, now, [&](StreamImpl& s) -> absl::Status {
      done = s.TransitionDone();
      if (!s.deleting()) done = now + absl::Seconds(1);
      return absl::OkStatus();
    });
    if (GetErrorType(st) == ErrorType::kResourceNotFound) return absl::OkStatus();
    if (!st.ok()) return st;
    if (now >= deadline) {
      return MakeError(absl::StatusCode::kDeadlineExceeded, ErrorType::kWaiterTimeout,
                       fmt::format("Stream {} still exists after waiting {}", stream,
                                   absl::FormatDuration(timeout)));
    }
    absl::Duration nap = std::clamp(done - now, absl::Milliseconds(1), absl::Seconds(1));
    clock->SleepFor(std::min(nap, deadline - now));
  }
}

absl::StatusOr<ListShardsResult> StoreImpl::ListShards(const ListShardsRequest& req,
                                                       std::optional<uint32_t> after) {
  absl::Time now = Now();
  if (req.next_token.has_value()) {
    TRIBUTARY_ASSIGN_OR_RETURN(PageToken t, DecodePageToken(*req.next_token, 'S'));
    if (absl::FromUnixMillis(t.issued_ms) + limits::kNextTokenLifetime < now) {
      return ExpiredNextTokenError("The NextToken has expired (tokens live 300 seconds).");
    }
    ShardFilter f;
    f.type = static_cast<ShardFilterType>(t.filter_type);
    if (f.type == ShardFilterType::kAtTimestamp || f.type == ShardFilterType::kFromTimestamp) {
      f.timestamp = absl::FromUnixMillis(t.filter_arg);
    }
    int page = std::min(req.max_results.value_or(t.max_results), limits::kListShardsPageCap);
    return WithStreamIncarnation(
        t.stream_name, t.stream_incarnation, now,
        [&](StreamImpl& s) { return s.ListShards(f, t.after_index, page, now); },
        [this](const std::string& name) {
          return fmt::format("Stream {} under account {} not found.", name, options_.account_id);
        });
  }
  ShardFilter f = req.shard_filter.value_or(ShardFilter{});
  int page = std::min(req.max_results.value_or(limits::kListShardsPageCap), limits::kListShardsPageCap);
  return WithStream(*req.stream, now, [&](StreamImpl& s) -> absl::StatusOr<ListShardsResult> {
    if (req.stream_creation_timestamp.has_value() &&
        absl::ToUnixMillis(*req.stream_creation_timestamp) != absl::ToUnixMillis(s.created())) {
      return ResourceNotFoundError(fmt::format(
          "Stream {} was created at {}, not at the given StreamCreationTimestamp {}", s.name(),
          absl::FormatTime(s.created()), absl::FormatTime(*req.stream_creation_timestamp)));
    }
    return s.ListShards(f, after, page, now);
  });
}

absl::StatusOr<PutRecordResult> StoreImpl::Put(std::string_view stream, const PutRecordInput& record,
                                               HashKey hash, std::optional<std::string_view> ordering,
                                               const WriteOptions& write_options) {
  if (ordering.has_value()) {
    // The pattern check; the stream reads the number in its own layout.
    TRIBUTARY_RETURN_IF_ERROR(SequenceNumber::ParseAny(*ordering, "SequenceNumberForOrdering").status());
  }
  absl::Time now = Now();
  const bool sync = durable() && write_options.sync.value_or(options_.sync) == Sync::kYes;
  absl::StatusOr<PutRecordResult> r =
      WithStream(stream, now, [&](StreamImpl& s) { return s.Put(record, hash, ordering, now, sync); });
  if (r.ok()) NotifyAppend();
  return r;
}

absl::StatusOr<PutBatchResult> StoreImpl::PutBatch(std::string_view stream,
                                                   absl::Span<const PutRecordInput> records,
                                                   absl::Span<const HashKey> hashes,
                                                   const WriteOptions& write_options) {
  absl::Time now = Now();
  const bool sync = durable() && write_options.sync.value_or(options_.sync) == Sync::kYes;
  absl::StatusOr<PutBatchResult> r =
      WithStream(stream, now, [&](StreamImpl& s) { return s.PutBatch(records, hashes, now, sync); });
  if (r.ok()) NotifyAppend();
  return r;
}

absl::Status StoreImpl::CheckShardId(std::string_view stream, std::string_view shard_id) const {
  if (ParseShardId(shard_id).ok()) return absl::OkStatus();
  return ResourceNotFoundError(fmt::format("Could not find shard {} in stream {} under account {}.",
                                           shard_id.substr(0, 256), stream.substr(0, 256),
                                           options_.account_id));
}

absl::StatusOr<std::string> StoreImpl::GetShardIterator(const GetShardIteratorRequest& request) {
  // Kinesis' order (observed): an unreadable shard id, then the shard of a
  // stream that does not exist reads as a shard that does not.
  TRIBUTARY_RETURN_IF_ERROR(CheckShardId(request.stream, request.shard_id));
  absl::Time now = Now();
  return WithStream(
      request.stream, now, [&](StreamImpl& s) { return s.GetShardIterator(request, now); },
      [&](std::string_view name) {
        return fmt::format("Shard {} in stream {} under account {} does not exist",
                           FormatShardId(*ParseShardId(request.shard_id)), name, options_.account_id);
      });
}

namespace {

// Java's Date.toString, as Kinesis prints times in messages:
// "Mon Jan 01 00:00:00 UTC 2024".
std::string JavaDate(absl::Time t) {
  return absl::FormatTime("%a %b %d %H:%M:%S UTC %Y", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<GetRecordsResult> StoreImpl::GetRecords(std::string_view shard_iterator, int limit) {
  TRIBUTARY_ASSIGN_OR_RETURN(IteratorToken t, DecodeIterator(shard_iterator));
  absl::Time now = Now();
  if (absl::FromUnixMillis(t.issued_ms) + limits::kIteratorLifetime < now) {
    return ExpiredIteratorError(fmt::format(
        "Iterator expired. The iterator was created at time {} while right now it is {} which is "
        "further in the future than the tolerated delay of 300000 milliseconds.",
        JavaDate(absl::FromUnixMillis(t.issued_ms)), JavaDate(now)));
  }
  return WithStreamIncarnation(
      t.stream_name, t.stream_incarnation, now, [&](StreamImpl& s) { return s.GetRecords(t, limit, now); },
      [&](const std::string& name) {
        // A deleted (or re-created) stream: Kinesis says the shard is gone.
        return fmt::format("Shard {} in stream {} under account {} does not exist",
                           FormatShardId(t.shard_index), name, options_.account_id);
      });
}

absl::Status StoreImpl::SplitShard(std::string_view stream, std::string_view shard_to_split,
                                   std::string_view new_starting_hash_key) {
  TRIBUTARY_RETURN_IF_ERROR(CheckShardId(stream, shard_to_split));
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) {
    return s.Split(shard_to_split, new_starting_hash_key, now);
  });
}

absl::Status StoreImpl::MergeShards(std::string_view stream, std::string_view shard_to_merge,
                                    std::string_view adjacent_shard_to_merge) {
  TRIBUTARY_RETURN_IF_ERROR(CheckShardId(stream, shard_to_merge));
  TRIBUTARY_RETURN_IF_ERROR(CheckShardId(stream, adjacent_shard_to_merge));
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) {
    return s.Merge(shard_to_merge, adjacent_shard_to_merge, now);
  });
}

absl::StatusOr<UpdateShardCountResult> StoreImpl::UpdateShardCount(std::string_view stream, int target,
                                                                   ScalingType) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateShardCount(target, now); });
}

absl::Status StoreImpl::UpdateStreamMode(std::string_view stream, StreamMode mode) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateMode(mode, now); });
}

absl::Status StoreImpl::UpdateMaxRecordSize(std::string_view stream, int kib) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateMaxRecordSize(kib, now); });
}

absl::Status StoreImpl::IncreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeRetention(hours, true, now); });
}

absl::Status StoreImpl::DecreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeRetention(hours, false, now); });
}

absl::Status StoreImpl::AddTagsToStream(std::string_view stream,
                                        const std::map<std::string, std::string>& tags) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.AddTags(std::nullopt, tags, now); });
}

absl::Status StoreImpl::RemoveTagsFromStream(std::string_view stream, const std::vector<std::string>& keys) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.RemoveTags(std::nullopt, keys, now); });
}

absl::StatusOr<ListTagsResult> StoreImpl::ListTagsForStream(std::string_view stream,
                                                            std::optional<std::string> after, int limit) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.ListTags(std::nullopt, after, limit, now); });
}

absl::Status StoreImpl::TagResource(std::string_view resource_arn,
                                    const std::map<std::string, std::string>& tags) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = Now();
  return WithStream(ref.first, now, [&](StreamImpl& s) { return s.AddTags(ref.second, tags, now); });
}

absl::Status StoreImpl::UntagResource(std::string_view resource_arn, const std::vector<std::string>& keys) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = Now();
  return WithStream(ref.first, now, [&](StreamImpl& s) { return s.RemoveTags(ref.second, keys, now); });
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> StoreImpl::ListTagsForResource(
    std::string_view resource_arn) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = Now();
  return WithStream(ref.first, now, [&](StreamImpl& s)
                        -> absl::StatusOr<std::vector<std::pair<std::string, std::string>>> {
    // At most kMaxTagsPerStream tags exist, so one page of that size is all of them.
    TRIBUTARY_ASSIGN_OR_RETURN(ListTagsResult r,
                               s.ListTags(ref.second, std::nullopt, limits::kMaxListTagsLimit, now));
    return std::move(r.tags);
  });
}

// ---------------------------------------------------------------- consumers

absl::StatusOr<ConsumerDescription> StoreImpl::RegisterStreamConsumer(
    std::string_view stream, std::string_view consumer_name,
    const std::map<std::string, std::string>& tags) {
  return RegisterConsumer(stream, consumer_name, tags);
}

absl::StatusOr<ConsumerDescription> StoreImpl::DescribeStreamConsumer(const ConsumerRef& consumer) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveConsumer(*this, consumer));
  absl::Time now = Now();
  return WithStream(ref.first, now, [&](StreamImpl& s) { return s.DescribeConsumer(ref.second, now); });
}

absl::StatusOr<ListStreamConsumersResult> StoreImpl::ListStreamConsumers(
    const ListStreamConsumersRequest& req) {
  absl::Time now = Now();
  std::string after;
  int limit = req.max_results.value_or(limits::kDefaultListConsumersResults);
  std::optional<PageToken> token;
  if (req.next_token.has_value()) {
    TRIBUTARY_ASSIGN_OR_RETURN(token, DecodePageToken(*req.next_token, 'C'));
    if (absl::FromUnixMillis(token->issued_ms) + limits::kNextTokenLifetime < now) {
      return ExpiredNextTokenError("The NextToken has expired (tokens live 300 seconds).");
    }
    after = token->after_name;
    if (!req.max_results.has_value()) limit = token->max_results;
  }
  return WithStream(req.stream, now, [&](StreamImpl& s) -> absl::StatusOr<ListStreamConsumersResult> {
    if (token.has_value() &&
        (token->stream_name != s.name() || token->stream_incarnation != s.incarnation())) {
      return InvalidArgumentError(fmt::format("The NextToken was issued for another stream than {}",
                                              s.name()));
    }
    if (req.stream_creation_timestamp.has_value() &&
        absl::ToUnixMillis(*req.stream_creation_timestamp) != absl::ToUnixMillis(s.created())) {
      return ResourceNotFoundError(fmt::format(
          "Stream {} was created at {}, not at the given StreamCreationTimestamp {}", s.name(),
          absl::FormatTime(s.created()), absl::FormatTime(*req.stream_creation_timestamp)));
    }
    bool more = false;
    ListStreamConsumersResult r;
    TRIBUTARY_ASSIGN_OR_RETURN(r.consumers, s.ListConsumers(after, limit, &more, now));
    if (more) {
      PageToken t;
      t.kind = 'C';
      t.stream_name = s.name();
      t.stream_incarnation = s.incarnation();
      t.issued_ms = absl::ToUnixMillis(now);
      t.max_results = limit;
      t.after_name = r.consumers.back().consumer_name;
      r.next_token = EncodePageToken(t);
    }
    return r;
  });
}

absl::Status StoreImpl::DeregisterStreamConsumer(const ConsumerRef& consumer) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveConsumer(*this, consumer));
  absl::Time now = Now();
  return WithStream(ref.first, now, [&](StreamImpl& s) { return s.DeregisterConsumer(ref.second, now); });
}

// ---------------------------------------------------------------- state-only settings

absl::Status StoreImpl::StartStreamEncryption(std::string_view stream, EncryptionType type,
                                              std::string_view key_id) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.SetEncryption(type, key_id, now); });
}

absl::Status StoreImpl::StopStreamEncryption(std::string_view stream, EncryptionType, std::string_view) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.SetEncryption(EncryptionType::kNone, "", now); });
}

absl::StatusOr<EnhancedMonitoringResult> StoreImpl::EnableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeMonitoring(metrics, true, now); });
}

absl::StatusOr<EnhancedMonitoringResult> StoreImpl::DisableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  absl::Time now = Now();
  return WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeMonitoring(metrics, false, now); });
}

absl::Status StoreImpl::PutResourcePolicy(std::string_view resource_arn, std::string_view policy) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = Now();
  return WithStream(ref.first, now, [&](StreamImpl& s) { return s.PutPolicy(ref.second, policy, now); });
}

absl::StatusOr<std::string> StoreImpl::GetResourcePolicy(std::string_view resource_arn) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = Now();
  TRIBUTARY_ASSIGN_OR_RETURN(
      std::optional<std::string> p,
      WithStream(ref.first, now, [&](StreamImpl& s) { return s.GetPolicy(ref.second, now); }));
  return p.value_or("{}");
}

absl::Status StoreImpl::DeleteResourcePolicy(std::string_view resource_arn) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = Now();
  return WithStream(ref.first, now, [&](StreamImpl& s) { return s.DeletePolicy(ref.second, now); });
}

absl::StatusOr<AccountSettings> StoreImpl::DescribeAccountSettings() { return GetAccountSettings(Now()); }

absl::StatusOr<AccountSettings> StoreImpl::UpdateAccountSettings(bool minimum_throughput_billing_commitment) {
  return SetCommitment(minimum_throughput_billing_commitment, Now());
}

absl::StatusOr<UpdateWarmThroughputResult> StoreImpl::UpdateStreamWarmThroughput(std::string_view stream,
                                                                                 int mibps) {
  absl::Time now = Now();
  if (!CommitmentActive(now)) {
    return InvalidArgumentError(
        "Warm throughput needs the account's MinimumThroughputBillingCommitment to be enabled "
        "(UpdateAccountSettings).");
  }
  return WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateWarmThroughput(mibps, now); });
}

}  // namespace tributary::stream
