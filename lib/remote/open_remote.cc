// Store::OpenRemote and endpoint/region resolution (tributary/remote.h).
#include <fmt/format.h>

#include "remote/credentials.h"
#include "remote/remote_backend.h"
#include "tributary/remote.h"
#include "util/status_macros.h"

namespace tributary {

absl::StatusOr<ResolvedEndpoint> ResolveEndpoint(const RemoteOptions& options) {
  ResolvedEndpoint r;
  r.url = options.endpoint_url;
  if (r.url.empty()) r.url = remote::EndpointFromEnvironment().value_or("");
  r.region = options.region;
  if (r.region.empty()) r.region = remote::RegionFromEnvironment().value_or("");
  if (r.region.empty()) {
    if (r.url.empty()) {
      return InvalidArgumentError(
          "remote store: no region (RemoteOptions::region, AWS_REGION, AWS_DEFAULT_REGION or the "
          "profile's region) and no endpoint URL (RemoteOptions::endpoint_url, AWS_ENDPOINT_URL)");
    }
    r.region = "us-east-1";  // a local peer ignores it; signing needs one
  }
  if (r.url.empty()) {
    const bool china = r.region.rfind("cn-", 0) == 0;
    r.url = fmt::format("https://kinesis.{}.amazonaws.com{}", r.region, china ? ".cn" : "");
  }
  return r;
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenRemote(const RemoteOptions& options) {
  const RetryPolicy& p = options.retry;
  if (p.max_attempts < 1 || p.max_attempts > 100) {
    return InvalidArgumentError(fmt::format("RetryPolicy::max_attempts {} is outside [1, 100]", p.max_attempts));
  }
  if (p.initial_backoff < absl::ZeroDuration() || p.max_backoff < p.initial_backoff || p.multiplier < 1.0) {
    return InvalidArgumentError(
        "RetryPolicy: need 0 <= initial_backoff <= max_backoff and multiplier >= 1");
  }
  if (options.connect_timeout <= absl::ZeroDuration() || options.request_timeout <= absl::ZeroDuration()) {
    return InvalidArgumentError("RemoteOptions: connect_timeout and request_timeout must be positive");
  }
  if (options.poll_interval <= absl::ZeroDuration()) {
    return InvalidArgumentError("RemoteOptions::poll_interval must be positive");
  }
  TRIBUTARY_ASSIGN_OR_RETURN(ResolvedEndpoint where, ResolveEndpoint(options));
  RemoteOptions resolved = options;
  resolved.endpoint_url = where.url;
  resolved.region = where.region;
  if (resolved.credentials == nullptr) resolved.credentials = DefaultCredentialsProvider();
  // Fail now, not at the first call, when there are no credentials at all.
  TRIBUTARY_RETURN_IF_ERROR(resolved.credentials->GetCredentials().status());
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<remote::RemoteBackend> backend,
                             remote::RemoteBackend::Create(resolved));
  return std::unique_ptr<Store>(new Store(std::move(backend), options.deaggregate_kpl_records));
}

}  // namespace tributary
