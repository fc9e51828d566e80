// The public Store: validates requests (shape first, as Kinesis does), then
// forwards to StoreImpl/StreamImpl.
#include "tributary/store.h"

#include <fmt/format.h>

#include <algorithm>

#include "stream/iterator_token.h"
#include "stream/store_impl.h"
#include "util/status_macros.h"

namespace tributary {
namespace {

using stream::StoreImpl;
using stream::StreamImpl;

// Unicode characters in a UTF-8 string: bytes that are not continuation bytes.
size_t Utf8Chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

absl::Status ValidateRecord(const PutRecordInput& r, std::string_view where) {
  size_t chars = Utf8Chars(r.partition_key);
  if (chars < 1 || chars > limits::kMaxPartitionKeyChars) {
    return ValidationError(fmt::format("{}PartitionKey must be 1..{} Unicode characters, got {}",
                                       where, limits::kMaxPartitionKeyChars, chars));
  }
  if (r.data.size() > limits::kMaxMaxRecordSize) {
    return ValidationError(fmt::format("{}Data is {} bytes; no stream accepts more than {}", where,
                                       r.data.size(), limits::kMaxMaxRecordSize));
  }
  return absl::OkStatus();
}

// The stream and consumer a ConsumerRef names (Kinesis: the consumer ARN, or
// the stream ARN and the consumer name, or all three if they agree).
absl::StatusOr<std::pair<std::string, stream::ConsumerKey>> ResolveConsumer(StoreImpl& impl,
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
  if (!r.stream.has_value() || !r.consumer_name.has_value()) {
    return InvalidArgumentError("Either ConsumerARN or both StreamARN and ConsumerName must be given");
  }
  TRIBUTARY_RETURN_IF_ERROR(stream::ValidateConsumerName(*r.consumer_name));
  return std::make_pair(*r.stream, stream::ConsumerKey{*r.consumer_name, std::nullopt});
}

// ResourceARN of the policy actions: a stream ARN or a consumer ARN.
absl::StatusOr<std::pair<std::string, std::optional<stream::ConsumerKey>>> ResolveResource(
    std::string_view arn) {
  if (arn.empty() || arn.size() > 2048 || arn.substr(0, 4) != "arn:") {
    return ValidationError(fmt::format("ResourceARN '{}' is not a Kinesis stream or consumer ARN",
                                       arn.substr(0, 256)));
  }
  if (arn.find("/consumer/") != std::string_view::npos) {
    TRIBUTARY_ASSIGN_OR_RETURN(auto parsed, StoreImpl::ParseConsumerArn(arn));
    return std::make_pair(parsed.first, std::optional<stream::ConsumerKey>(std::move(parsed.second)));
  }
  return std::make_pair(std::string(arn), std::optional<stream::ConsumerKey>());
}

absl::StatusOr<HashKey> RecordHash(const PutRecordInput& r) {
  if (r.explicit_hash_key.has_value()) return HashKey::Parse(*r.explicit_hash_key, "ExplicitHashKey");
  return HashKey::FromPartitionKey(r.partition_key);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::OpenInMemory(const StoreOptions& options) {
  if (options.shard_limit < 1) return ValidationError("StoreOptions::shard_limit must be >= 1");
  if (options.create_delay < absl::ZeroDuration() || options.update_delay < absl::ZeroDuration() ||
      options.delete_delay < absl::ZeroDuration()) {
    return ValidationError("StoreOptions transition delays must not be negative");
  }
  return std::unique_ptr<Store>(new Store(std::make_unique<StoreImpl>(options)));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(std::string_view directory,
                                                   const StoreOptions& options) {
  if (options.shard_limit < 1) return ValidationError("StoreOptions::shard_limit must be >= 1");
  if (options.segment_bytes < 4096) return ValidationError("StoreOptions::segment_bytes must be >= 4096");
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<StoreImpl> impl,
                             StoreImpl::OpenDurable(std::string(directory), options));
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

RecoveryReport Store::recovery() const {
  const log::RecoveryReport& r = impl_->recovery();
  return RecoveryReport{r.segments, r.records, r.truncated_bytes, r.problems};
}

Store::Store(std::unique_ptr<stream::StoreImpl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const StoreOptions& Store::options() const { return impl_->options(); }
std::string Store::StreamArn(std::string_view name) const { return impl_->Arn(name); }
const std::string& Store::directory() const { return impl_->dir(); }
Env* Store::env() const { return impl_->env(); }
std::shared_ptr<void> Store::GetOrCreateAttachment(
    std::string_view key, const std::function<std::shared_ptr<void>()>& make) {
  return impl_->GetOrCreateAttachment(key, make);
}

absl::Status Store::CreateStream(std::string_view name, const CreateStreamOptions& options) {
  return impl_->CreateStream(name, options);
}

absl::Status Store::CreateStream(std::string_view name, int shard_count) {
  CreateStreamOptions o;
  o.shard_count = shard_count;
  return impl_->CreateStream(name, o);
}

absl::Status Store::DeleteStream(std::string_view stream) {
  return impl_->DeleteStream(stream, /*enforce_consumer_deletion=*/false);
}

absl::Status Store::DeleteStream(std::string_view stream, bool enforce_consumer_deletion) {
  return impl_->DeleteStream(stream, enforce_consumer_deletion);
}

absl::StatusOr<ListStreamsResult> Store::ListStreams(const ListStreamsRequest& request) {
  return impl_->ListStreams(request);
}

absl::StatusOr<StreamDescription> Store::DescribeStream(const DescribeStreamRequest& request) {
  if (request.limit < 1 || request.limit > limits::kMaxListLimit) {
    return ValidationError(fmt::format("Limit {} is outside [1, {}]", request.limit, limits::kMaxListLimit));
  }
  std::optional<uint32_t> after;
  if (request.exclusive_start_shard_id.has_value()) {
    absl::StatusOr<uint32_t> idx = ParseShardId(*request.exclusive_start_shard_id);
    if (!idx.ok()) {
      return ValidationError(fmt::format("ExclusiveStartShardId '{}' is not a shard id",
                                         request.exclusive_start_shard_id->substr(0, 128)));
    }
    after = *idx;
  }
  absl::Time now = impl_->Now();
  return impl_->WithStream(request.stream, now, [&](StreamImpl& s) {
    return s.Describe(request.limit, after, now);
  });
}

absl::StatusOr<StreamDescriptionSummary> Store::DescribeStreamSummary(std::string_view stream) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.DescribeSummary(now); });
}

absl::Status Store::WaitUntilActive(std::string_view stream, absl::Duration timeout) {
  Clock* clock = impl_->clock();
  const absl::Time deadline = clock->Now() + timeout;
  while (true) {
    absl::Time now = clock->Now();
    absl::Time done;
    absl::StatusOr<StreamStatus> st = impl_->WithStream(
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

absl::Status Store::WaitUntilDeleted(std::string_view stream, absl::Duration timeout) {
  Clock* clock = impl_->clock();
  const absl::Time deadline = clock->Now() + timeout;
  while (true) {
    absl::Time now = clock->Now();
    absl::Time done;
    absl::Status st = impl_->WithStream(stream, now, [&](StreamImpl& s) -> absl::Status {
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

absl::StatusOr<ListShardsResult> Store::ListShards(const ListShardsRequest& req) {
  if (req.max_results.has_value() &&
      (*req.max_results < 1 || *req.max_results > limits::kMaxListLimit)) {
    return ValidationError(fmt::format("MaxResults {} is outside [1, {}]", *req.max_results,
                                       limits::kMaxListLimit));
  }
  absl::Time now = impl_->Now();
  if (req.next_token.has_value()) {
    if (req.stream.has_value() || req.exclusive_start_shard_id.has_value() ||
        req.stream_creation_timestamp.has_value() || req.shard_filter.has_value()) {
      return InvalidArgumentError(
          "NextToken cannot be combined with StreamName, StreamARN, ExclusiveStartShardId, "
          "StreamCreationTimestamp or ShardFilter: the token already names the stream and "
          "position.");
    }
    TRIBUTARY_ASSIGN_OR_RETURN(stream::PageToken t, stream::DecodePageToken(*req.next_token, 'S'));
    if (absl::FromUnixMillis(t.issued_ms) + limits::kNextTokenLifetime < now) {
      return ExpiredNextTokenError("The NextToken has expired (tokens live 300 seconds).");
    }
    ShardFilter f;
    f.type = static_cast<ShardFilterType>(t.filter_type);
    if (f.type == ShardFilterType::kAtTimestamp || f.type == ShardFilterType::kFromTimestamp) {
      f.timestamp = absl::FromUnixMillis(t.filter_arg);
    }
    int page = std::min(req.max_results.value_or(t.max_results), limits::kListShardsPageCap);
    return impl_->WithStreamIncarnation(t.stream_name, t.stream_incarnation, now, [&](StreamImpl& s) {
      return s.ListShards(f, t.after_index, page, now);
    });
  }
  if (!req.stream.has_value()) {
    return InvalidArgumentError("ListShards needs either NextToken or StreamName/StreamARN.");
  }
  ShardFilter f = req.shard_filter.value_or(ShardFilter{});
  const bool needs_id = f.type == ShardFilterType::kAfterShardId;
  const bool needs_ts =
      f.type == ShardFilterType::kAtTimestamp || f.type == ShardFilterType::kFromTimestamp;
  if (needs_id != f.shard_id.has_value()) {
    return InvalidArgumentError(fmt::format("ShardFilter.ShardId must be given with {} and only with it",
                                            ToString(ShardFilterType::kAfterShardId)));
  }
  if (needs_ts != f.timestamp.has_value()) {
    return InvalidArgumentError(
        "ShardFilter.Timestamp must be given with AT_TIMESTAMP or FROM_TIMESTAMP and only with them");
  }
  std::optional<uint32_t> after;
  if (req.exclusive_start_shard_id.has_value()) {
    absl::StatusOr<uint32_t> idx = ParseShardId(*req.exclusive_start_shard_id);
    if (!idx.ok()) {
      return ValidationError(fmt::format("ExclusiveStartShardId '{}' is not a shard id",
                                         req.exclusive_start_shard_id->substr(0, 128)));
    }
    after = *idx;
  }
  int page = std::min(req.max_results.value_or(limits::kListShardsPageCap), limits::kListShardsPageCap);
  return impl_->WithStream(*req.stream, now, [&](StreamImpl& s) -> absl::StatusOr<ListShardsResult> {
    if (req.stream_creation_timestamp.has_value() &&
        absl::ToUnixMillis(*req.stream_creation_timestamp) != absl::ToUnixMillis(s.created())) {
      return ResourceNotFoundError(fmt::format(
          "Stream {} was created at {}, not at the given StreamCreationTimestamp {}", s.name(),
          absl::FormatTime(s.created()), absl::FormatTime(*req.stream_creation_timestamp)));
    }
    return s.ListShards(f, after, page, now);
  });
}

absl::StatusOr<PutRecordResult> Store::Put(std::string_view stream, const PutRecordInput& record,
                                           std::optional<std::string_view> ordering,
                                           const WriteOptions& write_options) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateRecord(record, ""));
  TRIBUTARY_ASSIGN_OR_RETURN(HashKey hash, RecordHash(record));
  std::optional<SequenceNumber> seq;
  if (ordering.has_value()) {
    TRIBUTARY_ASSIGN_OR_RETURN(seq, SequenceNumber::Parse(*ordering, "SequenceNumberForOrdering"));
  }
  absl::Time now = impl_->Now();
  const bool sync = impl_->durable() && write_options.sync.value_or(options().sync) == Sync::kYes;
  absl::StatusOr<PutRecordResult> r = impl_->WithStream(
      stream, now, [&](StreamImpl& s) { return s.Put(record, hash, seq, now, sync); });
  if (r.ok()) impl_->NotifyAppend();
  return r;
}

absl::StatusOr<PutBatchResult> Store::PutBatch(std::string_view stream,
                                               absl::Span<const PutRecordInput> records,
                                               const WriteOptions& write_options) {
  if (records.empty() || records.size() > limits::kMaxPutBatchRecords) {
    return ValidationError(fmt::format("PutRecords takes 1..{} records, got {}",
                                       limits::kMaxPutBatchRecords, records.size()));
  }
  size_t total = 0;
  std::vector<HashKey> hashes(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    TRIBUTARY_RETURN_IF_ERROR(ValidateRecord(records[i], fmt::format("Records[{}].", i)));
    total += records[i].data.size() + records[i].partition_key.size();
  }
  if (total > limits::kMaxPutBatchBytes) {
    return InvalidArgumentError(fmt::format(
        "PutRecords request of {} bytes (data + partition keys) exceeds the {} byte limit", total,
        limits::kMaxPutBatchBytes));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    absl::StatusOr<HashKey> h = RecordHash(records[i]);
    if (!h.ok()) {
      return MakeError(h.status().code(), GetErrorType(h.status()),
                       fmt::format("Records[{}]: {}", i, std::string(h.status().message())));
    }
    hashes[i] = *h;
  }
  absl::Time now = impl_->Now();
  const bool sync = impl_->durable() && write_options.sync.value_or(options().sync) == Sync::kYes;
  absl::StatusOr<PutBatchResult> r = impl_->WithStream(
      stream, now, [&](StreamImpl& s) { return s.PutBatch(records, hashes, now, sync); });
  if (r.ok()) impl_->NotifyAppend();
  return r;
}

absl::StatusOr<std::string> Store::GetShardIterator(const GetShardIteratorRequest& request) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(request.stream, now,
                           [&](StreamImpl& s) { return s.GetShardIterator(request, now); });
}

absl::StatusOr<GetRecordsResult> Store::GetRecords(std::string_view shard_iterator, int limit) {
  if (limit < 1 || limit > limits::kMaxGetRecordsLimit) {
    return ValidationError(fmt::format("Limit {} is outside [1, {}]", limit, limits::kMaxGetRecordsLimit));
  }
  if (shard_iterator.empty() || shard_iterator.size() > 512) {
    return ValidationError("ShardIterator must be 1..512 characters");
  }
  TRIBUTARY_ASSIGN_OR_RETURN(stream::IteratorToken t, stream::DecodeIterator(shard_iterator));
  absl::Time now = impl_->Now();
  if (absl::FromUnixMillis(t.issued_ms) + limits::kIteratorLifetime < now) {
    return ExpiredIteratorError(fmt::format(
        "Iterator expired. The iterator was created at time {} while right now it is {} which is "
        "further in the future than the tolerated delay of 300000 milliseconds.",
        absl::FormatTime(absl::FromUnixMillis(t.issued_ms)), absl::FormatTime(now)));
  }
  return impl_->WithStreamIncarnation(t.stream_name, t.stream_incarnation, now,
                                      [&](StreamImpl& s) { return s.GetRecords(t, limit, now); });
}

absl::Status Store::SplitShard(std::string_view stream, std::string_view shard_to_split,
                               std::string_view new_starting_hash_key) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) {
    return s.Split(shard_to_split, new_starting_hash_key, now);
  });
}

absl::Status Store::SplitShard(std::string_view stream, std::string_view shard_to_split,
                               HashKey new_starting_hash_key) {
  return SplitShard(stream, shard_to_split, new_starting_hash_key.ToString());
}

absl::Status Store::MergeShards(std::string_view stream, std::string_view shard_to_merge,
                                std::string_view adjacent_shard_to_merge) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) {
    return s.Merge(shard_to_merge, adjacent_shard_to_merge, now);
  });
}

