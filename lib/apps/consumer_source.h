// ConsumerSource: a RecordSource over the ordered consumer
// (tributary/consumer.h): one Consumer per worker (parallelism = consumer
// workers), all under one consumer name per application, sharing one lease
// table: LeaseTableFor(lease store), the manager's own store. The records
// come from the input store, which is the same store or another one (a
// remote Kinesis stream: ApplicationManagerOptions::input_store), so the
// leases and checkpoints stay local whatever the input.
//
// Mapping of the seam onto the consumer:
//   * Next(worker)  = that worker's Consumer::Poll() (one shard's batch). The
//     consumer counts a batch as processed when the same worker polls again,
//     which the job does only after Process() succeeded; so SHARD_END (and
//     with it the children) is written only for processed parents.
//   * Commit(positions) = CheckpointAll() of every worker: the consumer's
//     checkpoints are the job's processed positions at every checkpoint and
//     snapshot.
//   * Seek(positions) = restore: every lease of the scope gets the cut's
//     position as its checkpoint (SHARD_END for finished shards,
//     AFTER_SEQUENCE_NUMBER, or TRIM_HORIZON for a shard the cut never
//     read), and loses its prepared checkpoint and handoff. Leases whose
//     parents are done are pre-assigned to worker (shard index mod
//     parallelism), so every worker starts with its shards whatever the
//     clock does; the others are taken by whoever finishes their parents.
//     Shards the cut has positions for but the table has no lease for get one.
//
// Leases never expire within a job (lease_duration is a century): the job's
// workers live and die together, a failed job is rebuilt from a cut (Seek),
// and an expiry-driven takeover would replay records into a second worker's
// state. Load still moves by graceful handoff (the holder checkpoints what
// it processed first), driven by the consumer's take timer on the input
// store's clock (the consumers' clock: Consumer::Create uses it).
#ifndef TRIBUTARY_LIB_APPS_CONSUMER_SOURCE_H_
#define TRIBUTARY_LIB_APPS_CONSUMER_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "apps/source.h"
#include "tributary/consumer.h"

namespace tributary::apps {

class ConsumerSource final : public RecordSource {
 public:
  // `input` (read) and `lease_store` (whose LeaseTableFor holds the leases)
  // are not owned and must outlive the source; they may be the same store.
  ConsumerSource(Store* input, Store* lease_store, std::string stream, std::string consumer_name,
                 int max_batch_records);
  ~ConsumerSource() override;

  absl::Status Seek(int parallelism, const Positions& positions) override;
  absl::StatusOr<SourceBatch> Next(int worker, int max_records) override;
  void Ack(const Positions&) override {}
  absl::Status Commit(const Positions& positions) override;

  // Removes every lease and checkpoint of `consumer_name` on `stream` from
  // the lease table of `lease_store` (the application is being deleted).
  static absl::Status Forget(Store& lease_store, std::string_view stream,
                             std::string_view consumer_name);

 private:
  absl::Status ResetLeases(int parallelism, const Positions& positions);
  std::string WorkerId(int worker) const;

  Store* const store_;        // the input
  Store* const lease_store_;  // LeaseTableFor(*lease_store_)
  const std::string stream_;
  const std::string consumer_name_;
  const int max_batch_records_;
  std::shared_ptr<LeaseTable> table_;
  std::vector<std::unique_ptr<Consumer>> workers_;
};

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_CONSUMER_SOURCE_H_
