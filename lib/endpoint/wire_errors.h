// How an error goes on the wire, per protocol, as AWS writes it
// (docs/ENDPOINT.md "Error bodies"):
//
//   JSON 1.1  {"__type":"ResourceNotFoundException","message":"..."}, HTTP 400
//             (500 for InternalFailure); SerializationException writes
//             "Message" (capital M); UnknownOperationException and
//             InternalFailure carry no message, and neither do the
//             SerializationExceptions of a body that does not parse.
//   CBOR 1.1  the same map, CBOR-encoded.
//   "deprecated" JSON (Content-Type application/json, which Kinesis does
//             not serve): {"Output":{"__type":"com.amazon.coral.service#<T>"},
//             "Version":"1.0"}, 404 for UnknownOperationException.
//   XML       (GET, PUT, DELETE, form-encoded POSTs: the Query protocol
//             Kinesis does not serve) "<T>\n  <Message>...</Message>\n</T>\n"
//             or "<T/>\n", no Content-Type, 403 (404 UnknownOperation, 500
//             InternalFailure).
//
// Thread safety: pure functions.
#ifndef TRIBUTARY_LIB_ENDPOINT_WIRE_ERRORS_H_
#define TRIBUTARY_LIB_ENDPOINT_WIRE_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"
#include "endpoint/endpoint.h"

namespace tributary::endpoint {

// The protocol a request speaks, decided by its method and Content-Type.
enum class Protocol {
  kJson,            // POST, application/x-amz-json-1.1
  kCbor,            // POST, application/x-amz-cbor-1.1, or any type AWS answers in CBOR
  kDeprecatedJson,  // POST, application/json with a body
  kXml,             // anything else (GET, form-encoded POST, ...)
};

// AWS's choice (observed): JSON 1.1 and CBOR by their media types (case and
// parameters ignored); application/json with a body is the deprecated
// protocol, without one it is answered like a missing type; a form-encoded
// body is the Query protocol (XML); every other type, or none, is CBOR.
Protocol ProtocolOf(std::string_view method, std::string_view content_type, bool body_empty);

// Whether the body of an error says its message.
enum class BodyMessage { kInclude, kOmit };

// The response for a failed `status` in `protocol`. The status's message
// goes into the body unless `body_message` is kOmit or the type never
// carries one (UnknownOperationException, InternalFailure).
Response WireErrorResponse(Protocol protocol, const absl::Status& status,
                       BodyMessage body_message = BodyMessage::kInclude);

// The body key of an error type's message: "Message" for
// SerializationException, "message" for every other type.
std::string_view MessageKey(std::string_view type);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_WIRE_ERRORS_H_
