// Error helpers of the applications layer: the Managed Service for Apache
// Flink error types with the canonical codes docs/ERRORS.md lists.
#ifndef TRIBUTARY_LIB_APPS_ERRORS_H_
#define TRIBUTARY_LIB_APPS_ERRORS_H_

#include <string>
#include <string_view>

#include "tributary/status.h"

namespace tributary::apps {

// A Status message as a std::string (absl::string_view is not
// std::string_view in Debian's abseil, and fmt cannot format it).
inline std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Stale CurrentApplicationVersionId (absl Aborted, the style guide's code
// for a version conflict).
inline absl::Status ConcurrentModificationError(std::string_view m) {
  return MakeError(absl::StatusCode::kAborted, ErrorType::kConcurrentModification, m);
}
// A well-formed request that the application's state does not allow (no
// version to roll back to, no snapshot, snapshots disabled).
inline absl::Status InvalidRequestError(std::string_view m) {
  return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kInvalidRequest, m);
}
inline absl::Status InvalidApplicationConfigurationError(std::string_view m) {
  return MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kInvalidApplicationConfiguration, m);
}
inline absl::Status UnsupportedOperationError(std::string_view m) {
  return MakeError(absl::StatusCode::kUnimplemented, ErrorType::kUnsupportedOperation, m);
}

}  // namespace tributary::apps

#endif  // TRIBUTARY_LIB_APPS_ERRORS_H_
