// Endpoint: the Kinesis wire protocol over a tributary::Store, independent
// of the transport. It takes what an HTTP request carries (method, path,
// query, headers, body) and returns what to answer (status, headers, body).
// HttpServer (http_server.h) puts it on a socket; tests and benchmarks can
// call it directly. Everything AWS's front door answers is decided here, so
// every transport (HTTP/1.1, HTTP/2) answers alike.
//
// Protocol (docs/ENDPOINT.md has the full description), in AWS's order:
//   * OPTIONS with an Origin: the CORS preflight answer. Every response to a
//     request with an Origin carries Access-Control-Allow-Origin: *.
//   * The protocol, by method and Content-Type (wire_errors.h ProtocolOf):
//     POST application/x-amz-json-1.1 is JSON, application/x-amz-cbor-1.1
//     CBOR; GET/PUT/DELETE and form-encoded POSTs get AWS's XML
//     AccessDeniedException; other types are answered in CBOR.
//   * A body that does not parse: SerializationException. X-Amz-Target not
//     Kinesis_20131202.<Action>: UnknownOperationException. An empty body:
//     SerializationException. (Neither carries a message, as in AWS.)
//   * Signatures, when required or verified (signature_form.h, lib/sigv4).
//   * Member types, then constraints (validation/validator.h).
//   * The action: the Store call of the same name.
//   * Errors are {"__type": "<Kinesis error type>", "message": "..."}
//     (wire_errors.h) with HTTP 400, or HTTP 500 for InternalFailure.
//
// Thread safety: Handle() is safe for concurrent use (the Store is).
#ifndef TRIBUTARY_LIB_ENDPOINT_ENDPOINT_H_
#define TRIBUTARY_LIB_ENDPOINT_ENDPOINT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "endpoint/accounts.h"
#include "sigv4/sigv4.h"
#include "tributary/application.h"
#include "tributary/store.h"

namespace tributary::endpoint {

class Control;  // control.h

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";
inline constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";

// A response body produced over time (SubscribeToShard's event stream).
// The transport sends it as it comes (HTTP/1.1 chunked transfer encoding).
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Blocks until the next piece of the body is ready and appends it to
  // `piece`; false at the end of the body (nothing appended). Called from
  // one thread at a time.
  virtual bool Next(std::string* piece) = 0;
  // From any thread: the client went away or the server is shutting down; a
  // blocked Next() returns soon, and later ones end the body.
  virtual void Cancel() = 0;
};

struct Response {
  int status = 200;
  std::string_view content_type = kJsonContentType;  // points to a constant
  std::string body;
  // The Kinesis error type of an error response ("" on success), for logs
  // and the x-amzn-ErrorType header.
  std::string_view error_type;
  // Our explanation of an error whose body carries no message (AWS sends
  // none for UnknownOperationException, InternalFailure and bodies that do
  // not parse): sent as x-amzn-ErrorMessage, a header AWS's CORS rules
  // expose, so a person debugging still learns why. Control characters are
  // sent as spaces.
  std::string error_message;
  // Set for a streamed response: the body comes from here (`body` is empty).
  std::shared_ptr<ResponseStream> stream;
  // Headers to send besides Content-Type (none when content_type is
  // empty), Content-Length, x-amzn-RequestId and x-amzn-ErrorType: CORS.
  // Values point to constants or into the Request's views.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  // Whether the response carries an x-amz-id-2 (AppendAmzId2): every one
  // but a CORS preflight's, as in AWS.
  bool amz_id_2 = true;
};

// Appends a fresh x-amz-id-2 value (AWS's extended request id: 64 random
// bytes, base64) for a transport to send.
void AppendAmzId2(std::string* out);

// How a failed Status goes on the wire.
struct WireError {
  int http_status;        // 400, or 500 for InternalFailure
  std::string_view type;  // the __type value
};
// Maps a non-OK status by its Kinesis error type (tributary::GetErrorType):
// InternalFailure, and the types that never cross the wire (Corruption,
// WaiterTimeout), become InternalFailure/500; every other type keeps its
// name (ErrorTypeName) with HTTP 400 (the JSON and CBOR statuses; the XML
// ones are in wire_errors.h).
WireError WireErrorOf(const absl::Status& status);

