// Faults: scripted failures for Store calls, for testing retry logic.
//
//   tributary::testing::Faults faults;
//   StoreOptions options;
//   options.fault_injector = &faults;           // or use testing::TestStore
//   ...
//   faults.ThrottlePuts(2);                      // next 2 Puts: ProvisionedThroughputExceeded
//   faults.FailBatchRecords({1, 3});             // next PutBatch: records 1 and 3 throttled
//   faults.ExpireIterators(1, {.stream = "orders"});  // next GetRecords on "orders" expires
//   faults.Add({.call = "CreateStream", .error = ErrorType::kLimitExceeded});  // any action, as data
//
// A Faults object holds an ordered list of rules. Each rule names the call it
// applies to (by its AWS action name: PutRecord, PutRecords,
// GetShardIterator, GetRecords, or any other Kinesis or Managed Flink
// action), which calls it matches (Target), what it injects (an error, a
// partial PutRecords failure, latency), and how many more times it fires
// (kAlways: forever). For every call the first matching rule with fires left
// is used and counts down; a call no rule matches runs normally. Whole-call
// faults change nothing in the store; per-record PutBatch faults skip exactly
// the failed records (the others are written), as Kinesis' partial failures do.
//
// One rule model for C++ and the wire: FaultRule is what the named helpers
// build and what tributary-server's test control API (--test-control,
// POST /_tributary/faults, docs/ENDPOINT.md "Test control") takes as JSON;
// the server installs one Faults object as its stores' injector. The Store
// consults the four data-plane calls itself (FaultInjector); every other
// action is consulted by tributary-server's endpoint (FaultInjector::OnCall),
// so a rule for, say, CreateStream fires over the wire and not for a C++
// caller of Store::CreateStream.
//
// Injected errors carry Kinesis error types and say "(injected by
// tributary::testing::Faults)" in their message, so a failure log tells an
// injected fault from a real one.
//
// Thread safety: safe for concurrent use; rules may be added while other
// threads use the store. A Faults object must outlive every Store it is
// installed in.
#ifndef TRIBUTARY_TESTING_FAULTS_H_
#define TRIBUTARY_TESTING_FAULTS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tributary/clock.h"
#include "tributary/fault_injector.h"
#include "tributary/status.h"
#include "tributary/store.h"

namespace tributary::testing {

// The Store calls a rule can apply to.
enum class Call { kPut, kPutBatch, kGetShardIterator, kGetRecords };
std::string_view ToString(Call call);
// The AWS action of a Store call: "PutRecord", "PutRecords",
// "GetShardIterator", "GetRecords".
std::string_view ActionName(Call call);

// Which calls a rule matches. Every field that is set must match; an empty
// Target matches every call of the rule's kind.
struct Target {
  // A stream name or ARN; matches a call that names the same stream by name
  // or by ARN (the stream part of a consumer ARN counts too).
  std::string stream;
  std::string shard_id;       // GetShardIterator, GetRecords: "shardId-000000000001"
  std::string partition_key;  // Put; PutBatch per-record rules: the record's key
  std::string application;    // Managed Flink actions: the ApplicationName
};

// `times` value for a rule that never runs out.
inline constexpr int kAlways = -1;

// A rule as data: what the named helpers of Faults build, and what the
// wire API takes (tributary-server --test-control, POST /_tributary/faults,
// docs/ENDPOINT.md). Faults::Add checks it.
struct FaultRule {
  // The AWS action name: "PutRecord", "PutRecords", "GetShardIterator",
  // "GetRecords" (consulted by the Store), or any other Kinesis or Managed
  // Flink action name (consulted by tributary-server, FaultInjector::OnCall).
  std::string call;
  // Whole-call error, or kNone for a rule that only fails records
  // (fail_records) or only adds latency.
  ErrorType error = ErrorType::kNone;
  // The error's message; empty: InjectedError's standard one.
  std::string message;
  // Fires left: > 0, or kAlways.
  int count = 1;
  Target target;
  // PutRecords only, without `error`: the request positions that fail with
  // `record_error` (not written); the other records are written. Positions
  // past the end of a batch are ignored.
  std::vector<size_t> fail_records;
  ErrorType record_error = ErrorType::kProvisionedThroughputExceeded;
  // Wall-clock time added to the call each time the rule fires, before the
  // call goes on (or fails). Blocks the calling thread (on tributary-server,
  // an io thread).
  absl::Duration latency = absl::ZeroDuration();
};

// A rule as Faults::Rules() lists it.
struct FaultRuleState {
  std::string id;     // "fault-1", "fault-2", ... in the order rules were added
  FaultRule rule;     // as added (helpers with a predicate: fail_records empty)
  int remaining = 0;  // fires left; kAlways for a rule that never runs out
  int fired = 0;      // times it fired so far
  bool predicate = false;  // FailBatchRecordsIf: records chosen by a function
  double probability = 1.0;  // FailRandomly: below 1
};

// A Status with Kinesis error type `type` whose message names `what` and says
// the fault was injected. Codes: kProvisionedThroughputExceeded ->
// ResourceExhausted, kExpiredIterator -> OutOfRange, kInternalFailure ->
// Internal, kResourceNotFound -> NotFound, kLimitExceeded ->
// ResourceExhausted, anything else -> Unavailable.
// REQUIRES: type != ErrorType::kNone.
absl::Status InjectedError(ErrorType type, std::string_view what);

class Faults final : public FaultInjector {
 public:
  Faults();
  ~Faults() override;
  Faults(const Faults&) = delete;
  Faults& operator=(const Faults&) = delete;

