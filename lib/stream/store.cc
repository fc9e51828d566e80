// The public Store: validates requests (shape first, as Kinesis does), then
// forwards to its backend (stream/backend.h): the local StoreImpl
// (local_backend.cc) or a remote Kinesis endpoint (lib/remote/).
#include "tributary/store.h"

#include <fmt/format.h>

#include <algorithm>

#include "stream/backend.h"
#include "stream/fault_hooks.h"
#include "stream/iterator_token.h"
#include "tributary/kpl.h"
#include "stream/store_impl.h"
#include "util/status_macros.h"

namespace tributary {
namespace {

using stream::StoreImpl;

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

// A ConsumerRef names a consumer by its ARN, or by stream and consumer name
// (Kinesis' rule); the backend resolves it.
absl::Status CheckConsumerRef(const ConsumerRef& r) {
  if (r.consumer_arn.has_value()) return absl::OkStatus();
  if (!r.stream.has_value() || !r.consumer_name.has_value()) {
    return InvalidArgumentError("Either ConsumerARN or both StreamARN and ConsumerName must be given");
  }
  return stream::ValidateConsumerName(*r.consumer_name);
}

// ResourceARN of the policy actions: a stream ARN or a consumer ARN.
absl::Status CheckResourceArn(std::string_view arn) {
  if (arn.empty() || arn.size() > 2048 || arn.substr(0, 4) != "arn:") {
    return ValidationError(fmt::format("ResourceARN '{}' is not a Kinesis stream or consumer ARN",
                                       arn.substr(0, 256)));
  }
  return absl::OkStatus();
}

absl::StatusOr<HashKey> RecordHash(const PutRecordInput& r) {
  if (r.explicit_hash_key.has_value()) {
    absl::StatusOr<HashKey> k = HashKey::Parse(*r.explicit_hash_key, "ExplicitHashKey");
    std::string_view s = *r.explicit_hash_key;
    if (!k.ok() && !s.empty() && s.size() <= 39 && s.find_first_not_of("0123456789") == std::string_view::npos &&
        (s.size() == 1 || s[0] != '0')) {
      // A number (the pattern 0|([1-9]\d{0,38}) holds) of 2^128 or more:
      // Kinesis' message (observed).
      return InvalidArgumentError(fmt::format(
          "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {}", s));
    }
    return k;
  }
  return HashKey::FromPartitionKey(r.partition_key);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::OpenInMemory(const StoreOptions& options) {
  if (options.shard_limit < 1) return ValidationError("StoreOptions::shard_limit must be >= 1");
  if (options.create_delay < absl::ZeroDuration() || options.update_delay < absl::ZeroDuration() ||
      options.delete_delay < absl::ZeroDuration()) {
    return ValidationError("StoreOptions transition delays must not be negative");
  }
  return std::unique_ptr<Store>(
      new Store(std::make_unique<StoreImpl>(options), options.deaggregate_kpl_records));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(std::string_view directory,
                                                   const StoreOptions& options) {
  if (options.shard_limit < 1) return ValidationError("StoreOptions::shard_limit must be >= 1");
  if (options.segment_bytes < 4096) return ValidationError("StoreOptions::segment_bytes must be >= 4096");
  if (options.max_open_files < 1) return ValidationError("StoreOptions::max_open_files must be >= 1");
  if (options.checkpoint_wal_bytes < 1) return ValidationError("StoreOptions::checkpoint_wal_bytes must be >= 1");
  if (options.checkpoint_interval < absl::ZeroDuration()) {
    return ValidationError("StoreOptions::checkpoint_interval must not be negative");
  }
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<StoreImpl> impl,
                             StoreImpl::OpenDurable(std::string(directory), options));
  return std::unique_ptr<Store>(new Store(std::move(impl), options.deaggregate_kpl_records));
}

RecoveryReport Store::recovery() const {
  absl::StatusOr<RecoveryReport> r = backend_->GetRecoveryReport();
  return r.ok() ? *std::move(r) : RecoveryReport{};
}

absl::StatusOr<RecoveryReport> Store::GetRecoveryReport() const { return backend_->GetRecoveryReport(); }

BackendKind Store::backend() const { return backend_->kind(); }
StoreCapabilities Store::capabilities() const { return backend_->capabilities(); }

std::string_view ToString(BackendKind kind) {
  switch (kind) {
    case BackendKind::kInMemory:
      return "in-memory";
    case BackendKind::kDurable:
      return "durable";
    case BackendKind::kRemote:
      return "remote";
  }
  return "unknown";
}

Store::Store(std::unique_ptr<stream::StoreBackend> backend, bool deaggregate_kpl_records)
    : backend_(std::move(backend)), deaggregate_kpl_records_(deaggregate_kpl_records) {}
Store::~Store() = default;

const StoreOptions& Store::options() const { return backend_->options(); }
std::string Store::StreamArn(std::string_view name) const { return backend_->StreamArn(name); }
const std::string& Store::directory() const { return backend_->directory(); }
Env* Store::env() const { return backend_->env(); }
Clock* Store::clock() const {
  Clock* c = backend_->options().clock;
  return c != nullptr ? c : SystemClock();
}
std::shared_ptr<void> Store::GetOrCreateAttachment(
    std::string_view key, const std::function<std::shared_ptr<void>()>& make) {
  return backend_->GetOrCreateAttachment(key, make);
}

absl::Status Store::CreateStream(std::string_view name, const CreateStreamOptions& options) {
  return backend_->CreateStream(name, options);
}

absl::Status Store::CreateStream(std::string_view name, int shard_count) {
  CreateStreamOptions o;
  o.shard_count = shard_count;
  return backend_->CreateStream(name, o);
}

absl::Status Store::DeleteStream(std::string_view stream) {
  return backend_->DeleteStream(stream, /*enforce_consumer_deletion=*/false);
}

absl::Status Store::DeleteStream(std::string_view stream, bool enforce_consumer_deletion) {
  return backend_->DeleteStream(stream, enforce_consumer_deletion);
}

absl::StatusOr<ListStreamsResult> Store::ListStreams(const ListStreamsRequest& request) {
  return backend_->ListStreams(request);
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
  return backend_->DescribeStream(request, after);
}

absl::StatusOr<StreamDescriptionSummary> Store::DescribeStreamSummary(std::string_view stream) {
  return backend_->DescribeStreamSummary(stream);
}

absl::Status Store::WaitUntilActive(std::string_view stream, absl::Duration timeout) {
  return backend_->WaitUntilActive(stream, timeout);
}

absl::Status Store::WaitUntilDeleted(std::string_view stream, absl::Duration timeout) {
  return backend_->WaitUntilDeleted(stream, timeout);
}

absl::StatusOr<ListShardsResult> Store::ListShards(const ListShardsRequest& req) {
  if (req.max_results.has_value() &&
      (*req.max_results < 1 || *req.max_results > limits::kMaxListLimit)) {
    return ValidationError(fmt::format("MaxResults {} is outside [1, {}]", *req.max_results,
                                       limits::kMaxListLimit));
  }
  if (req.next_token.has_value()) {
    if (req.stream.has_value()) {
      // Kinesis' message (observed).
      return InvalidArgumentError("NextToken and StreamName cannot be provided together.");
    }
    if (req.exclusive_start_shard_id.has_value() || req.stream_creation_timestamp.has_value() ||
        req.shard_filter.has_value()) {
      return InvalidArgumentError(
          "NextToken cannot be combined with ExclusiveStartShardId, StreamCreationTimestamp or "
          "ShardFilter: the token already names the stream and position.");
    }
    return backend_->ListShards(req, std::nullopt);
  }
  if (!req.stream.has_value()) {
    return InvalidArgumentError("Either NextToken or StreamName should be provided.");
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
  return backend_->ListShards(req, after);
}

absl::StatusOr<std::vector<ShardStatistics>> Store::GetShardStatistics(std::string_view stream) {
  stream::StoreImpl* impl = backend_->local();
  if (impl == nullptr) {
    return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation,
                     "GetShardStatistics reads a local store's shard logs; a remote store has none");
  }
  absl::Time now = impl->Now();
  return impl->WithStream(stream, now, [&](stream::StreamImpl& s) -> absl::StatusOr<std::vector<ShardStatistics>> {
    return s.Statistics(now);
  });
}

absl::Status Store::DeleteAllStreams() {
  stream::StoreImpl* impl = backend_->local();
  if (impl == nullptr) {
    return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnknownOperation,
                     "DeleteAllStreams resets a local store; a remote one is not ours to wipe");
  }
  return impl->DeleteAllStreams();
}

absl::StatusOr<PutRecordResult> Store::Put(std::string_view stream, const PutRecordInput& record,
                                           std::optional<std::string_view> ordering,
                                           const WriteOptions& write_options) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateRecord(record, ""));
  TRIBUTARY_ASSIGN_OR_RETURN(HashKey hash, RecordHash(record));
  if (FaultInjector* f = options().fault_injector) TRIBUTARY_RETURN_IF_ERROR(f->OnPut(stream, record));
  return backend_->Put(stream, record, hash, ordering, write_options);
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
      // Kinesis' own message for a key beyond 2^128-1 names no record.
      if (GetErrorType(h.status()) == ErrorType::kInvalidArgument) return h.status();
      return MakeError(h.status().code(), GetErrorType(h.status()),
                       fmt::format("Records[{}]: {}", i, std::string(h.status().message())));
    }
    hashes[i] = *h;
  }
  auto write = [&](absl::Span<const PutRecordInput> rs, absl::Span<const HashKey> hs) {
    return backend_->PutBatch(stream, rs, hs, write_options);
  };
  return options().fault_injector == nullptr
      ? write(records, hashes)
      : stream::PutBatchWithFaults(*options().fault_injector, stream, records, hashes, write);
}

