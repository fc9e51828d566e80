// Request validation as AWS's JSON-protocol services do it, driven by the
// service model (model.h), for any action table: decode the body (codec),
// find the action, then
//
//   absl::Status st = validator.Validate(*op, request);
//
// before the action looks at the request. The checks and their order follow
// AWS (docs/ENDPOINT.md "Request validation"):
//   1. member types: a member of the wrong JSON/CBOR type is
//      SerializationException with AWS's message ("class java.lang.String
//      can not be converted to an Integer", "Start of list found where not
//      expected", "'x' can not be converted to a Blob: ..."); the first one
//      found ends the check. Unknown members are ignored; null is absent.
//   2. constraints of the whole request at once: required members, numeric
//      ranges, lengths, patterns and enums, reported together as one
//      ValidationException "N validation error(s) detected: Value '0' at
//      'shardCount' failed to satisfy constraint: Member must have value
//      greater than or equal to 1; ..." (at most 10 listed).
// Everything after that (stream and shard lookups, semantics) is the
// action's and the library's.
//
// Numbers are taken as AWS takes them: a fraction is truncated towards
// negative infinity, and a value beyond an Integer's (Long's) range becomes
// its largest (smallest) value before the constraints are checked.
//
// Thread safety: a RequestValidator is immutable after construction; safe
// for concurrent use. The two built-in ones live for the whole program.
#ifndef TRIBUTARY_LIB_ENDPOINT_VALIDATION_VALIDATOR_H_
#define TRIBUTARY_LIB_ENDPOINT_VALIDATION_VALIDATOR_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "endpoint/validation/model.h"

namespace re2 {
class RE2;
}

namespace tributary::endpoint {
class JsonObject;
class CborObject;
}  // namespace tributary::endpoint

namespace tributary::endpoint::validation {

// The generated models (build tree: kinesis_model.cc, kinesisanalyticsv2_model.cc).
extern const ServiceModel kKinesisModel;             // Kinesis_20131202
extern const ServiceModel kKinesisAnalyticsV2Model;  // KinesisAnalytics_20180523

class RequestValidator {
 public:
  // Validators of the built-in models, created on first use.
  static const RequestValidator& Kinesis();
  static const RequestValidator& KinesisAnalyticsV2();

  // Compiles the model's patterns (RE2); `model` must outlive the validator.
  explicit RequestValidator(const ServiceModel& model);
  ~RequestValidator();
  RequestValidator(const RequestValidator&) = delete;
  RequestValidator& operator=(const RequestValidator&) = delete;

  const ServiceModel& model() const { return model_; }

  // The operation called `action` (as in X-Amz-Target after the '.',
  // case-sensitive), or nullptr if the model has none.
  const Operation* Find(std::string_view action) const;

  // OK, or the error AWS answers for this request: ErrorType kSerialization
  // (SerializationException) or kValidation (ValidationException), with
  // AWS's message (docs/ENDPOINT.md "Error bodies" for how each is written).
  absl::Status Validate(const Operation& op, const JsonObject& request) const;
  absl::Status Validate(const Operation& op, const CborObject& request) const;

  // Find(action) then Validate; an action the model does not know is OK
  // (nothing to check).
  template <class Obj>
  absl::Status Validate(std::string_view action, const Obj& request) const {
    const Operation* op = Find(action);
    return op == nullptr ? absl::OkStatus() : Validate(*op, request);
  }

  // The compiled pattern of a shape (pattern_index >= 0).
  const re2::RE2& pattern(int index) const { return *patterns_[static_cast<size_t>(index)]; }
  // Whether every pattern of the model compiled (a pattern that does not
  // matches nothing; tests/endpoint/validator_test.cc keeps them all valid).
  bool patterns_ok() const;

 private:
  const ServiceModel& model_;
  std::vector<std::unique_ptr<re2::RE2>> patterns_;
};

// Checks a blob member's base64 text as AWS does; "" if it is valid, else
// the SerializationException message for `value`. Counts the decoded bytes
// in *decoded_size when valid.
std::string Base64Error(std::string_view value, size_t* decoded_size);

}  // namespace tributary::endpoint::validation

#endif  // TRIBUTARY_LIB_ENDPOINT_VALIDATION_VALIDATOR_H_