  // ---- rules as data
  // Adds `rule` at the end of the list; returns its id. InvalidArgument
  // (ValidationException) if `call` is empty, count is neither > 0 nor
  // kAlways, the rule injects nothing (no error, records or latency),
  // fail_records is given for a call other than PutRecords or together with
  // `error`, record_error is not a per-record code (ProvisionedThroughput-
  // Exceeded, InternalFailure), an error type is one that never crosses the
  // wire (WaiterTimeout, Corruption), or latency is negative.
  absl::StatusOr<std::string> Add(FaultRule rule);
  // Every rule still in the list (exhausted ones included), in order.
  std::vector<FaultRuleState> Rules() const;
  // Removes the rule `id`; false if there is none.
  bool Remove(std::string_view id);
  // Where latency is spent (default: SystemClock()). A ManualClock makes
  // latency advance simulated time instead of blocking. Not owned; must
  // outlive the Faults. REQUIRES: no call is in flight.
  void SetLatencyClock(Clock* clock);

  // ---- generic rules
  // The next `times` calls of `call` matching `target` fail with `error`
  // (whole call; for kPutBatch nothing of the batch is written).
  // REQUIRES: !error.ok(); times > 0 or kAlways.
  Faults& FailCalls(Call call, absl::Status error, int times = 1, Target target = {});
  // Each matching call of `call` fails with `error` with probability
  // `probability`, drawn from a generator seeded with `seed` (the same seed
  // and call sequence give the same faults). Never runs out.
  // REQUIRES: 0 <= probability <= 1.
  Faults& FailRandomly(Call call, double probability, absl::Status error, uint64_t seed,
                       Target target = {});

  // ---- writes
  // Put answers ProvisionedThroughputExceededException (as Kinesis does when a
  // shard's write limit is hit).
  Faults& ThrottlePuts(int times = 1, Target target = {});
  // Put answers InternalFailure (HTTP 500 in Kinesis; retryable).
  Faults& FailPutsInternally(int times = 1, Target target = {});
  // PutBatch partial failure: in the next `batches` PutBatch calls matching
  // target.stream, the records at request positions `indexes` fail with
  // `type` (ErrorCode of the entry) and are not written; the rest are
  // written. Positions past the end of a batch are ignored. `type` should be
  // kProvisionedThroughputExceeded or kInternalFailure, the per-record codes
  // Kinesis uses.
  Faults& FailBatchRecords(std::vector<size_t> indexes,
                           ErrorType type = ErrorType::kProvisionedThroughputExceeded,
                           int batches = 1, Target target = {});
  // Same, with the failing records chosen by `pick(position, record)`; a
  // non-empty target.partition_key further limits it to records of that key.
  // `pick` runs under this object's lock: it must not call back into it.
  Faults& FailBatchRecordsIf(std::function<bool(size_t, const PutRecordInput&)> pick,
                             ErrorType type = ErrorType::kProvisionedThroughputExceeded,
                             int batches = 1, Target target = {});

  // ---- reads
  // GetRecords answers ExpiredIteratorException (a consumer must take a new
  // iterator, e.g. AFTER_SEQUENCE_NUMBER of the last record it processed).
  Faults& ExpireIterators(int times = 1, Target target = {});
  // GetRecords answers ProvisionedThroughputExceededException (5 reads/s/shard).
  Faults& ThrottleGetRecords(int times = 1, Target target = {});
  // GetRecords answers InternalFailure.
  Faults& FailGetRecordsInternally(int times = 1, Target target = {});
  // GetShardIterator answers `type` (e.g. kProvisionedThroughputExceeded,
  // kInternalFailure, kResourceNotFound).
  Faults& FailGetShardIterator(ErrorType type, int times = 1, Target target = {});

  // ---- bookkeeping
  // Faults injected so far into calls of `call` (whole-call faults; for
  // kPutBatch also batches that had at least one record failed; latency-only
  // rules do not count).
  int injected(Call call) const;
  // Same, by AWS action name ("PutRecords" is kPutBatch).
  int injected(std::string_view call) const;
  // Records failed by per-record PutBatch rules so far.
  int injected_records() const;
  // True when no rule has fires left (kAlways and random rules never run out).
  bool exhausted() const;
  // Removes every rule; counters are kept.
  void Clear();

  // FaultInjector (called by the Store).
  absl::Status OnPut(std::string_view stream, const PutRecordInput& record) override;
  absl::Status OnPutBatch(std::string_view stream, absl::Span<const PutRecordInput> records,
                          std::vector<absl::Status>* record_errors) override;
  absl::Status OnGetShardIterator(const GetShardIteratorRequest& request) override;
  absl::Status OnGetRecords(std::string_view stream, std::string_view shard_id) override;
  absl::Status OnCall(std::string_view action, std::string_view stream,
                      std::string_view application) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_TESTING_FAULTS_H_
