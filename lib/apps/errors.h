// Error helpers of the applications layer: the Managed Service for Apache
// Flink error types with the canonical codes docs/ERRORS.md lists.
#ifndef TRIBUTARY_LIB_APPS_ERRORS_H_
#define TRIBUTARY_LIB_APPS_ERRORS_H_

#include <string>
#include <string_view>

#include "absl/strings/cord.h"
#include "tributary/status.h"

namespace tributary::apps {

// A Status message as a std::string (absl::string_view is not
// std::string_view in Debian's abseil, and fmt cannot format it).
inline std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Stale CurrentApplicationVersionId (absl Aborted, the style guide's code
// for a version conflict).
// `s` with `prefix` in front of its message; code and error type kept.
inline absl::Status Annotate(const absl::Status& s, std::string_view prefix) {
  absl::Status out(s.code(), std::string(prefix) + std::string(s.message()));
  s.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

// "<error type or code>: <message>", the form failure causes are recorded in.
inline std::string Cause(const absl::Status& s) {
  ErrorType t = GetErrorType(s);
  std::string label = t == ErrorType::kInternalFailure && s.code() != absl::StatusCode::kInternal
                          ? absl::StatusCodeToString(s.code())
                          : std::string(ErrorTypeName(t));
  return label + ": " + std::string(s.message());
}

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