absl::StatusOr<UpdateShardCountResult> Store::UpdateShardCount(std::string_view stream, int target,
                                                               ScalingType) {
  if (target < 1 || target > limits::kMaxShardsPerStream * 10) {
    return ValidationError(fmt::format("TargetShardCount {} must be at least 1", target));
  }
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateShardCount(target, now); });
}

absl::Status Store::UpdateStreamMode(std::string_view stream, StreamMode mode) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateMode(mode, now); });
}

absl::Status Store::UpdateMaxRecordSize(std::string_view stream, int kib) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateMaxRecordSize(kib, now); });
}

absl::Status Store::IncreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeRetention(hours, true, now); });
}

absl::Status Store::DecreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeRetention(hours, false, now); });
}

absl::Status Store::AddTagsToStream(std::string_view stream,
                                    const std::map<std::string, std::string>& tags) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.AddTags(std::nullopt, tags, now); });
}

absl::Status Store::RemoveTagsFromStream(std::string_view stream, const std::vector<std::string>& keys) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.RemoveTags(std::nullopt, keys, now); });
}

absl::StatusOr<ListTagsResult> Store::ListTagsForStream(std::string_view stream,
                                                        std::optional<std::string> after, int limit) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.ListTags(std::nullopt, after, limit, now); });
}

