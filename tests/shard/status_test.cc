// Error types carried by Status (tributary/status.h) and the test matchers.
#include <catch2/catch.hpp>

#include <string>

#include "testing/status_matchers.h"
#include "tributary/status.h"

namespace tributary {
namespace {

using tributary::testing::HasCode;

TEST_CASE("error type wire names are the Kinesis __type values", "[shard][status]") {
  CHECK(ErrorTypeName(ErrorType::kNone) == "");
  CHECK(ErrorTypeName(ErrorType::kResourceNotFound) == "ResourceNotFoundException");
  CHECK(ErrorTypeName(ErrorType::kResourceInUse) == "ResourceInUseException");
  CHECK(ErrorTypeName(ErrorType::kInvalidArgument) == "InvalidArgumentException");
  CHECK(ErrorTypeName(ErrorType::kValidation) == "ValidationException");
  CHECK(ErrorTypeName(ErrorType::kLimitExceeded) == "LimitExceededException");
  CHECK(ErrorTypeName(ErrorType::kProvisionedThroughputExceeded) ==
        "ProvisionedThroughputExceededException");
  CHECK(ErrorTypeName(ErrorType::kExpiredIterator) == "ExpiredIteratorException");
  CHECK(ErrorTypeName(ErrorType::kExpiredNextToken) == "ExpiredNextTokenException");
  CHECK(ErrorTypeName(ErrorType::kAccessDenied) == "AccessDeniedException");
  CHECK(ErrorTypeName(ErrorType::kInternalFailure) == "InternalFailure");
  CHECK(ErrorTypeName(ErrorType::kUnknownOperation) == "UnknownOperationException");
  CHECK(ErrorTypeName(ErrorType::kSerialization) == "SerializationException");
  CHECK(ErrorTypeName(ErrorType::kMissingAuthenticationToken) ==
        "MissingAuthenticationTokenException");
  CHECK(ErrorTypeName(ErrorType::kIncompleteSignature) == "IncompleteSignatureException");
  CHECK(ErrorTypeName(ErrorType::kUnrecognizedClient) == "UnrecognizedClientException");
  CHECK(ErrorTypeName(ErrorType::kInvalidSignature) == "InvalidSignatureException");
}

TEST_CASE("GetErrorType of OK is kNone", "[shard][status]") {
  CHECK(GetErrorType(absl::OkStatus()) == ErrorType::kNone);
}

TEST_CASE("a non-OK status without a Kinesis type reads as InternalFailure", "[shard][status]") {
  CHECK(GetErrorType(absl::NotFoundError("x")) == ErrorType::kInternalFailure);
  CHECK(GetErrorType(absl::InvalidArgumentError("x")) == ErrorType::kInternalFailure);
}

TEST_CASE("MakeError keeps code, type and message", "[shard][status]") {
  auto type = GENERATE(ErrorType::kResourceNotFound, ErrorType::kResourceInUse,
                       ErrorType::kInvalidArgument, ErrorType::kValidation,
                       ErrorType::kLimitExceeded, ErrorType::kProvisionedThroughputExceeded,
                       ErrorType::kExpiredIterator, ErrorType::kExpiredNextToken,
                       ErrorType::kAccessDenied, ErrorType::kInternalFailure,
                       ErrorType::kUnknownOperation, ErrorType::kSerialization,
                       ErrorType::kMissingAuthenticationToken, ErrorType::kIncompleteSignature,
                       ErrorType::kUnrecognizedClient, ErrorType::kInvalidSignature,
                       ErrorType::kWaiterTimeout, ErrorType::kCorruption,
                       ErrorType::kConcurrentModification, ErrorType::kInvalidRequest,
                       ErrorType::kInvalidApplicationConfiguration,
                       ErrorType::kUnsupportedOperation, ErrorType::kTooManyTags);
  absl::Status s = MakeError(absl::StatusCode::kAborted, type, "stream s1 shard shardId-000000000003");
  CHECK(s.code() == absl::StatusCode::kAborted);
  CHECK(GetErrorType(s) == type);
  CHECK(s.message() == "stream s1 shard shardId-000000000003");
}

TEST_CASE("the error shorthands pick the documented code and type", "[shard][status]") {
  struct Case {
    absl::Status status;
    absl::StatusCode code;
    ErrorType type;
  };
  auto c = GENERATE(
      Case{ResourceNotFoundError("m"), absl::StatusCode::kNotFound, ErrorType::kResourceNotFound},
      Case{ResourceInUseError("m"), absl::StatusCode::kFailedPrecondition, ErrorType::kResourceInUse},
      Case{AlreadyExistsError("m"), absl::StatusCode::kAlreadyExists, ErrorType::kResourceInUse},
      Case{InvalidArgumentError("m"), absl::StatusCode::kInvalidArgument, ErrorType::kInvalidArgument},
      Case{ValidationError("m"), absl::StatusCode::kInvalidArgument, ErrorType::kValidation},
      Case{LimitExceededError("m"), absl::StatusCode::kResourceExhausted, ErrorType::kLimitExceeded},
      Case{ThroughputExceededError("m"), absl::StatusCode::kResourceExhausted,
           ErrorType::kProvisionedThroughputExceeded},
      Case{ExpiredIteratorError("m"), absl::StatusCode::kOutOfRange, ErrorType::kExpiredIterator},
      Case{ExpiredNextTokenError("m"), absl::StatusCode::kOutOfRange, ErrorType::kExpiredNextToken},
      Case{InternalFailureError("m"), absl::StatusCode::kInternal, ErrorType::kInternalFailure});
  CHECK(c.status.code() == c.code);
  CHECK(GetErrorType(c.status) == c.type);
  CHECK(c.status.message() == "m");
}

TEST_CASE("status matchers describe code, Kinesis type and message", "[shard][status]") {
  CHECK(Catch::StringMaker<absl::Status>::convert(absl::OkStatus()) == "OK");
  std::string text = Catch::StringMaker<absl::Status>::convert(ResourceInUseError("stream s is UPDATING"));
  CHECK_THAT(text, Catch::Contains("FAILED_PRECONDITION"));
  CHECK_THAT(text, Catch::Contains("ResourceInUseException"));
  CHECK_THAT(text, Catch::Contains("stream s is UPDATING"));

  CHECK_OK(absl::OkStatus());
  CHECK_OK(absl::StatusOr<int>(3));
  CHECK_ERROR(absl::StatusOr<int>(LimitExceededError("x")), ErrorType::kLimitExceeded);
  CHECK_ERROR_IN(ValidationError("x"), {ErrorType::kInvalidArgument, ErrorType::kValidation});
  CHECK_THAT(ValidationError("x"), HasCode(absl::StatusCode::kInvalidArgument));
  // The matchers do not accept the wrong thing.
  CHECK_FALSE(tributary::testing::HasErrorType(ErrorType::kNone).match(absl::OkStatus()));
  CHECK_FALSE(tributary::testing::HasErrorType(ErrorType::kValidation).match(InvalidArgumentError("x")));
  CHECK_FALSE(tributary::testing::IsOk().match(InternalFailureError("x")));

  ASSIGN_OR_REQUIRE(int v, absl::StatusOr<int>(42));
  CHECK(v == 42);
  ASSIGN_OR_REQUIRE(auto s, absl::StatusOr<std::string>("text"));
  CHECK(s == "text");
}

}  // namespace
}  // namespace tributary