// One request as the transport received it. Views must outlive Handle()
// and the Response it returns (which may point into them).
struct Request {
  std::string_view method = "POST";
  std::string_view path = "/";          // request target before '?'
  std::string_view query;               // after '?'
  std::string_view amz_target;          // X-Amz-Target
  std::string_view content_type;        // Content-Type
  std::string_view authorization;       // Authorization ("" if absent)
  std::string_view host;                // Host ("" if absent; kinesisanalyticsv2 URLs)
  // CORS: Origin, Access-Control-Request-Headers, -Method ("" if absent).
  std::string_view origin;
  std::string_view access_control_request_headers;
  std::string_view access_control_request_method;
  // Every header in the order received. Needed only when the endpoint
  // verifies signatures (Endpoint::wants_headers()); may be empty otherwise.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  // Not modified; spare capacity beyond its size (64 bytes) lets the JSON
  // parser read it in place.
  const std::string* body = nullptr;
  // Optional: memory for the response body (moved from, so its capacity is
  // reused instead of allocating, and page-faulting, a new buffer).
  std::string* response_storage = nullptr;
};

struct EndpointOptions {
  // Access key id -> secret: with at least one entry, every request must
  // carry a valid SigV4 signature by one of these keys (service "kinesis";
  // docs/ENDPOINT.md "Signatures"). Empty: any signature, or none, is
  // accepted.
  std::map<std::string, std::string> credentials;
  // Require every request to carry a signature of the right form (header
  // or query string), as AWS's front door does, without verifying it
  // (signature_form.h); implied by `credentials`. Off: any signature, or
  // none, is accepted.
  bool require_signatures = false;
  // Select the account (and its Store) by the request's access key id
  // (accounts.h). Off: every request goes to the default store.
  bool account_from_access_key = false;
  // For accounts other than the default one: how to open their stores.
  StoreOptions store_options;
  std::optional<std::string> data_dir;
  // The test control API (control.h; tributary-server --test-control): not
  // owned, must outlive the Endpoint. Null: control paths answer 404.
  const Control* control = nullptr;
  // The clock signatures are checked against (their 15-minute skew
  // window). Null: the store's clock. tributary-server --manual-clock sets
  // the system clock here, so a moved store clock does not expire signatures.
  Clock* signature_clock = nullptr;
  // Serves the Managed Service for Apache Flink API (kinesisanalyticsv2,
  // flink_actions.h) for these applications (not owned; must outlive the
  // Endpoint; their streams are the default account's store's). Null: only
  // Kinesis.
  ApplicationManager* applications = nullptr;
  // The restart delay of applications created over the wire (the API has
  // no restart strategy: fixed delay, unlimited attempts, as Managed Flink).
  absl::Duration application_restart_delay = absl::Seconds(10);
};

class Endpoint {
 public:
  // `store` (the default account's) is not owned and must outlive the Endpoint.
  explicit Endpoint(Store* store, EndpointOptions options = {});
  ~Endpoint();

  // Answers one request.
  Response Handle(const Request& request) const;
  // Shorthand for a POST without signature or account: X-Amz-Target,
  // Content-Type, body.
  Response Handle(std::string_view target, std::string_view content_type,
                  const std::string& body) const;

  // Whether Handle() needs Request::headers (signatures required or verified).
  bool wants_headers() const { return options_.require_signatures || !options_.credentials.empty(); }

  // An error response in the encoding of `content_type`, for errors the
  // transport detects (body too large, malformed HTTP).
  static Response ErrorResponse(std::string_view content_type, const absl::Status& status);

  // The store it serves (the status page reads it).
  Store* store() const { return store_; }
  // Store::DeleteAllStreams on the store of every account (the test
  // control API's reset); the first error, after trying them all.
  absl::Status DeleteAllStreams() const;
  // The applications it serves (null if none).
  ApplicationManager* applications() const { return options_.applications; }

 private:
  // The store a request addresses, after its signature is checked.
  absl::StatusOr<Store*> Authenticate(const Request& request) const;
  // Handle() before the CORS headers.
  Response Dispatch(const Request& request) const;
  // A POST in JSON or CBOR (`cbor`), from the body check on.
  Response HandleAction(const Request& request, bool cbor) const;

  Store* store_;
  const EndpointOptions options_;
  Clock* clock_;  // for the signature's clock-skew window: the store's clock
  std::unique_ptr<Accounts> accounts_;
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_ENDPOINT_H_