absl::StatusOr<std::string> Store::GetShardIterator(const GetShardIteratorRequest& request) {
  if (FaultInjector* f = options().fault_injector) TRIBUTARY_RETURN_IF_ERROR(f->OnGetShardIterator(request));
  return backend_->GetShardIterator(request);
}

absl::StatusOr<GetRecordsResult> Store::GetRecords(std::string_view shard_iterator, int limit) {
  if (limit < 1 || limit > limits::kMaxGetRecordsLimit) {
    return ValidationError(fmt::format("Limit {} is outside [1, {}]", limit, limits::kMaxGetRecordsLimit));
  }
  if (shard_iterator.empty() || shard_iterator.size() > 512) {
    return ValidationError("ShardIterator must be 1..512 characters");
  }
  if (FaultInjector* f = options().fault_injector) {
    // The hook names the stream and shard; a local iterator carries both. A
    // local iterator that does not decode gets the backend's own error; a
    // remote one is opaque, so there the hook sees empty names.
    absl::StatusOr<stream::IteratorToken> t = stream::DecodeIterator(shard_iterator);
    if (t.ok()) {
      TRIBUTARY_RETURN_IF_ERROR(f->OnGetRecords(t->stream_name, FormatShardId(t->shard_index)));
    } else if (backend_->local() == nullptr) {
      TRIBUTARY_RETURN_IF_ERROR(f->OnGetRecords("", ""));
    }
  }
  absl::StatusOr<GetRecordsResult> r = backend_->GetRecords(shard_iterator, limit);
  if (deaggregate_kpl_records_ && r.ok()) DeaggregateRecords(&r->records);
  return r;
}

