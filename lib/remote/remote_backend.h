// RemoteBackend: the StoreBackend that speaks the Kinesis JSON 1.1 protocol
// to an endpoint (Amazon Kinesis, tributary-server, kinesalite, ...).
// Store::OpenRemote (open_remote.cc) builds it; docs/REMOTE.md describes the
// mapping of every call, retries and error mapping.
#ifndef TRIBUTARY_LIB_REMOTE_REMOTE_BACKEND_H_
#define TRIBUTARY_LIB_REMOTE_REMOTE_BACKEND_H_

#include <map>
#include <memory>
#include <random>
#include <string>

#include "remote/aws_client.h"
#include "remote/http_client.h"
#include "remote/retry.h"
#include "stream/backend.h"
#include "tributary/remote.h"
#include "util/mutex.h"

namespace tributary::remote {

// The Kinesis error a non-200 answer carries, as a Status with its ErrorType
// and the closest canonical code (docs/REMOTE.md "Errors"). `action` is the
// call that failed (ResourceInUse on CreateStream with "already exists" is
// AlreadyExists, as the local store reports it).
absl::Status ErrorFromResponse(const HttpResponse& response, std::string_view action);

class RemoteBackend final : public stream::StoreBackend {
 public:
  // `options` must have been resolved (endpoint_url and region set, a
  // credentials provider present).
  static absl::StatusOr<std::unique_ptr<RemoteBackend>> Create(const RemoteOptions& options);

  // Sends one action and returns the 200 answer's body, retrying as the
  // policy says. Public for tests of the retry behaviour.
  absl::StatusOr<std::string> Exchange(std::string_view action, const std::string& body);
  // Attempts made by the calls so far (first attempts and retries).
  int64_t attempts() const { return client_->attempts(); }
  const HttpClient& http() const { return client_->http(); }

  BackendKind kind() const override { return BackendKind::kRemote; }
  StoreCapabilities capabilities() const override;
  const StoreOptions& options() const override { return store_options_; }
  absl::StatusOr<RecoveryReport> GetRecoveryReport() const override;
  std::string StreamArn(std::string_view name) const override;
  const std::string& directory() const override { return no_directory_; }
  Env* env() const override { return DefaultEnv(); }
  std::shared_ptr<void> GetOrCreateAttachment(std::string_view key,
                                              const std::function<std::shared_ptr<void>()>& make) override;

  absl::Status CreateStream(std::string_view name, const CreateStreamOptions& options) override;
  absl::Status DeleteStream(std::string_view stream, bool enforce_consumer_deletion) override;
  absl::StatusOr<ListStreamsResult> ListStreams(const ListStreamsRequest& request) override;
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
  absl::StatusOr<DescribeLimitsResult> DescribeLimits() override;
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
  // Over HTTP/2 (remote/subscription.h; defined in subscription.cc).
  absl::StatusOr<std::unique_ptr<stream::SubscriptionSource>> SubscribeToShard(
      std::string_view consumer_arn, std::string_view shard_id,
      const StartingPosition& position) override;

 private:
  RemoteBackend(const RemoteOptions& options, std::unique_ptr<AwsJsonClient> client);
  // The stream ARN for calls Kinesis accepts only with an ARN: `stream` if it
  // is one, else built from account_id, else asked of the server (cached).
  absl::StatusOr<std::string> ArnOf(std::string_view stream) const;
  absl::Status Retention(std::string_view action, std::string_view stream, int hours);
  absl::StatusOr<EnhancedMonitoringResult> Monitoring(std::string_view action, std::string_view stream,
                                                      const std::vector<std::string>& metrics);
  absl::Status Wait(std::string_view stream, absl::Duration timeout, bool for_deletion);

  const RemoteOptions options_;
  StoreOptions store_options_;  // what options() reports
  Clock* const clock_;
  std::unique_ptr<AwsJsonClient> client_;  // HTTP pool, signing, retries (aws_client.h)
  const std::string no_directory_;
  util::Mutex attachments_mu_;
  std::map<std::string, std::shared_ptr<void>, std::less<>> attachments_ ABSL_GUARDED_BY(attachments_mu_);
  mutable util::Mutex arn_mu_;
  mutable std::map<std::string, std::string, std::less<>> arns_ ABSL_GUARDED_BY(arn_mu_);
};

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_REMOTE_BACKEND_H_
