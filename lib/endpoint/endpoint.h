// Endpoint: the Kinesis wire protocol over a tributary::Store, independent
// of the transport. It takes what an HTTP POST carries (X-Amz-Target,
// Content-Type, body) and returns what to answer (status, content type,
// body). HttpServer (http_server.h) puts it on a socket; tests and
// benchmarks can call it directly.
//
// Protocol (docs/ENDPOINT.md has the full description):
//   * X-Amz-Target: Kinesis_20131202.<Action>; anything else is
//     UnknownOperationException. SubscribeToShard answers with a
//     Response::stream (an AWS event stream) instead of a body.
//   * Content-Type application/x-amz-json-1.1 (also accepted: an absent
//     content type, application/json, application/x-amz-json-1.0) or
//     application/x-amz-cbor-1.1. The response uses the request's encoding.
//   * A body that does not decode, or a member of the wrong type, is
//     SerializationException; a missing required member is
//     ValidationException; everything else comes from the Store.
//   * Errors are {"__type": "<Kinesis error type>", "message": "..."} with
//     HTTP 400, or HTTP 500 for InternalFailure (see WireErrorOf).
//   * With credentials configured, a request must carry a valid SigV4
//     signature (MissingAuthenticationToken/IncompleteSignature/
//     UnrecognizedClient/InvalidSignature otherwise); with account selection,
//     its access key id picks the account's Store (accounts.h).
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
  // Set for a streamed response: the body comes from here (`body` is empty).
  std::shared_ptr<ResponseStream> stream;
};

// How a failed Status goes on the wire.
struct WireError {
  int http_status;        // 400, or 500 for InternalFailure
  std::string_view type;  // the __type value
};
// Maps a non-OK status by its Kinesis error type (tributary::GetErrorType):
// InternalFailure, and the types that never cross the wire (Corruption,
// WaiterTimeout), become InternalFailure/500; MissingAuthenticationToken is
// 403; every other type keeps its name (ErrorTypeName) with HTTP 400.
WireError WireErrorOf(const absl::Status& status);

// One POST request as the transport received it. Views must outlive Handle().
struct Request {
  std::string_view method = "POST";
  std::string_view path = "/";          // request target before '?'
  std::string_view query;               // after '?'
  std::string_view amz_target;          // X-Amz-Target
  std::string_view content_type;        // Content-Type
  std::string_view authorization;       // Authorization ("" if absent)
  std::string_view host;                // Host ("" if absent; kinesisanalyticsv2 URLs)
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
  // Shorthand without signature or account: X-Amz-Target, Content-Type, body.
  Response Handle(std::string_view target, std::string_view content_type,
                  const std::string& body) const;

  // Whether Handle() needs Request::headers (signature verification on).
  bool wants_headers() const { return !options_.credentials.empty(); }

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

  Store* store_;
  const EndpointOptions options_;
  Clock* clock_;  // for the signature's clock-skew window: the store's clock
  std::unique_ptr<Accounts> accounts_;
};

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_ENDPOINT_H_
