// A LeaseTable in Amazon DynamoDB, so ordered consumers on many machines
// share one stream's shards (tributary/lease_table.h, docs/CONSUMER.md).
//
// Every LeaseTable operation is one DynamoDB request (two for the rare
// paths noted below), signed with SigV4 (service "dynamodb") and retried
// like the remote backend's Kinesis calls (RetryPolicy, tributary/remote.h:
// throttling such as ProvisionedThroughputExceededException, 5xx and
// transport failures, with full-jitter backoff):
//   * GetScope/GetLease: GetItem with ConsistentRead;
//   * CreateScope/CreateLease: PutItem with attribute_not_exists (a lost
//     CreateScope race reads the winner's record: a second GetItem);
//   * UpdateLease: UpdateItem with "leaseCounter = :expected", setting the
//     counter to expected + 1 (a failed condition reads the item once to
//     tell a conflict, Aborted, from a missing lease, NotFound);
//   * DeleteLease: DeleteItem with "attribute_not_exists OR leaseCounter =
//     :expected";
//   * ListLeases/ListUnfinishedLeases: Query of the scope's partition with
//     ConsistentRead, page by page; ListScopes: Scan, page by page;
//   * DeleteScope: Query, then one DeleteItem per item.
// The item layout, and how it differs from the KCL's, is in docs/FORMAT.md
// ("DynamoDB lease table"); deploying it on AWS in docs/REMOTE.md "Running
// on AWS".
//
// Expiry: Lease::expires_at is an instant on the clock of the worker that
// wrote it. Workers on several hosts therefore need clocks that agree to
// well within ConsumerOptions::lease_duration (NTP does).
//
// Thread safety: safe for concurrent use by any number of threads, and any
// number of processes and hosts may share the table.
#ifndef TRIBUTARY_DYNAMODB_LEASE_TABLE_H_
#define TRIBUTARY_DYNAMODB_LEASE_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/clock.h"
#include "tributary/lease_table.h"
#include "tributary/remote.h"

namespace tributary {

struct DynamoDbLeaseTableOptions {
  // The DynamoDB table (3..255 characters of [a-zA-Z0-9_.-]). Required. One
  // table holds the leases of any number of consumers and streams.
  std::string table_name;
  // "http://127.0.0.1:8000" or "https://dynamodb.eu-west-1.amazonaws.com";
  // empty: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else
  // https://dynamodb.<region>.amazonaws.com.
  std::string endpoint_url;
  // As RemoteOptions::region.
  std::string region;
  // nullptr: DefaultCredentialsProvider().
  std::shared_ptr<CredentialsProvider> credentials;

  // What Open does about the table.
  enum class Creation : uint8_t {
    // CreateTable if DescribeTable says it does not exist, then wait until
    // it is ACTIVE (another process creating it at the same time is fine).
    kCreateIfMissing,
    // The table must exist (NotFound otherwise): for deployments whose IAM
    // policy does not allow dynamodb:CreateTable.
    kRequireExisting,
  };
  Creation creation = Creation::kCreateIfMissing;
  // Billing of a table Open creates: on demand (PAY_PER_REQUEST), or
  // provisioned with these capacities when both are positive.
  int64_t read_capacity_units = 0;
  int64_t write_capacity_units = 0;
  // How long Open waits for a table to become ACTIVE, and how often it asks.
  absl::Duration create_timeout = absl::Minutes(5);
  absl::Duration poll_interval = absl::Seconds(1);

  // As in RemoteOptions. DynamoDB throttles by returning
  // ProvisionedThroughputExceededException / ThrottlingException /
  // RequestLimitExceeded: all retried when retry.retry_throttling is set.
  RetryPolicy retry;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration request_timeout = absl::Seconds(10);
  int max_idle_connections = 4;
  bool verify_tls = true;
  // Paces retry backoff and the ACTIVE polling; nullptr: SystemClock(). Not
  // owned. (Lease expiry uses the consumer's clock, not this one.)
  Clock* clock = nullptr;
};

// A LeaseTable in DynamoDB, with its request counters.
class DynamoDbLeaseTable : public LeaseTable {
 public:
  struct Stats {
    int64_t requests = 0;  // HTTP requests sent, retries included
    int64_t conditional_check_failures = 0;  // lost compare-and-sets (and creates of existing items)
  };
  virtual Stats stats() const = 0;
  virtual const std::string& table_name() const = 0;
};

// Opens (and, with kCreateIfMissing, creates) the table. Errors:
// InvalidArgument for bad options; NotFound (kResourceNotFound) if the table
// must exist and does not; FailedPrecondition (kInvalidArgument) if the
// table exists with another key schema (for example a KCL lease table,
// keyed by leaseKey alone); DeadlineExceeded if it did not become ACTIVE in
// create_timeout; the service's error otherwise (AccessDenied, ...).
absl::StatusOr<std::unique_ptr<DynamoDbLeaseTable>> OpenDynamoDbLeaseTable(const DynamoDbLeaseTableOptions& options);

}  // namespace tributary

#endif  // TRIBUTARY_DYNAMODB_LEASE_TABLE_H_
