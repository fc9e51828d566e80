// Errors at the Tributary API.
//
// Every public call returns absl::Status or absl::StatusOr<T>; nothing throws.
// A failed Status carries two things:
//   * a canonical absl::StatusCode, chosen to be as specific as possible
//     (NotFound, AlreadyExists, InvalidArgument, FailedPrecondition,
//     ResourceExhausted, DeadlineExceeded, DataLoss, Internal, ...), and
//   * the Kinesis error type (ResourceNotFoundException, ResourceInUseException,
//     ...), attached as a Status payload, so that the HTTP endpoint maps an
//     error to the wire without guessing and C++ callers can branch on it.
//
// Use GetErrorType(status) to read the Kinesis type and ErrorTypeName() for
// its wire name. Messages name the stream, shard and value involved.
#ifndef TRIBUTARY_STATUS_H_
#define TRIBUTARY_STATUS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tributary {

// The Kinesis error types a Tributary call can report. The names are the
// `__type` values of the Kinesis JSON protocol (ErrorTypeName()).
enum class ErrorType {
  kNone = 0,                          // OK status
  kResourceNotFound,                  // ResourceNotFoundException
  kResourceInUse,                     // ResourceInUseException
  kInvalidArgument,                   // InvalidArgumentException
  kValidation,                        // ValidationException (length/pattern/range)
  kLimitExceeded,                     // LimitExceededException
  kProvisionedThroughputExceeded,     // ProvisionedThroughputExceededException
  kExpiredIterator,                   // ExpiredIteratorException
  kExpiredNextToken,                  // ExpiredNextTokenException
  kAccessDenied,                      // AccessDeniedException
  kInternalFailure,                   // InternalFailure (AWS common error, HTTP 500)
  kUnknownOperation,                  // UnknownOperationException (endpoint only)
  kSerialization,                     // SerializationException (endpoint only)
  // SigV4 verification (endpoint only, with configured credentials): AWS
  // common errors of the JSON protocols, see docs/ENDPOINT.md "Signatures".
  kMissingAuthenticationToken,        // MissingAuthenticationTokenException
  kIncompleteSignature,               // IncompleteSignatureException
  kUnrecognizedClient,                // UnrecognizedClientException
  kInvalidSignature,                  // InvalidSignatureException
  // Not a Kinesis type: a client-side waiter gave up (WaitUntilActive). The
  // AWS SDKs report this as a WaiterError; it never crosses the wire.
  kWaiterTimeout,
  // Not a Kinesis type: stored data failed its checksum. Reported as
  // InternalFailure on the wire.
  kCorruption,
  // Managed Service for Apache Flink types, used by the applications layer
  // (tributary/application.h).
  kConcurrentModification,            // ConcurrentModificationException
  kInvalidRequest,                    // InvalidRequestException
  kInvalidApplicationConfiguration,   // InvalidApplicationConfigurationException
  kUnsupportedOperation,              // UnsupportedOperationException
  kTooManyTags,                       // TooManyTagsException
};

// The wire name, e.g. "ResourceNotFoundException". "" for kNone.
std::string_view ErrorTypeName(ErrorType type);

// The Kinesis error type carried by `status`. kNone for an OK status;
// kInternalFailure for a non-OK status that carries no type (which is a bug).
ErrorType GetErrorType(const absl::Status& status);

// The type named `name` (ErrorTypeName's inverse, e.g.
// "ProvisionedThroughputExceededException"); kNone if no type has that name.
ErrorType ErrorTypeFromName(std::string_view name);

// Builds a non-OK Status with `code`, `type` and `message`.
// REQUIRES: code != absl::StatusCode::kOk and type != ErrorType::kNone.
absl::Status MakeError(absl::StatusCode code, ErrorType type,
                       std::string_view message);

// Shorthands for the combinations the library uses.
absl::Status ResourceNotFoundError(std::string_view message);  // NotFound
absl::Status ResourceInUseError(std::string_view message);  // FailedPrecondition
absl::Status AlreadyExistsError(std::string_view message);  // AlreadyExists + ResourceInUse
absl::Status InvalidArgumentError(std::string_view message);  // InvalidArgument
absl::Status ValidationError(std::string_view message);       // InvalidArgument
absl::Status LimitExceededError(std::string_view message);  // ResourceExhausted
absl::Status ThroughputExceededError(std::string_view message);  // ResourceExhausted
absl::Status ExpiredIteratorError(std::string_view message);     // OutOfRange
absl::Status ExpiredNextTokenError(std::string_view message);    // OutOfRange
absl::Status InternalFailureError(std::string_view message);     // Internal

}  // namespace tributary

#endif  // TRIBUTARY_STATUS_H_
