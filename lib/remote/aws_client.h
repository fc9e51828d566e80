// AwsJsonClient: the core that every AWS JSON-protocol client in lib/remote
// shares: one endpoint (HttpClient's pool of keep-alive connections), SigV4
// signing for one service, credentials asked of a CredentialsProvider per
// attempt, and retries with full-jitter backoff (RetryPolicy) paced on an
// injectable clock. The Kinesis backend (remote_backend.h) and the DynamoDB
// lease table (dynamodb_lease_table.cc) are two users of it; each maps the
// error answers of its service (ErrorMapper), the rest is common.
//
// Thread safety: Call() may run on any number of threads at once.
#ifndef TRIBUTARY_LIB_REMOTE_AWS_CLIENT_H_
#define TRIBUTARY_LIB_REMOTE_AWS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "remote/http_client.h"
#include "remote/retry.h"
#include "tributary/clock.h"
#include "tributary/remote.h"

namespace tributary::remote {

// How one AWS service's JSON protocol is addressed and signed.
struct AwsJsonService {
  std::string_view signing_name;   // SigV4 service: "kinesis", "dynamodb"
  std::string_view target_prefix;  // X-Amz-Target before the action: "Kinesis_20131202."
  std::string_view content_type;   // "application/x-amz-json-1.1" (Kinesis), "-1.0" (DynamoDB)
};
inline constexpr AwsJsonService kKinesisService{"kinesis", "Kinesis_20131202.", "application/x-amz-json-1.1"};
inline constexpr AwsJsonService kDynamoDbService{"dynamodb", "DynamoDB_20120810.", "application/x-amz-json-1.0"};

struct AwsClientOptions {
  std::string endpoint_url;  // resolved: http(s)://host[:port][/path]
  std::string region;        // resolved
  std::shared_ptr<CredentialsProvider> credentials;  // required
  RetryPolicy retry;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration request_timeout = absl::Seconds(30);
  int max_idle_connections = 8;
  bool verify_tls = true;
  std::string ca_file;  // PEM CAs to trust instead of the system's ("": the system's)
  Clock* clock = nullptr;  // paces backoff waits; nullptr: SystemClock()
};

// The transport and retry settings of `options` (endpoint and region as given).
AwsClientOptions ClientOptionsFrom(const RemoteOptions& options);

// The error an AWS JSON answer carries: `__type` (else the x-amzn-ErrorType
// header) without the "namespace#" prefix and ":detail" suffix AWS services
// add, and `message` (or `Message`; else the start of the body).
struct AwsError {
  std::string type;
  std::string message;
};
AwsError ParseAwsError(const HttpResponse& response);

// Turns a non-200 answer to `action` into a Status with an ErrorType.
using ErrorMapper = absl::Status (*)(const HttpResponse& response, std::string_view action);

class AwsJsonClient {
 public:
  // InvalidArgument for a bad URL or options (see HttpClient::Create).
  static absl::StatusOr<std::unique_ptr<AwsJsonClient>> Create(const AwsJsonService& service,
                                                               const AwsClientOptions& options,
                                                               ErrorMapper map_error);

  // Sends `action` with the JSON `body` and returns the 200 answer's body,
  // retrying as options.retry says (throttling, 5xx, transport failures).
  // A credentials failure is returned at once, never retried. After retries
  // the message ends with "(gave up after N attempts)".
  absl::StatusOr<std::string> Call(std::string_view action, const std::string& body);

  // Attempts made so far (first attempts and retries), for tests and stats.
  int64_t attempts() const { return attempts_.load(std::memory_order_relaxed); }
  const HttpClient& http() const { return *http_; }
  Clock* clock() const { return clock_; }
  const AwsClientOptions& options() const { return options_; }

 private:
  AwsJsonClient(const AwsJsonService& service, AwsClientOptions options, ErrorMapper map_error,
                std::unique_ptr<HttpClient> http);
  // One attempt: signs and POSTs.
  absl::StatusOr<HttpResponse> Attempt(std::string_view action, const std::string& body);

  const AwsJsonService service_;
  const AwsClientOptions options_;
  const ErrorMapper map_error_;
  Clock* const clock_;
  std::unique_ptr<HttpClient> http_;
  Backoff backoff_;
  std::atomic<int64_t> attempts_{0};
};

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_AWS_CLIENT_H_
