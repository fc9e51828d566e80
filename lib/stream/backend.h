// StoreBackend: the seam under the public tributary::Store.
//
// tributary::Store (lib/stream/store.cc) checks a request's arguments the way
// Kinesis does before it touches any stream (lengths, ranges, which members
// go together) and then calls the method of the same name here. Two backends
// implement it:
//   * stream::StoreImpl (lib/stream/local_backend.cc): the in-process store,
//     in memory or durable on disk;
//   * remote::RemoteBackend (lib/remote/): a Kinesis endpoint over HTTP
//     (Amazon Kinesis, tributary-server, kinesalite, ...).
// Everything above the Store (the consumer, applications, the endpoint)
// therefore runs unchanged over either. What a backend cannot do is reported
// by capabilities() and, for a call, as an Unimplemented status whose message
// says why (docs/REMOTE.md, "What differs").
//
// Contract: a backend sees only requests that passed the Store's checks;
// it returns errors that carry their Kinesis ErrorType (tributary/status.h);
// implementations are safe for concurrent use.
#ifndef TRIBUTARY_LIB_STREAM_BACKEND_H_
#define TRIBUTARY_LIB_STREAM_BACKEND_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tributary/store.h"

namespace tributary::stream {

class StoreImpl;

// A push subscription that a backend other than the local store serves
// (the remote backend: Kinesis' event stream over HTTP/2). ShardSubscription
// forwards Next() and Cancel() to it, with the same contract.
class SubscriptionSource {
 public:
  virtual ~SubscriptionSource() = default;
  virtual absl::StatusOr<std::optional<SubscribeToShardEvent>> Next(absl::Duration max_wait) = 0;
  virtual void Cancel() = 0;
};

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;

  virtual BackendKind kind() const = 0;
  virtual StoreCapabilities capabilities() const = 0;
  virtual const StoreOptions& options() const = 0;
  // Unimplemented where capabilities().recovery_report is false.
  virtual absl::StatusOr<RecoveryReport> GetRecoveryReport() const = 0;
  virtual std::string StreamArn(std::string_view name) const = 0;
  // The local store, for the features only it has; nullptr for a remote
  // backend.
  virtual StoreImpl* local() { return nullptr; }
  // SubscribeToShard where local() is nullptr (the Store checked the
  // arguments). Unimplemented unless the backend overrides it.
  virtual absl::StatusOr<std::unique_ptr<SubscriptionSource>> SubscribeToShard(
      std::string_view consumer_arn, std::string_view shard_id, const StartingPosition& position);
  // For layers built on the store (Store::directory(), env(),
  // GetOrCreateAttachment()): a remote store has no directory ("") and
  // keeps attachments in memory.
  virtual const std::string& directory() const = 0;
  virtual Env* env() const = 0;
  virtual std::shared_ptr<void> GetOrCreateAttachment(
      std::string_view key, const std::function<std::shared_ptr<void>()>& make) = 0;

  // ---- streams
  virtual absl::Status CreateStream(std::string_view name, const CreateStreamOptions& options) = 0;
  virtual absl::Status DeleteStream(std::string_view stream, bool enforce_consumer_deletion) = 0;
  virtual absl::StatusOr<ListStreamsResult> ListStreams(const ListStreamsRequest& request) = 0;
  // `exclusive_start` is request.exclusive_start_shard_id's index, parsed.
  virtual absl::StatusOr<StreamDescription> DescribeStream(const DescribeStreamRequest& request,
                                                           std::optional<uint32_t> exclusive_start) = 0;
  virtual absl::StatusOr<StreamDescriptionSummary> DescribeStreamSummary(std::string_view stream) = 0;
  virtual absl::Status WaitUntilActive(std::string_view stream, absl::Duration timeout) = 0;
  virtual absl::Status WaitUntilDeleted(std::string_view stream, absl::Duration timeout) = 0;
  // The Store checked the member combinations; `exclusive_start` is
  // request.exclusive_start_shard_id's index, parsed.
  virtual absl::StatusOr<ListShardsResult> ListShards(const ListShardsRequest& request,
                                                      std::optional<uint32_t> exclusive_start) = 0;

