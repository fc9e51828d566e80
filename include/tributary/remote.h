// Remote streams: the tributary::Store API over a Kinesis endpoint.
//
// Store::OpenRemote(RemoteOptions) returns a Store whose streams live at an
// endpoint that speaks the Kinesis Data Streams JSON 1.1 protocol: Amazon
// Kinesis itself, tributary-server, kinesalite, ... Every Store call becomes
// one HTTP request (or a few, for the waiters and for calls Kinesis only
// accepts with a stream ARN), so code written against the Store (and
// everything built on it) moves from an embedded store to a real Kinesis
// stream by configuration. docs/REMOTE.md describes the mapping, what
// differs from a local store (Store::capabilities()), credentials, retries
// and deaggregation.
//
// Thread safety: a remote Store is safe for concurrent use; calls share a
// small pool of keep-alive connections. CredentialsProvider implementations
// must be safe for concurrent use.
#ifndef TRIBUTARY_REMOTE_H_
#define TRIBUTARY_REMOTE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/clock.h"
#include "tributary/store.h"

namespace tributary {

// AWS credentials. `session_token` is empty for long-term credentials.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

// Where credentials come from. Called before every request (so a provider
// may rotate them); implementations cache as they see fit.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // NotFound (ErrorType::kAccessDenied) when this source has none.
  virtual absl::StatusOr<AwsCredentials> GetCredentials() = 0;
  // For messages: "environment", "profile default in ~/.aws/credentials", ...
  virtual std::string Describe() const = 0;
};

// Fixed credentials.
std::shared_ptr<CredentialsProvider> StaticCredentialsProvider(AwsCredentials credentials);
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN,
// read at every call.
std::shared_ptr<CredentialsProvider> EnvironmentCredentialsProvider();
// A profile of the shared credentials file, read once on first use:
// `profile` (default: AWS_PROFILE, else "default") of `file` (default:
// AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials); keys
// aws_access_key_id, aws_secret_access_key, aws_session_token. The profile
// is also looked up in the config file (AWS_CONFIG_FILE, else
// $HOME/.aws/config, section "[profile NAME]" or "[default]"), as the AWS
// CLI does, when the credentials file does not have it.
std::shared_ptr<CredentialsProvider> ProfileCredentialsProvider(
    std::optional<std::string> profile = std::nullopt, std::optional<std::string> file = std::nullopt);
// The usual chain: the environment, then the profile. (Instance metadata,
// SSO and process credentials are not supported; pass your own provider.)
std::shared_ptr<CredentialsProvider> DefaultCredentialsProvider();

// Retries of one call. A call is retried when Kinesis says to slow down
// (ProvisionedThroughputExceededException, LimitExceededException,
// ThrottlingException...), on HTTP 5xx (InternalFailure,
// ServiceUnavailable) and on transport failures (connection refused or
// reset, timeout). The wait before retry n (1, 2, ...) is uniform in
// [0, min(max_backoff, initial_backoff * multiplier^(n-1))] ("full jitter").
// A retried write may be stored twice if the first attempt reached the
// server but its answer was lost: at-least-once, like the AWS SDKs.
struct RetryPolicy {
  int max_attempts = 5;  // including the first; 1 = never retry
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(5);
  double multiplier = 2.0;
  bool retry_throttling = true;   // ProvisionedThroughputExceeded, LimitExceeded
  bool retry_server_errors = true;  // HTTP 5xx
  bool retry_transport_errors = true;
  uint64_t jitter_seed = 0;  // 0: seeded from the system; tests fix it
};

struct RemoteOptions {
  // "http://127.0.0.1:4567" or "https://kinesis.eu-west-1.amazonaws.com";
  // empty: AWS_ENDPOINT_URL_KINESIS, else AWS_ENDPOINT_URL, else
  // https://kinesis.<region>.amazonaws.com.
  std::string endpoint_url;
  // Empty: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region`
  // in the config file, else "us-east-1" if an endpoint is given (local
  // peers ignore it); InvalidArgument if there is neither.
  std::string region;
  // Used to build stream ARNs (Store::StreamArn) without asking the server;
  // empty: ask the server (DescribeStreamSummary) when an ARN is needed.
  std::string account_id;
  // nullptr: DefaultCredentialsProvider(). Every request is signed with AWS
  // Signature Version 4 (service "kinesis", `region`); local peers that do
  // not check signatures accept any credentials, e.g. dummy ones.
  std::shared_ptr<CredentialsProvider> credentials;

  RetryPolicy retry;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Whole request, from sending to the last byte of the answer.
  absl::Duration request_timeout = absl::Seconds(30);
  // Idle keep-alive connections kept for reuse (more may be open while
  // more calls run at once).
  int max_idle_connections = 8;
  // Verify the server's TLS certificate and host name (https only).
  bool verify_tls = true;
  // PEM file of the certificate authorities to trust for https instead of
  // the system's (e.g. the ca.pem of tributary-server --tls-self-signed).
  std::string ca_file;

  // Paces the client's own waits (retry backoff, WaitUntilActive/Deleted
  // polling). It does not control the server's time: with a ManualClock,
  // waits return at once but records expire on the server's clock.
  // nullptr: SystemClock(). Not owned.
  Clock* clock = nullptr;
  // How often WaitUntilActive / WaitUntilDeleted poll DescribeStreamSummary.
  absl::Duration poll_interval = absl::Milliseconds(100);

  // As StoreOptions::deaggregate_kpl_records (tributary/kpl.h).
  bool deaggregate_kpl_records = false;
};

// The endpoint and region OpenRemote would use with `options` (the
// environment and config files filled in), for logs and tests.
struct ResolvedEndpoint {
  std::string url;
  std::string region;
};
absl::StatusOr<ResolvedEndpoint> ResolveEndpoint(const RemoteOptions& options);

}  // namespace tributary

#endif  // TRIBUTARY_REMOTE_H_
