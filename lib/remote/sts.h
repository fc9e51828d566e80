// The two STS actions the credential providers need, over the Query
// protocol (form-encoded POST, XML answer): AssumeRole (signed with the
// source credentials, SigV4 service "sts") and AssumeRoleWithWebIdentity
// (unsigned: the web identity token is the proof).
//
// Endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
// https://sts.<region>.amazonaws.com (https://sts.amazonaws.com without a
// region). Thread safety: every function may run on any thread.
#ifndef TRIBUTARY_LIB_REMOTE_STS_H_
#define TRIBUTARY_LIB_REMOTE_STS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tributary/remote.h"

namespace tributary::remote {

struct AssumeRoleRequest {
  std::string role_arn;
  std::string session_name;
  std::string external_id;            // optional
  std::optional<int> duration_seconds;  // optional (900..43200)
  std::string web_identity_token;     // AssumeRoleWithWebIdentity only
};

// The STS endpoint the environment and region select.
std::string StsEndpoint();

absl::StatusOr<AwsCredentials> AssumeRole(const AssumeRoleRequest& request, const AwsCredentials& source);
absl::StatusOr<AwsCredentials> AssumeRoleWithWebIdentity(const AssumeRoleRequest& request);

// "tributary-<unix micros>": a session name when none is configured.
std::string DefaultSessionName();

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_STS_H_