  // ---- data plane
  // `hash` is the record's routing key (explicit or MD5 of the key); a
  // backend that routes elsewhere (remote) ignores it. The ordering number is
  // passed as text: which numbers are valid is the backend's business.
  virtual absl::StatusOr<PutRecordResult> Put(std::string_view stream, const PutRecordInput& record,
                                              HashKey hash,
                                              std::optional<std::string_view> sequence_number_for_ordering,
                                              const WriteOptions& write_options) = 0;
  virtual absl::StatusOr<PutBatchResult> PutBatch(std::string_view stream,
                                                  absl::Span<const PutRecordInput> records,
                                                  absl::Span<const HashKey> hashes,
                                                  const WriteOptions& write_options) = 0;
  virtual absl::StatusOr<std::string> GetShardIterator(const GetShardIteratorRequest& request) = 0;
  virtual absl::StatusOr<GetRecordsResult> GetRecords(std::string_view shard_iterator, int limit) = 0;

  // ---- resharding and settings
  virtual absl::Status SplitShard(std::string_view stream, std::string_view shard_to_split,
                                  std::string_view new_starting_hash_key) = 0;
  virtual absl::Status MergeShards(std::string_view stream, std::string_view shard_to_merge,
                                   std::string_view adjacent_shard_to_merge) = 0;
  virtual absl::StatusOr<UpdateShardCountResult> UpdateShardCount(std::string_view stream, int target,
                                                                  ScalingType scaling_type) = 0;
  virtual absl::Status UpdateStreamMode(std::string_view stream, StreamMode mode) = 0;
  virtual absl::Status UpdateMaxRecordSize(std::string_view stream, int max_record_size_kib) = 0;
  virtual absl::Status IncreaseStreamRetentionPeriod(std::string_view stream, int hours) = 0;
  virtual absl::Status DecreaseStreamRetentionPeriod(std::string_view stream, int hours) = 0;
  virtual absl::Status AddTagsToStream(std::string_view stream,
                                       const std::map<std::string, std::string>& tags) = 0;
  virtual absl::Status RemoveTagsFromStream(std::string_view stream,
                                            const std::vector<std::string>& tag_keys) = 0;
  virtual absl::StatusOr<ListTagsResult> ListTagsForStream(std::string_view stream,
                                                           std::optional<std::string> exclusive_start_tag_key,
                                                           int limit) = 0;
  // The resource forms; the Store checked that `resource_arn` looks like an ARN.
  virtual absl::Status TagResource(std::string_view resource_arn,
                                   const std::map<std::string, std::string>& tags) = 0;
  virtual absl::Status UntagResource(std::string_view resource_arn,
                                     const std::vector<std::string>& tag_keys) = 0;
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListTagsForResource(
      std::string_view resource_arn) = 0;
  virtual absl::StatusOr<DescribeLimitsResult> DescribeLimits() = 0;

  // ---- consumers
  virtual absl::StatusOr<ConsumerDescription> RegisterStreamConsumer(
      std::string_view stream, std::string_view consumer_name,
      const std::map<std::string, std::string>& tags) = 0;
  virtual absl::StatusOr<ConsumerDescription> DescribeStreamConsumer(const ConsumerRef& consumer) = 0;
  virtual absl::StatusOr<ListStreamConsumersResult> ListStreamConsumers(
      const ListStreamConsumersRequest& request) = 0;
  virtual absl::Status DeregisterStreamConsumer(const ConsumerRef& consumer) = 0;

  // ---- state-only settings
  virtual absl::Status StartStreamEncryption(std::string_view stream, EncryptionType type,
                                             std::string_view key_id) = 0;
  virtual absl::Status StopStreamEncryption(std::string_view stream, EncryptionType type,
                                            std::string_view key_id) = 0;
  virtual absl::StatusOr<EnhancedMonitoringResult> EnableEnhancedMonitoring(
      std::string_view stream, const std::vector<std::string>& shard_level_metrics) = 0;
  virtual absl::StatusOr<EnhancedMonitoringResult> DisableEnhancedMonitoring(
      std::string_view stream, const std::vector<std::string>& shard_level_metrics) = 0;
  virtual absl::Status PutResourcePolicy(std::string_view resource_arn, std::string_view policy) = 0;
  virtual absl::StatusOr<std::string> GetResourcePolicy(std::string_view resource_arn) = 0;
  virtual absl::Status DeleteResourcePolicy(std::string_view resource_arn) = 0;
  virtual absl::StatusOr<AccountSettings> DescribeAccountSettings() = 0;
  virtual absl::StatusOr<AccountSettings> UpdateAccountSettings(bool minimum_throughput_billing_commitment) = 0;
  virtual absl::StatusOr<UpdateWarmThroughputResult> UpdateStreamWarmThroughput(std::string_view stream,
                                                                                int warm_throughput_mibps) = 0;
};

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_BACKEND_H_