absl::Status Store::TagResource(std::string_view resource_arn,
                                const std::map<std::string, std::string>& tags) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = impl_->Now();
  return impl_->WithStream(ref.first, now, [&](StreamImpl& s) { return s.AddTags(ref.second, tags, now); });
}

absl::Status Store::UntagResource(std::string_view resource_arn, const std::vector<std::string>& keys) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = impl_->Now();
  return impl_->WithStream(ref.first, now, [&](StreamImpl& s) { return s.RemoveTags(ref.second, keys, now); });
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Store::ListTagsForResource(
    std::string_view resource_arn) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = impl_->Now();
  return impl_->WithStream(ref.first, now, [&](StreamImpl& s)
                               -> absl::StatusOr<std::vector<std::pair<std::string, std::string>>> {
    // At most kMaxTagsPerStream tags exist, so one page of that size is all of them.
    TRIBUTARY_ASSIGN_OR_RETURN(ListTagsResult r,
                               s.ListTags(ref.second, std::nullopt, limits::kMaxListTagsLimit, now));
    return std::move(r.tags);
  });
}

absl::StatusOr<DescribeLimitsResult> Store::DescribeLimits() { return impl_->DescribeLimits(); }

// ---------------------------------------------------------------- consumers

std::string_view ToString(ConsumerStatus s) {
  switch (s) {
    case ConsumerStatus::kCreating:
      return "CREATING";
    case ConsumerStatus::kActive:
      return "ACTIVE";
    case ConsumerStatus::kDeleting:
      return "DELETING";
  }
  return "UNKNOWN";
}

