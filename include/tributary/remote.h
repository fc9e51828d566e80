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
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/clock.h"
#include "tributary/store.h"

namespace tributary {

// AWS credentials. `session_token` is empty for long-term credentials;
// temporary ones (STS, instance metadata, containers, SSO, processes) carry
// their expiration.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  absl::Time expiration = absl::InfiniteFuture();
};

// Where credentials come from. Called before every request (so a provider
// may rotate them); the providers below that fetch temporary credentials
// cache them, so once cached a call costs a mutex and a copy, never a
// request.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Unauthenticated (ErrorType::kAccessDenied) when this source has none,
  // saying what it tried.
  virtual absl::StatusOr<AwsCredentials> GetCredentials() = 0;
  // For messages: "environment", "profile default in ~/.aws/credentials",
  // and for a chain the provider that answered last.
  virtual std::string Describe() const = 0;
};

// How the providers that fetch temporary credentials find and cache them.
// Each caches its credentials and answers from the cache until
// `refresh_ahead` before they expire; from then on callers still get the
// cached set while one background refresh runs; only from `stale_before`
// before expiry (or with nothing cached) do callers wait, and then for one
// shared fetch. A failed refresh keeps serving the cached set until it
// expires. docs/REMOTE.md "Credentials" lists every source and variable.
struct CredentialsProviderOptions {
  // Reads the time that expirations are compared with; nullptr: SystemClock().
  // Not owned.
  Clock* clock = nullptr;
  absl::Duration refresh_ahead = absl::Minutes(5);
  absl::Duration stale_before = absl::Minutes(1);
  // The shared-file profile: empty is AWS_PROFILE, else "default".
  std::string profile;
  // Instance metadata (IMDS): IMDSv2 session tokens always come first. The
  // IMDSv1 fallback (plain GETs, when the token PUT fails or is refused) is
  // used only when allowed: nullopt follows AWS_EC2_METADATA_V1_DISABLED
  // (and the profile's ec2_metadata_v1_disabled), allowing it unless "true".
  std::optional<bool> imds_v1_fallback;
  // Per request to the instance metadata and container endpoints (they
  // are on the host's own network), and attempts per fetch.
  absl::Duration metadata_timeout = absl::Seconds(1);
  int metadata_attempts = 2;
  // Where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points (ECS's agent).
  std::string container_endpoint = "http://169.254.170.2";
  // How long a credential_process may run (real time) before it is killed
  // and the fetch fails; the Go SDK's default, one minute.
  absl::Duration credential_process_timeout = absl::Minutes(1);
};

// Fixed credentials.
std::shared_ptr<CredentialsProvider> StaticCredentialsProvider(AwsCredentials credentials);
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN
// (and AWS_CREDENTIAL_EXPIRATION), read at every call.
std::shared_ptr<CredentialsProvider> EnvironmentCredentialsProvider();
// A web identity token exchanged for a role's credentials (EKS IRSA):
// AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and optional
// AWS_ROLE_SESSION_NAME (else the profile's web_identity_token_file,
// role_arn, role_session_name), sent to STS AssumeRoleWithWebIdentity
// (unsigned; the token file is read again at every refresh).
std::shared_ptr<CredentialsProvider> WebIdentityCredentialsProvider(const CredentialsProviderOptions& options = {});
// A profile of the shared files, read once on first use: `profile`
// (default: AWS_PROFILE, else "default"), its keys taken from the config
// file (AWS_CONFIG_FILE, else $HOME/.aws/config, section "[profile NAME]" or
// "[default]") and, overriding them, the credentials file (`file`, default
// AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials, section
// "[NAME]"). A profile with role_arn assumes that role through STS
// AssumeRole (role_session_name, external_id, duration_seconds), signed with
// the credentials of its source_profile (any kind of profile, chains of up
// to 5) or of its credential_source (Environment, Ec2InstanceMetadata,
// EcsContainer), or with web_identity_token_file; otherwise it answers
// with aws_access_key_id / aws_secret_access_key / aws_session_token.
std::shared_ptr<CredentialsProvider> ProfileCredentialsProvider(
    std::optional<std::string> profile = std::nullopt, std::optional<std::string> file = std::nullopt,
    const CredentialsProviderOptions& options = {});
// The profile's credential_process: a command run by /bin/sh whose standard
// output is the JSON the AWS CLI documents (Version 1, AccessKeyId,
// SecretAccessKey, optional SessionToken and Expiration). A non-zero exit,
// malformed output or an expired set is an error naming the command, and
// so is a command still running after options.credential_process_timeout or
// writing more than 64 KiB: its process group is killed.
std::shared_ptr<CredentialsProvider> ProcessCredentialsProvider(const CredentialsProviderOptions& options = {});
// IAM Identity Center (SSO): the profile's sso_account_id and sso_role_name
// with sso_session (a "[sso-session NAME]" section) or the legacy
// sso_start_url / sso_region; the access token `aws sso login` cached in
// ~/.aws/sso/cache/<sha1>.json is exchanged for role credentials
// (GetRoleCredentials at AWS_ENDPOINT_URL_SSO, else
// https://portal.sso.<sso_region>.amazonaws.com). An sso-session token
// within 5 minutes of its expiry is refreshed with SSO-OIDC CreateToken
// (AWS_ENDPOINT_URL_SSO_OIDC, else https://oidc.<sso_region>.amazonaws.com)
// and written back to the cache, as the SDKs do; an expired token that
// cannot be refreshed says why and to run `aws sso login`.
std::shared_ptr<CredentialsProvider> SsoCredentialsProvider(const CredentialsProviderOptions& options = {});
// ECS task roles and EKS Pod Identity: GET
// options.container_endpoint + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or
// AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback address
// or to ECS's/EKS's link-local agents), with the Authorization header from
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at every refresh) or
// AWS_CONTAINER_AUTHORIZATION_TOKEN.
std::shared_ptr<CredentialsProvider> ContainerCredentialsProvider(const CredentialsProviderOptions& options = {});
// EC2 instance metadata: an IMDSv2 token (PUT /latest/api/token), the
// instance profile's role (GET .../iam/security-credentials/) and its
// credentials, at AWS_EC2_METADATA_SERVICE_ENDPOINT, else
// http://169.254.169.254 (http://[fd00:ec2::254] when
// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is IPv6). AWS_EC2_METADATA_DISABLED
// =true turns it off.
std::shared_ptr<CredentialsProvider> InstanceMetadataCredentialsProvider(
    const CredentialsProviderOptions& options = {});
// Asks `providers` in order and answers with the first that has
// credentials; the next call asks that one first. Describe() names it.
// When none has any, the error lists what each one said.
std::shared_ptr<CredentialsProvider> CredentialsProviderChain(
    std::vector<std::shared_ptr<CredentialsProvider>> providers);
// The AWS SDKs' chain: environment, web identity, the profile (keys or an
// assumed role), the profile's credential_process, its SSO, container
// credentials, instance metadata.
std::shared_ptr<CredentialsProvider> DefaultCredentialsProvider(const CredentialsProviderOptions& options = {});

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
