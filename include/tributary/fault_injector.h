// FaultInjector: a hook that lets tests make Store calls fail on purpose.
//
// Real Kinesis throttles writes (ProvisionedThroughputExceededException),
// fails single records of a PutRecords call, answers InternalFailure now and
// then, and expires iterators under slow consumers. Code that talks to it
// must retry correctly, and the only way to test that is to make those
// failures happen on demand. A Store with StoreOptions::fault_injector set
// asks the injector before it serves the data-plane calls below; a non-OK
// answer becomes the call's result and the store changes nothing.
//
// Most users never implement this interface: tributary::testing::Faults
// (tributary/testing/faults.h, target tributary::testing) is a ready-made,
// scriptable injector. Implement it directly only for custom fault logic.
//
// Cost: when StoreOptions::fault_injector is null (the default) each of these
// calls pays one pointer test and nothing else (see docs/PERFORMANCE.md).
//
// Thread safety: the Store calls the injector from whatever threads call the
// Store, concurrently; implementations must be safe for concurrent use.
#ifndef TRIBUTARY_FAULT_INJECTOR_H_
#define TRIBUTARY_FAULT_INJECTOR_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace tributary {

struct PutRecordInput;
struct GetShardIteratorRequest;

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;

  // Store::Put, after the record passed validation (invalid input is still
  // reported as such). A non-OK status is returned by Put as is; the record
  // is not written. Return a status built with tributary/status.h helpers
  // (e.g. ThroughputExceededError) so it carries a Kinesis error type.
  virtual absl::Status OnPut(std::string_view stream, const PutRecordInput& record) = 0;

  // Store::PutBatch, after the request passed validation. A non-OK return
  // fails the whole call (nothing is written). Otherwise the injector may set
  // entries of `record_errors` (records.size() entries, all OK on entry) to
  // fail single records: those records are not written and their entries in
  // PutBatchResult carry the status' Kinesis error type as error_code (use
  // ProvisionedThroughputExceededException or InternalFailure, the two codes
  // Kinesis reports per record) and its message; the other records are
  // written in request order as usual.
  virtual absl::Status OnPutBatch(std::string_view stream, absl::Span<const PutRecordInput> records,
                                  std::vector<absl::Status>* record_errors) = 0;

  // Store::GetShardIterator, before anything else. Non-OK fails the call.
  virtual absl::Status OnGetShardIterator(const GetShardIteratorRequest& request) = 0;

  // Store::GetRecords, once the iterator decoded (a malformed iterator is
  // still InvalidArgumentException): `stream` and `shard_id` are the ones
  // the iterator points into. Non-OK fails the call; the iterator stays
  // usable unless the status says it expired (ExpiredIteratorException),
  // which callers are expected to handle by taking a new one.
  virtual absl::Status OnGetRecords(std::string_view stream, std::string_view shard_id) = 0;

  // Any other API action, by its AWS name ("CreateStream", "ListShards",
  // "StartApplication", ...). The Store never calls it; tributary-server's
  // endpoint calls it for every Kinesis and Managed Flink action except the
  // four above (which reach the hooks above through the Store), after the
  // request decoded and before the action runs, with the StreamName or
  // StreamARN of the request (or "") and its ApplicationName (or ""). A
  // non-OK status is the action's answer and the action does not run.
  // The default injects nothing.
  virtual absl::Status OnCall(std::string_view action, std::string_view stream,
                              std::string_view application) {
    (void)action;
    (void)stream;
    (void)application;
    return absl::OkStatus();
  }
};

}  // namespace tributary

#endif  // TRIBUTARY_FAULT_INJECTOR_H_