std::string_view ToString(CommitmentStatus s) {
  switch (s) {
    case CommitmentStatus::kDisabled:
      return "DISABLED";
    case CommitmentStatus::kEnabled:
      return "ENABLED";
    case CommitmentStatus::kEnabledUntilEarliestAllowedEnd:
      return "ENABLED_UNTIL_EARLIEST_ALLOWED_END";
  }
  return "UNKNOWN";
}

absl::StatusOr<ConsumerDescription> Store::RegisterStreamConsumer(
    std::string_view stream, std::string_view consumer_name,
    const std::map<std::string, std::string>& tags) {
  TRIBUTARY_RETURN_IF_ERROR(stream::ValidateConsumerName(consumer_name));
  if (tags.size() > limits::kMaxTagsPerStream) {
    return InvalidArgumentError(fmt::format("A consumer can have at most {} tags, got {}",
                                            limits::kMaxTagsPerStream, tags.size()));
  }
  TRIBUTARY_RETURN_IF_ERROR(stream::ValidateTags(tags));
  return impl_->RegisterConsumer(stream, consumer_name, tags);
}

absl::StatusOr<ConsumerDescription> Store::DescribeStreamConsumer(const ConsumerRef& consumer) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveConsumer(*impl_, consumer));
  absl::Time now = impl_->Now();
  return impl_->WithStream(ref.first, now,
                           [&](StreamImpl& s) { return s.DescribeConsumer(ref.second, now); });
}

