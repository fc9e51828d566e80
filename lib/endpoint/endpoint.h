// Endpoint: the Kinesis wire protocol over a tributary::Store, independent
// of the transport. It takes what an HTTP POST carries (X-Amz-Target,
// Content-Type, body) and returns what to answer (status, content type,
// body). HttpServer (http_server.h) puts it on a socket; tests and
// benchmarks can call it directly.
//
// Protocol (docs/ENDPOINT.md has the full description):
//   * X-Amz-Target: Kinesis_20131202.<Action>; anything else, or an action
//     this server does not serve yet, is UnknownOperationException.
//   * Content-Type application/x-amz-json-1.1 (also accepted: an absent
//     content type, application/json, application/x-amz-json-1.0) or
//     application/x-amz-cbor-1.1. The response uses the request's encoding.
//   * A body that does not decode, or a member of the wrong type, is
//     SerializationException; a missing required member is
//     ValidationException; everything else comes from the Store.
//   * Errors are {"__type": "<Kinesis error type>", "message": "..."} with
//     HTTP 400, or HTTP 500 for InternalFailure (see WireErrorOf).
//
// Thread safety: Handle() is safe for concurrent use (the Store is).
#ifndef TRIBUTARY_LIB_ENDPOINT_ENDPOINT_H_
#define TRIBUTARY_LIB_ENDPOINT_ENDPOINT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "tributary/store.h"

namespace tributary::endpoint {

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";
inline constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";

struct Response {
  int status = 200;
  std::string_view content_type = kJsonContentType;  // points to a constant
  std::string body;
  // The Kinesis error type of an error response ("" on success), for logs
  // and the x-amzn-ErrorType header.
  std::string_view error_type;
};

// How a failed Status goes on the wire.
struct WireError {
  int http_status;        // 400, or 500 for InternalFailure
  std::string_view type;  // the __type value
};
// Maps a non-OK status by its Kinesis error type (tributary::GetErrorType):
// InternalFailure, and the types that never cross the wire (Corruption,
// WaiterTimeout), become InternalFailure/500; every other type keeps its
// name (ErrorTypeName) with HTTP 400.
WireError WireErrorOf(const absl::Status& status);

class Endpoint {
 public:
  // `store` is not owned and must outlive the Endpoint.
  explicit Endpoint(Store* store) : store_(store) {}

  // Answers one request. `body` is not modified; spare capacity beyond its
  // size (64 bytes) lets the JSON parser read it in place.
  Response Handle(std::string_view target, std::string_view content_type,
                  const std::string& body) const;

  // An error response in the encoding of `content_type`, for errors the
  // transport detects (body too large, malformed HTTP).
  static Response ErrorResponse(std::string_view content_type, const absl::Status& status);

  // The store it serves (the status page reads it).
  Store* store() const { return store_; }

 private:
  Store* store_;
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_ENDPOINT_H_