absl::Status Store::SplitShard(std::string_view stream, std::string_view shard_to_split,
                               std::string_view new_starting_hash_key) {
  return backend_->SplitShard(stream, shard_to_split, new_starting_hash_key);
}

absl::Status Store::SplitShard(std::string_view stream, std::string_view shard_to_split,
                               HashKey new_starting_hash_key) {
  return SplitShard(stream, shard_to_split, new_starting_hash_key.ToString());
}

absl::Status Store::MergeShards(std::string_view stream, std::string_view shard_to_merge,
                                std::string_view adjacent_shard_to_merge) {
  return backend_->MergeShards(stream, shard_to_merge, adjacent_shard_to_merge);
}

absl::StatusOr<UpdateShardCountResult> Store::UpdateShardCount(std::string_view stream, int target,
                                                               ScalingType scaling_type) {
  if (target < 1 || target > limits::kMaxShardsPerStream * 10) {
    return ValidationError(fmt::format("TargetShardCount {} must be at least 1", target));
  }
  return backend_->UpdateShardCount(stream, target, scaling_type);
}

absl::Status Store::UpdateStreamMode(std::string_view stream, StreamMode mode) {
  return backend_->UpdateStreamMode(stream, mode);
}

absl::Status Store::UpdateMaxRecordSize(std::string_view stream, int kib) {
  return backend_->UpdateMaxRecordSize(stream, kib);
}

absl::Status Store::IncreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  return backend_->IncreaseStreamRetentionPeriod(stream, hours);
}

absl::Status Store::DecreaseStreamRetentionPeriod(std::string_view stream, int hours) {
  return backend_->DecreaseStreamRetentionPeriod(stream, hours);
}

absl::Status Store::AddTagsToStream(std::string_view stream,
                                    const std::map<std::string, std::string>& tags) {
  return backend_->AddTagsToStream(stream, tags);
}

absl::Status Store::RemoveTagsFromStream(std::string_view stream, const std::vector<std::string>& keys) {
  return backend_->RemoveTagsFromStream(stream, keys);
}

absl::StatusOr<ListTagsResult> Store::ListTagsForStream(std::string_view stream,
                                                        std::optional<std::string> after, int limit) {
  return backend_->ListTagsForStream(stream, std::move(after), limit);
}