absl::StatusOr<ListStreamConsumersResult> Store::ListStreamConsumers(
    const ListStreamConsumersRequest& req) {
  if (req.max_results.has_value() &&
      (*req.max_results < 1 || *req.max_results > limits::kMaxListLimit)) {
    return ValidationError(fmt::format("MaxResults {} is outside [1, {}]", *req.max_results,
                                       limits::kMaxListLimit));
  }
  absl::Time now = impl_->Now();
  std::string after;
  int limit = req.max_results.value_or(limits::kDefaultListConsumersResults);
  std::optional<stream::PageToken> token;
  if (req.next_token.has_value()) {
    if (req.stream_creation_timestamp.has_value()) {
      return InvalidArgumentError(
          "NextToken cannot be combined with StreamCreationTimestamp: the token already names the "
          "stream.");
    }
    TRIBUTARY_ASSIGN_OR_RETURN(token, stream::DecodePageToken(*req.next_token, 'C'));
    if (absl::FromUnixMillis(token->issued_ms) + limits::kNextTokenLifetime < now) {
      return ExpiredNextTokenError("The NextToken has expired (tokens live 300 seconds).");
    }
    after = token->after_name;
    if (!req.max_results.has_value()) limit = token->max_results;
  }
  return impl_->WithStream(req.stream, now, [&](StreamImpl& s) -> absl::StatusOr<ListStreamConsumersResult> {
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
      stream::PageToken t;
      t.kind = 'C';
      t.stream_name = s.name();
      t.stream_incarnation = s.incarnation();
      t.issued_ms = absl::ToUnixMillis(now);
      t.max_results = limit;
      t.after_name = r.consumers.back().consumer_name;
      r.next_token = stream::EncodePageToken(t);
    }
    return r;
  });
}

