// The headers of one Kinesis JSON request, signed with AWS Signature
// Version 4 (lib/sigv4) for the remote backend.
#ifndef TRIBUTARY_LIB_REMOTE_SIGNING_H_
#define TRIBUTARY_LIB_REMOTE_SIGNING_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tributary/remote.h"

namespace tributary::remote {

inline constexpr std::string_view kKinesisContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kKinesisTargetPrefix = "Kinesis_20131202.";

struct KinesisRequest {
  std::string_view host;  // the Host header as sent ("host" or "host:port")
  std::string_view path;  // the URL's path ("/" when it has none)
  std::string_view action;  // "PutRecord", ...
  std::string_view body;
};

// "Name: value" lines to send besides Host: Content-Type, X-Amz-Target,
// X-Amz-Date, X-Amz-Security-Token (with a session token) and
// Authorization, signed for service "kinesis" in `region` at `now`.
// Host, Content-Type and X-Amz-Target are among the signed headers.
absl::StatusOr<std::vector<std::string>> SignedKinesisHeaders(const KinesisRequest& request,
                                                              const AwsCredentials& credentials,
                                                              std::string_view region, absl::Time now);

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_SIGNING_H_