absl::Status Store::TagResource(std::string_view resource_arn,
                                const std::map<std::string, std::string>& tags) {
  TRIBUTARY_RETURN_IF_ERROR(CheckResourceArn(resource_arn));
  return backend_->TagResource(resource_arn, tags);
}

absl::Status Store::UntagResource(std::string_view resource_arn, const std::vector<std::string>& keys) {
  TRIBUTARY_RETURN_IF_ERROR(CheckResourceArn(resource_arn));
  return backend_->UntagResource(resource_arn, keys);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Store::ListTagsForResource(
    std::string_view resource_arn) {
  TRIBUTARY_RETURN_IF_ERROR(CheckResourceArn(resource_arn));
  return backend_->ListTagsForResource(resource_arn);
}

absl::StatusOr<DescribeLimitsResult> Store::DescribeLimits() { return backend_->DescribeLimits(); }

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
  return backend_->RegisterStreamConsumer(stream, consumer_name, tags);
}

absl::StatusOr<ConsumerDescription> Store::DescribeStreamConsumer(const ConsumerRef& consumer) {
  TRIBUTARY_RETURN_IF_ERROR(CheckConsumerRef(consumer));
  return backend_->DescribeStreamConsumer(consumer);
}

absl::StatusOr<ListStreamConsumersResult> Store::ListStreamConsumers(
    const ListStreamConsumersRequest& req) {
  if (req.max_results.has_value() &&
      (*req.max_results < 1 || *req.max_results > limits::kMaxListLimit)) {
    return ValidationError(fmt::format("MaxResults {} is outside [1, {}]", *req.max_results,
                                       limits::kMaxListLimit));
  }
  if (req.next_token.has_value() && req.stream_creation_timestamp.has_value()) {
    return InvalidArgumentError(
        "NextToken cannot be combined with StreamCreationTimestamp: the token already names the "
        "stream.");
  }
  return backend_->ListStreamConsumers(req);
}

absl::Status Store::DeregisterStreamConsumer(const ConsumerRef& consumer) {
  TRIBUTARY_RETURN_IF_ERROR(CheckConsumerRef(consumer));
  return backend_->DeregisterStreamConsumer(consumer);
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
  return backend_->StartStreamEncryption(stream, type, key_id);
}

absl::Status Store::StopStreamEncryption(std::string_view stream, EncryptionType type,
                                         std::string_view key_id) {
  TRIBUTARY_RETURN_IF_ERROR(ValidateKeyId(key_id));
  if (type != EncryptionType::kKms) {
    return InvalidArgumentError("StopStreamEncryption: EncryptionType must be KMS (the encryption to stop)");
  }
  return backend_->StopStreamEncryption(stream, type, key_id);
}

absl::StatusOr<EnhancedMonitoringResult> Store::EnableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  return backend_->EnableEnhancedMonitoring(stream, metrics);
}

absl::StatusOr<EnhancedMonitoringResult> Store::DisableEnhancedMonitoring(
    std::string_view stream, const std::vector<std::string>& metrics) {
  return backend_->DisableEnhancedMonitoring(stream, metrics);
}

absl::Status Store::PutResourcePolicy(std::string_view resource_arn, std::string_view policy) {
  TRIBUTARY_RETURN_IF_ERROR(CheckResourceArn(resource_arn));
  if (policy.empty() || policy.size() > limits::kMaxResourcePolicyBytes) {
    return InvalidArgumentError(fmt::format("Policy must be 1..{} bytes, got {}",
                                            limits::kMaxResourcePolicyBytes, policy.size()));
  }
  return backend_->PutResourcePolicy(resource_arn, policy);
}

absl::StatusOr<std::string> Store::GetResourcePolicy(std::string_view resource_arn) {
  TRIBUTARY_RETURN_IF_ERROR(CheckResourceArn(resource_arn));
  return backend_->GetResourcePolicy(resource_arn);
}

absl::Status Store::DeleteResourcePolicy(std::string_view resource_arn) {
  TRIBUTARY_RETURN_IF_ERROR(CheckResourceArn(resource_arn));
  return backend_->DeleteResourcePolicy(resource_arn);
}

absl::StatusOr<AccountSettings> Store::DescribeAccountSettings() {
  return backend_->DescribeAccountSettings();
}

absl::StatusOr<AccountSettings> Store::UpdateAccountSettings(bool minimum_throughput_billing_commitment) {
  return backend_->UpdateAccountSettings(minimum_throughput_billing_commitment);
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
  return backend_->UpdateStreamWarmThroughput(stream, mibps);
}

}  // namespace tributary