absl::Status Store::DeregisterStreamConsumer(const ConsumerRef& consumer) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveConsumer(*impl_, consumer));
  absl::Time now = impl_->Now();
  return impl_->WithStream(ref.first, now,
                           [&](StreamImpl& s) { return s.DeregisterConsumer(ref.second, now); });
}

// ---------------------------------------------------------------- state-only settings

namespace {
absl::Status ValidateKeyId(std::string_view key_id) {
  if (key_id.empty() || key_id.size() > limits::kMaxKeyIdLength) {
    return ValidationError(fmt::format("KeyId must be 1..{} characters, got {}", limits::kMaxKeyIdLength,
                                       key_id.size()));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status Store::StartStreamEncryption(std::string_view stream, EncryptionType type,
                                          std::string_view key_id) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateKeyId(key_id));
  if (type != EncryptionType::kKms) {
    return InvalidArgumentError("StartStreamEncryption: EncryptionType must be KMS");
  }
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.SetEncryption(type, key_id, now); });
}

absl::Status Store::StopStreamEncryption(std::string_view stream, EncryptionType type,
                                         std::string_view key_id) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateKeyId(key_id));
  if (type != EncryptionType::kKms) {
    return InvalidArgumentError("StopStreamEncryption: EncryptionType must be KMS (the encryption to stop)");
  }
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) {
    return s.SetEncryption(EncryptionType::kNone, "", now);
  });
}

absl::StatusOr<EnhancedMonitoringResult> Store::EnableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeMonitoring(metrics, true, now); });
}

absl::StatusOr<EnhancedMonitoringResult> Store::DisableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  absl::Time now = impl_->Now();
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.ChangeMonitoring(metrics, false, now); });
}

absl::Status Store::PutResourcePolicy(std::string_view resource_arn, std::string_view policy) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  if (policy.empty() || policy.size() > limits::kMaxResourcePolicyBytes) {
    return InvalidArgumentError(fmt::format("Policy must be 1..{} bytes, got {}",
                                            limits::kMaxResourcePolicyBytes, policy.size()));
  }
  absl::Time now = impl_->Now();
  return impl_->WithStream(ref.first, now, [&](StreamImpl& s) { return s.PutPolicy(ref.second, policy, now); });
}

absl::StatusOr<std::string> Store::GetResourcePolicy(std::string_view resource_arn) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = impl_->Now();
  TRIBUTARY_ASSIGN_OR_RETURN(
      std::optional<std::string> p,
      impl_->WithStream(ref.first, now, [&](StreamImpl& s) { return s.GetPolicy(ref.second, now); }));
  return p.value_or("{}");
}

absl::Status Store::DeleteResourcePolicy(std::string_view resource_arn) {
  TRIBUTARY_ASSIGN_OR_RETURN(auto ref, ResolveResource(resource_arn));
  absl::Time now = impl_->Now();
  return impl_->WithStream(ref.first, now, [&](StreamImpl& s) { return s.DeletePolicy(ref.second, now); });
}

absl::StatusOr<AccountSettings> Store::DescribeAccountSettings() {
  return impl_->GetAccountSettings(impl_->Now());
}

absl::StatusOr<AccountSettings> Store::UpdateAccountSettings(bool minimum_throughput_billing_commitment) {
  return impl_->SetCommitment(minimum_throughput_billing_commitment, impl_->Now());
}

absl::StatusOr<UpdateWarmThroughputResult> Store::UpdateStreamWarmThroughput(std::string_view stream,
                                                                             int mibps) {
  if (mibps < 0) {
    return ValidationError(fmt::format("WarmThroughputMiBps {} must be at least 0", mibps));
  }
  if (mibps > limits::kMaxWarmThroughputMiBps) {
    return LimitExceededError(fmt::format("WarmThroughputMiBps {} exceeds the limit of {} MiBps",
                                          mibps, limits::kMaxWarmThroughputMiBps));
  }
  absl::Time now = impl_->Now();
  if (!impl_->CommitmentActive(now)) {
    return InvalidArgumentError(
        "Warm throughput needs the account's MinimumThroughputBillingCommitment to be enabled "
        "(UpdateAccountSettings).");
  }
  return impl_->WithStream(stream, now, [&](StreamImpl& s) { return s.UpdateWarmThroughput(mibps, now); });
}

}  // namespace tributary
