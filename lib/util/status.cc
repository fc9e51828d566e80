#include "tributary/status.h"

#include "absl/types/optional.h"

#include "absl/strings/cord.h"

namespace tributary {
namespace {

constexpr char kPayloadUrl[] = "type.tributary.dev/kinesis-error-type";

struct Entry {
  ErrorType type;
  std::string_view name;
};
constexpr Entry kNames[] = {
    {ErrorType::kNone, ""},
    {ErrorType::kResourceNotFound, "ResourceNotFoundException"},
    {ErrorType::kResourceInUse, "ResourceInUseException"},
    {ErrorType::kInvalidArgument, "InvalidArgumentException"},
    {ErrorType::kValidation, "ValidationException"},
    {ErrorType::kLimitExceeded, "LimitExceededException"},
    {ErrorType::kProvisionedThroughputExceeded, "ProvisionedThroughputExceededException"},
    {ErrorType::kExpiredIterator, "ExpiredIteratorException"},
    {ErrorType::kExpiredNextToken, "ExpiredNextTokenException"},
    {ErrorType::kAccessDenied, "AccessDeniedException"},
    {ErrorType::kInternalFailure, "InternalFailure"},
    {ErrorType::kUnknownOperation, "UnknownOperationException"},
    {ErrorType::kSerialization, "SerializationException"},
    {ErrorType::kMissingAuthenticationToken, "MissingAuthenticationTokenException"},
    {ErrorType::kIncompleteSignature, "IncompleteSignatureException"},
    {ErrorType::kUnrecognizedClient, "UnrecognizedClientException"},
    {ErrorType::kInvalidSignature, "InvalidSignatureException"},
    {ErrorType::kWaiterTimeout, "WaiterTimeout"},
    {ErrorType::kCorruption, "Corruption"},
    {ErrorType::kConcurrentModification, "ConcurrentModificationException"},
    {ErrorType::kInvalidRequest, "InvalidRequestException"},
    {ErrorType::kInvalidApplicationConfiguration, "InvalidApplicationConfigurationException"},
    {ErrorType::kUnsupportedOperation, "UnsupportedOperationException"},
    {ErrorType::kTooManyTags, "TooManyTagsException"},
};

}  // namespace

std::string_view ErrorTypeName(ErrorType type) {
  for (const Entry& e : kNames) {
    if (e.type == type) return e.name;
  }
  return "InternalFailure";
}

ErrorType GetErrorType(const absl::Status& status) {
  if (status.ok()) return ErrorType::kNone;
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return ErrorType::kInternalFailure;
  std::string name(*payload);
  for (const Entry& e : kNames) {
    if (e.name == name && e.type != ErrorType::kNone) return e.type;
  }
  return ErrorType::kInternalFailure;
}

ErrorType ErrorTypeFromName(std::string_view name) {
  for (const Entry& e : kNames) {
    if (e.name == name) return e.type;
  }
  return ErrorType::kNone;
}

absl::Status MakeError(absl::StatusCode code, ErrorType type, std::string_view message) {
  absl::Status s(code, absl::string_view(message.data(), message.size()));
  std::string_view name = ErrorTypeName(type);
  s.SetPayload(kPayloadUrl, absl::Cord(absl::string_view(name.data(), name.size())));
  return s;
}

absl::Status ResourceNotFoundError(std::string_view m) {
  return MakeError(absl::StatusCode::kNotFound, ErrorType::kResourceNotFound, m);
}
absl::Status ResourceInUseError(std::string_view m) {
  return MakeError(absl::StatusCode::kFailedPrecondition, ErrorType::kResourceInUse, m);
}
absl::Status AlreadyExistsError(std::string_view m) {
  return MakeError(absl::StatusCode::kAlreadyExists, ErrorType::kResourceInUse, m);
}
absl::Status InvalidArgumentError(std::string_view m) {
  return MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kInvalidArgument, m);
}
absl::Status ValidationError(std::string_view m) {
  return MakeError(absl::StatusCode::kInvalidArgument, ErrorType::kValidation, m);
}
absl::Status LimitExceededError(std::string_view m) {
  return MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kLimitExceeded, m);
}
absl::Status ThroughputExceededError(std::string_view m) {
  return MakeError(absl::StatusCode::kResourceExhausted,
                   ErrorType::kProvisionedThroughputExceeded, m);
}
absl::Status ExpiredIteratorError(std::string_view m) {
  return MakeError(absl::StatusCode::kOutOfRange, ErrorType::kExpiredIterator, m);
}
absl::Status ExpiredNextTokenError(std::string_view m) {
  return MakeError(absl::StatusCode::kOutOfRange, ErrorType::kExpiredNextToken, m);
}
absl::Status InternalFailureError(std::string_view m) {
  return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure, m);
}

}  // namespace tributary
