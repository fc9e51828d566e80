// The public Consumer: forwards to ConsumerImpl.
#include "tributary/consumer.h"

#include "consume/consumer_impl.h"
#include "util/status_macros.h"

namespace tributary {

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(Store& store, ConsumerOptions options) {
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<consume::ConsumerImpl> impl,
                             consume::ConsumerImpl::Create(store, std::move(options), nullptr));
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

Consumer::Consumer(std::unique_ptr<consume::ConsumerImpl> impl) : impl_(std::move(impl)) {}
Consumer::~Consumer() = default;

absl::StatusOr<std::optional<RecordBatch>> Consumer::Poll() { return impl_->Poll(); }
absl::Status Consumer::Checkpoint(std::string_view shard_id, SequenceNumber sequence_number) {
  return impl_->Checkpoint(shard_id, sequence_number);
}
absl::Status Consumer::Checkpoint(std::string_view shard_id, const Record& record) {
  return impl_->Checkpoint(shard_id, PositionAfter(record));
}
absl::Status Consumer::Checkpoint(const RecordBatch& batch) {
  if (batch.records.empty()) return InvalidArgumentError("cannot checkpoint an empty batch");
  return impl_->Checkpoint(batch.shard_id, batch.last_sequence_number());
}
absl::Status Consumer::CheckpointAll() { return impl_->CheckpointAll(); }
absl::Status Consumer::PrepareCheckpoint(std::string_view shard_id, SequenceNumber sequence_number,
                                         std::string_view state) {
  return impl_->PrepareCheckpoint(shard_id, sequence_number, state);
}
absl::Status Consumer::PrepareCheckpoint(std::string_view shard_id, const Record& record,
                                         std::string_view state) {
  return impl_->PrepareCheckpoint(shard_id, PositionAfter(record), state);
}
absl::Status Consumer::CommitCheckpoint(std::string_view shard_id) {
  return impl_->CommitCheckpoint(shard_id);
}
absl::Status Consumer::Shutdown() { return impl_->Shutdown(); }
std::vector<HeldShard> Consumer::held() const { return impl_->held(); }
ConsumerLag Consumer::lag() const { return impl_->lag(); }
ConsumerStats Consumer::stats() const { return impl_->stats(); }
const std::string& Consumer::worker_id() const { return impl_->worker_id(); }
const LeaseScope& Consumer::scope() const { return impl_->scope(); }

}  // namespace tributary
