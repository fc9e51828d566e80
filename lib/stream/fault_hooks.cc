#include "stream/fault_hooks.h"

#include <string>
#include <vector>

#include "util/status_macros.h"

namespace tributary::stream {

absl::StatusOr<PutBatchResult> PutBatchWithFaults(
    FaultInjector& injector, std::string_view stream, absl::Span<const PutRecordInput> records,
    absl::Span<const HashKey> hashes,
    absl::FunctionRef<absl::StatusOr<PutBatchResult>(absl::Span<const PutRecordInput>,
                                                     absl::Span<const HashKey>)>
        write) {
  std::vector<absl::Status> errors(records.size());
  TRIBUTARY_RETURN_IF_ERROR(injector.OnPutBatch(stream, records, &errors));
  if (errors.size() != records.size()) {
    return InternalFailureError("FaultInjector::OnPutBatch resized record_errors");
  }
  std::vector<PutRecordInput> kept;
  std::vector<HashKey> kept_hashes;
  for (size_t i = 0; i < records.size(); ++i) {
    if (errors[i].ok()) {
      kept.push_back(records[i]);
      kept_hashes.push_back(hashes[i]);
    }
  }
  PutBatchResult written;
  if (!kept.empty()) {
    TRIBUTARY_ASSIGN_OR_RETURN(written, write(kept, kept_hashes));
  }
  PutBatchResult out;
  out.records.reserve(records.size());
  size_t next = 0;  // index into written.records
  for (size_t i = 0; i < records.size(); ++i) {
    if (errors[i].ok()) {
      out.records.push_back(std::move(written.records[next++]));
    } else {
      PutBatchEntryResult e;
      e.error_code = std::string(ErrorTypeName(GetErrorType(errors[i])));
      e.error_message = std::string(errors[i].message());
      out.records.push_back(std::move(e));
    }
    out.failed_record_count += out.records.back().ok() ? 0 : 1;
  }
  return out;
}

}  // namespace tributary::stream
