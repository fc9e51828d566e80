#include "remote/signing.h"

#include <fmt/format.h>

#include "sigv4/sigv4.h"
#include "util/status_macros.h"

namespace tributary::remote {

absl::StatusOr<std::vector<std::string>> SignedKinesisHeaders(const KinesisRequest& request,
                                                              const AwsCredentials& credentials,
                                                              std::string_view region, absl::Time now) {
  const std::string target = fmt::format("{}{}", kKinesisTargetPrefix, request.action);
  return SignedJsonHeaders("kinesis", JsonRequest{request.host, request.path, kKinesisContentType, target, request.body},
                           credentials, region, now);
}

absl::StatusOr<std::vector<std::string>> SignedJsonHeaders(std::string_view service, const JsonRequest& request,
                                                           const AwsCredentials& credentials,
                                                           std::string_view region, absl::Time now) {
  sigv4::Request r;
  r.method = "POST";
  r.path = request.path.empty() ? std::string_view("/") : request.path;
  r.headers = {{"Host", request.host}, {"Content-Type", request.content_type}, {"X-Amz-Target", request.target}};
  r.payload = request.body;
  sigv4::Credentials c{credentials.access_key_id, credentials.secret_access_key, credentials.session_token};
  TRIBUTARY_ASSIGN_OR_RETURN(sigv4::SignedRequest s, sigv4::Sign(r, c, region, service, now));
  std::vector<std::string> out;
  out.reserve(5);
  out.push_back(fmt::format("Content-Type: {}", request.content_type));
  out.push_back(fmt::format("X-Amz-Target: {}", request.target));
  out.push_back("X-Amz-Date: " + s.amz_date);
  if (!s.security_token.empty()) out.push_back("X-Amz-Security-Token: " + s.security_token);
  out.push_back("Authorization: " + s.authorization);
  return out;
}

}  // namespace tributary::remote
