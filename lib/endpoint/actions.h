// The Kinesis actions: every action of the Kinesis Data Streams API
// (2013-12-02), whether tributary-server serves it yet, and for the ones it
// serves, the function that decodes the request, calls the Store method of
// the same name and encodes the result.
//
// Each action is written once as a template over the codec (JsonObject/
// JsonWriter or CborObject/CborWriter, see codec.h) and instantiated for both.
// An action never decides semantics: it checks the request's shape (required
// members, types), calls the Store, and maps the result field by field.
#ifndef TRIBUTARY_LIB_ENDPOINT_ACTIONS_H_
#define TRIBUTARY_LIB_ENDPOINT_ACTIONS_H_

#include <string_view>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "endpoint/endpoint.h"
#include "tributary/store.h"

namespace tributary::endpoint {

class JsonObject;
class JsonWriter;
class CborObject;
class CborWriter;

enum class ActionStatus {
  kDone,    // served, mapped onto the Store
  kNotYet,  // a Kinesis action the server answers with UnknownOperationException
};

struct ActionInfo {
  std::string_view name;  // as in X-Amz-Target: Kinesis_20131202.<name>
  ActionStatus status;
  // For kNotYet: the step that will bring it ("enhanced fan-out", ...).
  // For kDone: how it maps onto the Store when that is not by the same name.
  std::string_view note;
  absl::Status (*json)(Store&, const JsonObject&, JsonWriter&);  // null if kNotYet or streamed
  absl::Status (*cbor)(Store&, const CborObject&, CborWriter&);  // null if kNotYet or streamed
  // Streamed actions (SubscribeToShard): the response body is an event
  // stream; these return it once the request is accepted.
  absl::StatusOr<std::shared_ptr<ResponseStream>> (*json_stream)(Store&, const JsonObject&) = nullptr;
  absl::StatusOr<std::shared_ptr<ResponseStream>> (*cbor_stream)(Store&, const CborObject&) = nullptr;
};

// All 39 actions of the Kinesis API, sorted by name.
absl::Span<const ActionInfo> KinesisActions();

// The action called `name` (case-sensitive, as Kinesis), or nullptr.
const ActionInfo* FindAction(std::string_view name);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_ACTIONS_H_
