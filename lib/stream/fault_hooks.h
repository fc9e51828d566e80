// The Store's side of StoreOptions::fault_injector (tributary/fault_injector.h):
// applying an injector's per-record PutBatch failures. Kept out of store.cc so
// the public Store stays a thin validating facade.
#ifndef TRIBUTARY_LIB_STREAM_FAULT_HOOKS_H_
#define TRIBUTARY_LIB_STREAM_FAULT_HOOKS_H_

#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tributary/fault_injector.h"
#include "tributary/store.h"
#include "tributary/types.h"

namespace tributary::stream {

// Asks `injector` about a validated PutBatch, then writes the records it did
// not fail through `write` (in request order, one call) and merges both into
// one PutBatchResult in request order. If the injector fails every record,
// `write` is not called.
absl::StatusOr<PutBatchResult> PutBatchWithFaults(
    FaultInjector& injector, std::string_view stream, absl::Span<const PutRecordInput> records,
    absl::Span<const HashKey> hashes,
    absl::FunctionRef<absl::StatusOr<PutBatchResult>(absl::Span<const PutRecordInput>,
                                                     absl::Span<const HashKey>)>
        write);

}  // namespace tributary::stream

#endif  // TRIBUTARY_LIB_STREAM_FAULT_HOOKS_H_
